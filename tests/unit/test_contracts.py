"""Message contracts: the only way services address each other."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lineblocs_shared.contracts import PURGE_LOGS, PurgeLogs, Queues


def test_a_contract_message_targets_its_service_queue_and_actor() -> None:
    message = PURGE_LOGS.message(PurgeLogs(retention_days=30))
    assert message.queue_name == Queues.MAINTENANCE == "maintenance"
    assert message.actor_name == "purge_logs"
    assert message.args == ()
    assert message.kwargs == {"retention_days": 30}


def test_parse_round_trips_the_payload() -> None:
    sent = PURGE_LOGS.message(PurgeLogs(retention_days=14))
    assert PURGE_LOGS.parse(sent.kwargs) == PurgeLogs(retention_days=14)


@pytest.mark.parametrize(
    "kwargs", [{"retention_days": 0}, {"retention_days": "soon"}, {"unexpected": 1}]
)
def test_parse_refuses_a_bad_payload(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        PURGE_LOGS.parse(kwargs)
