"""Conversions of raw Lineblocs setting values, and the reader over an in-memory SQLite database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.dialects import mysql
from sqlmodel import Session

from lineblocs_shared.errors import ConfigError
from lineblocs_shared.models.settings_store import (
    ApiCredentialsKVStore,
    CustomizationsKVStore,
    LegacyApiCredentials,
    LegacyCustomizations,
)
from lineblocs_shared.site_settings.reader import SiteSettings
from lineblocs_shared.site_settings.source import CUSTOMIZATIONS, Found, RawValue
from lineblocs_shared.site_settings.values import (
    BraintreeCredentials,
    BraintreeEnvironment,
    GatewayChoice,
    SmtpEncryption,
    SmtpSettings,
    StripeMode,
    to_bool,
    to_choice,
    to_int,
    to_smtp_encryption,
    to_str,
)
from tests.support.settings_store import settings_store


def found(raw: RawValue, key: str = "some_key") -> Found:
    return Found("customizations_kv_store", key, raw)


# --- conversions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *[(True, True), (False, False), (1, True), (0, False), ("1", True), ("0", False)],
        *[("true", True), ("FALSE", False), (" yes ", True), ("off", False)],
    ],
)
def test_to_bool_accepts_lossless_forms(raw: RawValue, expected: bool) -> None:
    assert to_bool(found(raw)) is expected


@pytest.mark.parametrize("raw", [2, -1, "maybe", "enabled"])
def test_to_bool_refuses_anything_else_naming_the_key(raw: RawValue) -> None:
    with pytest.raises(ConfigError, match="billing_retry_enabled"):
        to_bool(found(raw, "billing_retry_enabled"))


@pytest.mark.parametrize(("raw", "expected"), [(3, 3), ("3", 3), (" 14 ", 14), ("-2", -2)])
def test_to_int_accepts_numbers_and_numeric_text(raw: RawValue, expected: int) -> None:
    assert to_int(found(raw)) == expected


@pytest.mark.parametrize("raw", [True, "3.5", "three", "0x10"])
def test_to_int_refuses_anything_else(raw: RawValue) -> None:
    with pytest.raises(ConfigError, match="billing_num_retries"):
        to_int(found(raw, "billing_num_retries"))


def test_to_str_trims_and_accepts_numbers_but_not_booleans() -> None:
    assert to_str(found("  sk_live_1\n")) == "sk_live_1"
    assert to_str(found(587)) == "587"
    with pytest.raises(ConfigError, match="smtp_user"):
        to_str(found(True, "smtp_user"))


def test_to_str_errors_never_show_the_value() -> None:
    with pytest.raises(ConfigError) as raised:
        to_str(found(True, "stripe_private_key"))
    assert "True" not in str(raised.value)


def test_to_choice_is_case_insensitive_and_lists_the_choices() -> None:
    assert to_choice(found("Braintree"), GatewayChoice) is GatewayChoice.BRAINTREE
    assert to_choice(found("TEST"), StripeMode) is StripeMode.TEST
    with pytest.raises(ConfigError, match=r"'payment_gateway' = 'paypal' is not one of 'stripe'"):
        to_choice(found("paypal", "payment_gateway"), GatewayChoice)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("tls", SmtpEncryption.TLS),
        ("SSL", SmtpEncryption.SSL),
        ("disabled", SmtpEncryption.NONE),
        ("1", SmtpEncryption.TLS),  # the setup wizard's "TLS on"
        ("0", SmtpEncryption.NONE),
        (True, SmtpEncryption.TLS),  # the legacy TINYINT(1)
        (False, SmtpEncryption.NONE),
        (1, SmtpEncryption.TLS),
        (0, SmtpEncryption.NONE),
    ],
)
def test_smtp_encryption_from_every_form_lineblocs_wrote(
    raw: RawValue, expected: SmtpEncryption
) -> None:
    assert to_smtp_encryption(found(raw)) is expected


def test_smtp_encryption_refuses_unknown_modes() -> None:
    with pytest.raises(ConfigError, match="smtp_tls"):
        to_smtp_encryption(found("starttls-maybe", "smtp_tls"))


def test_where_tells_kv_from_legacy() -> None:
    assert found("x", "contact_email").where() == "customizations_kv_store key 'contact_email'"
    legacy = Found("customizations", "contact_email", "x", legacy=True)
    assert legacy.where() == "legacy customizations.contact_email"


# --- models -------------------------------------------------------------------------------


def test_kv_rows_are_built_in_the_slot_of_the_value_type() -> None:
    flag = CustomizationsKVStore.of("billing_retry_enabled", True)
    count = CustomizationsKVStore.of("billing_num_retries", 3)
    word = ApiCredentialsKVStore.of("stripe_mode", "test")

    assert (flag.value_type, flag.boolean_value, flag.string_value) == ("boolean", True, "")
    assert (count.value_type, count.number_value, count.boolean_value) == ("number", 3, False)
    assert (word.value_type, word.string_value, word.number_value) == ("string", "test", 0)
    assert isinstance(word, ApiCredentialsKVStore)


def test_key_is_back_quoted_for_mysql() -> None:
    query = select(CUSTOMIZATIONS.kv.c.key)
    assert "`key`" in str(query.compile(dialect=mysql.dialect()))


def test_secrets_are_not_in_model_or_dataclass_reprs() -> None:
    kv = ApiCredentialsKVStore.of("stripe_private_key", "sk_live_secret")
    legacy = LegacyApiCredentials(stripe_private_key="sk_live_secret", smtp_password="pw-secret")
    braintree = BraintreeCredentials("m", "p", "bt-secret", BraintreeEnvironment.SANDBOX)
    smtp = SmtpSettings("h", 587, "u", "pw-secret", SmtpEncryption.TLS)

    for shown in (repr(kv), repr(legacy), repr(braintree), repr(smtp), str(smtp)):
        assert "secret" not in shown


# --- the reader over SQLite (the integration tests run it on MariaDB) ----------------------


@pytest.fixture
def sqlite_engine() -> Iterator[Engine]:
    with settings_store() as engine:
        yield engine


def test_reader_over_sqlite_kv_then_legacy_then_default(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session:
        session.add(CustomizationsKVStore.of("billing_num_retries", "2"))
        session.add(LegacyCustomizations(customer_satisfaction_survey_url="", contact_email="a@b"))
        session.add(LegacyApiCredentials(stripe_mode="test", stripe_test_private_key="sk_t"))
        session.commit()

        settings = SiteSettings(bind=session)
        assert settings.billing_num_retries == 2
        assert settings.contact_email == "a@b"
        assert settings.stripe_secret_key == "sk_t"
        assert settings.grace_period_billing_days == 7


def test_reader_tolerates_a_legacy_table_without_the_newer_columns(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        conn.execute(text("ALTER TABLE customizations DROP COLUMN trial_duration_days"))
        conn.execute(
            text(
                "INSERT INTO customizations (payment_gateway, mail_provider, billing_num_retries,"
                " billing_retry_enabled, contact_email, default_currency,"
                " grace_period_billing_days, billing_frequency,"
                " customer_satisfaction_survey_enabled, customer_satisfaction_survey_url,"
                " invoice_due_date_enabled, is_trial_enabled, created_at, updated_at)"
                " VALUES ('stripe', 'smtp-gateway', 0, 0, '', 'CAD', 3, 'PER_MINUTE', 0, '',"
                " 0, 1, '2024-01-01 00:00:00', '2024-01-01 00:00:00')"
            )
        )
    settings = SiteSettings(bind=sqlite_engine)

    assert settings.trial_duration_days is None
    assert settings.is_trial_enabled is True
    assert settings.grace_period_billing_days == 3


def test_reader_tolerates_a_missing_legacy_table(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        conn.execute(text("DROP TABLE api_credentials"))

    assert SiteSettings(bind=sqlite_engine).stripe_mode is StripeMode.LIVE
