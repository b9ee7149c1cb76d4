"""Every delivered body is read into a message, or refused with a reason, before Dramatiq acts."""

from __future__ import annotations

import json
from typing import Any

import dramatiq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lineblocs_shared.queue.envelope import MAX_ID_LENGTH, Refusal, read_envelope

LIMIT = 256 * 1024
GOOD: dict[str, Any] = {
    "queue_name": "billing",
    "actor_name": "bill_subscription",
    "args": [],
    "kwargs": {"subscription_id": 7},
    "options": {"retries": 1, "eta": 1_764_979_200_000},
    "message_id": "5b1f4a4e-8d0c-4c43-9a07-4c2e0c6c1a11",
    "message_timestamp": 1_764_979_200_000,
}


def read(body: bytes | dict[str, Any], queue: str = "billing") -> dramatiq.Message[Any] | Refusal:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return read_envelope(raw, queue_name=queue, max_bytes=LIMIT)


def refusal(body: bytes | dict[str, Any], queue: str = "billing") -> Refusal:
    result = read(body, queue)
    assert isinstance(result, Refusal), result
    return result


def test_a_message_of_ours_is_read_as_dramatiq_would() -> None:
    message = read(GOOD)
    assert isinstance(message, dramatiq.Message)
    assert message.asdict() == {**GOOD, "args": ()}


def test_the_same_message_from_a_dramatiq_publisher_is_read() -> None:
    sent = dramatiq.Message("maintenance", "purge_logs", (), {}, {"scheduled_at": "2026-12-06"})
    assert read(sent.encode(), "maintenance") == sent


def test_a_body_over_the_limit_is_refused_before_it_is_decoded() -> None:
    body = b"\xff" * (LIMIT + 1)  # would not even decode: the size is enough
    refused = refusal(body)
    assert (refused.reason, refused.size) == ("oversized", LIMIT + 1)
    assert refused.message_id is None


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"\xff\xfe{}", "not UTF-8"),
        (b"<xml/>", "not JSON"),
        (b"[" * 50_000, "not JSON we read"),
        (b'{"n": ' + b"9" * 5_000 + b"}", "not JSON we read"),
        (b"[1, 2]", "JSON list, not an object"),
        (b'"text"', "JSON str, not an object"),
        ({**GOOD, "extra": 1}, "unknown ['extra']"),
        ({k: v for k, v in GOOD.items() if k != "actor_name"}, "missing ['actor_name']"),
        ({**GOOD, "options": [1]}, "options must be an object"),
        ({**GOOD, "kwargs": "subscription_id=7"}, "kwargs must be an object"),
        ({**GOOD, "args": {"a": 1}}, "args must be an array"),
        ({**GOOD, "queue_name": "maintenance"}, "but consumed from billing"),
        ({**GOOD, "message_timestamp": "yesterday"}, "message_timestamp 'yesterday'"),
        ({**GOOD, "message_timestamp": True}, "message_timestamp True"),
        ({**GOOD, "message_id": "m" * (MAX_ID_LENGTH + 1)}, "message_id must be a string"),
        ({**GOOD, "actor_name": "a" * 97}, "actor_name must be a string"),
        ({**GOOD, "actor_name": 7}, "actor_name must be a string"),
        ({**GOOD, "options": {"retries": "3"}}, "'retries' must be a whole number"),
        ({**GOOD, "options": {"max_retries": 2**60}}, "'max_retries' must be a whole number"),
        ({**GOOD, "options": {"eta": "soon"}}, "'eta' must be a number"),
        ({**GOOD, "options": {"throws": "ValueError"}}, "'throws' is not accepted"),
        ({**GOOD, "options": {"on_success": "bill_subscription"}}, "'on_success' is not accepted"),
        ({**GOOD, "options": {"pipe_target": GOOD}}, "'pipe_target' is not accepted"),
        ({**GOOD, "options": {"scheduled_at": "at noon"}}, "'scheduled_at' is not an ISO-8601"),
        ({**GOOD, "options": {"event_id": 5}}, "'event_id' must be a string"),
    ],
)
def test_a_malformed_body_is_refused_with_what_is_wrong(
    body: bytes | dict[str, Any], problem: str
) -> None:
    refused = refusal(body)
    assert refused.reason == "malformed"
    assert problem in refused.problem


def test_a_refusal_keeps_the_names_it_could_read_and_only_usable_ones() -> None:
    readable = refusal({**GOOD, "options": [1]})
    assert (readable.message_id, readable.actor_name) == (GOOD["message_id"], GOOD["actor_name"])
    too_long = refusal({**GOOD, "message_id": "m" * 500, "actor_name": "a" * 500})
    assert (too_long.message_id, too_long.actor_name) == (None, None)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.dictionaries(st.sampled_from([*sorted(GOOD), "extra"]), json_values, max_size=9).map(
            lambda fields: json.dumps(fields).encode()
        ),
        st.dictionaries(st.sampled_from(sorted(GOOD)), json_values, max_size=3).map(
            lambda changes: json.dumps({**GOOD, **changes}).encode()
        ),
    )
)
def test_any_body_is_read_or_refused_never_raised(body: bytes) -> None:
    result = read_envelope(body, queue_name="billing", max_bytes=LIMIT)
    if isinstance(result, Refusal):
        assert result.reason in ("malformed", "oversized")
        assert result.problem
    else:
        assert result.queue_name == "billing"
        assert isinstance(result.options, dict)
        assert isinstance(result.kwargs, dict)
