"""PaymentSettings: where the gateways are, and what a deployed process refuses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lineblocs_shared.errors import ConfigError
from lineblocs_shared.payments import PaymentSettings, load_payment_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "ENVIRONMENT",
        "PAYMENT_GATEWAY_OVERRIDE",
        "STRIPE_API_BASE",
        "BRAINTREE_API_BASE",
        "PAYMENT_TIMEOUT_S",
        "PAYMENT_NETWORK_RETRIES",
        "FAKE_GATEWAY_LATENCY_MS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir("/")  # no .env of the developer's


def test_defaults_use_the_real_gateways_chosen_by_lineblocs() -> None:
    settings = load_payment_settings()

    assert settings.payment_gateway_override == ""
    assert (settings.stripe_api_base, settings.braintree_api_base) == ("", "")
    assert (settings.payment_timeout_s, settings.payment_network_retries) == (20.0, 2)


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMENT_GATEWAY_OVERRIDE", "Fake")
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:8420/")
    monkeypatch.setenv("BRAINTREE_API_BASE", "http://127.0.0.1:3000")
    monkeypatch.setenv("FAKE_GATEWAY_LATENCY_MS", "50")

    settings = load_payment_settings()

    assert settings.payment_gateway_override == "fake"
    assert settings.stripe_api_base == "http://127.0.0.1:8420"
    assert settings.braintree_api_base == "http://127.0.0.1:3000"
    assert settings.fake_gateway_latency_ms == 50


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_the_fake_gateway_is_refused_when_deployed(environment: str) -> None:
    with pytest.raises(ConfigError, match="PAYMENT_GATEWAY_OVERRIDE=fake is refused"):
        load_payment_settings(environment=environment, payment_gateway_override="fake")


def test_a_deployed_process_talks_to_gateways_over_https_only() -> None:
    with pytest.raises(ConfigError, match="STRIPE_API_BASE must be https"):
        load_payment_settings(environment="production", stripe_api_base="http://proxy:8080")
    deployed = load_payment_settings(
        environment="production", stripe_api_base="https://egress.internal"
    )
    assert deployed.stripe_api_base == "https://egress.internal"


@pytest.mark.parametrize(
    "base", ["ftp://host", "api.stripe.com", "https://host/v1", "http://", "https://h?x=1"]
)
def test_an_api_base_is_scheme_host_and_port_only(base: str) -> None:
    with pytest.raises(ConfigError, match="STRIPE_API_BASE"):
        load_payment_settings(stripe_api_base=base)


def test_an_unknown_override_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="PAYMENT_GATEWAY_OVERRIDE"):
        load_payment_settings(payment_gateway_override="paypal")


def test_settings_are_frozen() -> None:
    settings = PaymentSettings()
    with pytest.raises(ValueError, match="frozen"):
        settings.payment_timeout_s = 1  # type: ignore[misc]


def test_env_example_lists_every_payment_setting() -> None:
    example = (Path(__file__).resolve().parents[3] / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M))
    assert {name.upper() for name in PaymentSettings.model_fields} <= listed
