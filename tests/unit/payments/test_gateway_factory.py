"""gateway_for: Lineblocs' payment_gateway (or the override) picks the adapter; bad settings fail
before any gateway is called, naming the setting and never showing a secret."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from lineblocs_shared.errors import ConfigError
from lineblocs_shared.models.settings_store import ApiCredentialsKVStore, CustomizationsKVStore
from lineblocs_shared.payments import FakeGateway, PaymentSettings, gateway_for
from lineblocs_shared.payments.braintree_gateway import BraintreeGateway, braintree_environment
from lineblocs_shared.payments.stripe_gateway import StripeGateway
from lineblocs_shared.reliability.failures.taxonomy import ErrorKind, classify
from lineblocs_shared.site_settings.reader import SiteSettings
from lineblocs_shared.site_settings.values import BraintreeEnvironment, GatewayChoice, StripeMode
from tests.support.gateway_settings import GatewaySettingsValues as Settings

PAYMENTS = PaymentSettings(
    environment="test",
    payment_gateway_override="",
    stripe_api_base="",
    braintree_api_base="",
)


def test_stripe_is_built_from_lineblocs_settings_with_its_currency() -> None:
    gateway = gateway_for(Settings(default_currency="usd"), PAYMENTS)

    assert isinstance(gateway, StripeGateway)
    assert (gateway.name, gateway.currency) == ("stripe", "USD")


def test_braintree_is_chosen_by_the_payment_gateway_setting() -> None:
    gateway = gateway_for(Settings(payment_gateway=GatewayChoice.BRAINTREE), PAYMENTS)

    assert isinstance(gateway, BraintreeGateway)
    assert gateway.name == "braintree"


def test_the_override_replaces_the_gateway_with_the_fake_and_its_latency() -> None:
    payments = PaymentSettings(
        environment="development",
        payment_gateway_override="fake",
        fake_gateway_latency_ms=50,
    )

    gateway = gateway_for(Settings(stripe_secret_key="garbage"), payments)

    assert isinstance(gateway, FakeGateway)
    assert gateway.latency_s == 0.05


@pytest.mark.parametrize(
    ("mode", "key", "message"),
    [
        (StripeMode.TEST, "pk_test_abc", "publishable key"),
        (StripeMode.TEST, "whsec_abc", "not a Stripe secret key"),
        (StripeMode.TEST, "sk_live_abc", "holds a live key but stripe_mode is 'test'"),
        (StripeMode.LIVE, "sk_test_abc", "holds a test key but stripe_mode is 'live'"),
    ],
)
def test_a_wrong_stripe_key_is_refused_before_any_call(
    mode: StripeMode, key: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        gateway_for(Settings(stripe_mode=mode, stripe_secret_key=key), PAYMENTS)

    assert classify(raised.value) is ErrorKind.FATAL
    assert key not in str(raised.value)


def test_restricted_keys_of_the_right_mode_are_accepted() -> None:
    live = Settings(stripe_mode=StripeMode.LIVE, stripe_secret_key="rk_live_x")
    assert isinstance(gateway_for(live, PAYMENTS), StripeGateway)


def test_a_currency_without_cents_is_refused() -> None:
    with pytest.raises(ConfigError, match="JPY has no cents"):
        gateway_for(Settings(default_currency="JPY"), PAYMENTS)


def put(
    engine: Engine, model: type[CustomizationsKVStore | ApiCredentialsKVStore], **values: str
) -> None:
    with Session(engine) as session:
        session.add_all([model.of(key, value) for key, value in values.items()])
        session.commit()


def test_the_real_lineblocs_settings_choose_and_configure_the_gateway(
    sqlite_jobs_engine: Engine,
) -> None:
    put(sqlite_jobs_engine, CustomizationsKVStore, payment_gateway="stripe", default_currency="eur")
    put(
        sqlite_jobs_engine,
        ApiCredentialsKVStore,
        stripe_mode="test",
        stripe_test_private_key="sk_test_1",
    )

    gateway = gateway_for(SiteSettings(bind=sqlite_jobs_engine), PAYMENTS)

    assert (gateway.name, gateway.currency) == ("stripe", "EUR")


def test_missing_braintree_credentials_are_a_config_error_naming_the_key(
    sqlite_jobs_engine: Engine,
) -> None:
    put(sqlite_jobs_engine, CustomizationsKVStore, payment_gateway="braintree")
    put(sqlite_jobs_engine, ApiCredentialsKVStore, braintree_environment="sandbox")

    with pytest.raises(ConfigError, match="braintree_merchant_id"):
        gateway_for(SiteSettings(bind=sqlite_jobs_engine), PAYMENTS)


@pytest.mark.parametrize(
    ("environment", "base", "url"),
    [
        (BraintreeEnvironment.SANDBOX, None, "https://api.sandbox.braintreegateway.com:443"),
        (BraintreeEnvironment.PRODUCTION, None, "https://api.braintreegateway.com:443"),
        (BraintreeEnvironment.SANDBOX, "http://127.0.0.1:3000", "http://127.0.0.1:3000"),
        (BraintreeEnvironment.PRODUCTION, "https://bt.internal:8443", "https://bt.internal:8443"),
        (BraintreeEnvironment.SANDBOX, "https://bt.internal", "https://bt.internal:443"),
    ],
)
def test_braintree_api_base_sets_scheme_host_and_port(
    environment: BraintreeEnvironment, base: str | None, url: str
) -> None:
    assert braintree_environment(environment, base).base_url == url
