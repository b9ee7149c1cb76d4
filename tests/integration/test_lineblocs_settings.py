"""SiteSettings against the real MariaDB with Lineblocs' reference schema.

KV rows are written through the SQLModel models (so strict mode proves they supply every NOT NULL
column); legacy rows with raw SQL naming every NOT NULL column without a default of the real
tables, which the models do not map.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlmodel import Session

from lineblocs_shared.errors import ConfigError
from lineblocs_shared.models.settings_store import (
    ApiCredentialsKVStore,
    CustomizationsKVStore,
    SettingsKVRow,
)
from lineblocs_shared.site_settings.reader import SiteSettings
from lineblocs_shared.site_settings.values import (
    BillingFrequency,
    BraintreeEnvironment,
    GatewayChoice,
    SmtpEncryption,
    StripeMode,
)

pytestmark = pytest.mark.integration

# The real tables' NOT NULL columns without a DEFAULT (reference TSV): a strict-mode INSERT must
# name them. Values are Laravel's implicit ones.
CUSTOMIZATIONS_REQUIRED: dict[str, Any] = {
    "verification_provider": "",
    "facebook_url": "",
    "instagram_url": "",
    "twitter_url": "",
    "tiktok_url": "",
    "linkedin_url": "",
    "privacy_policy": "",
    "terms_of_service": "",
    "opensips_config": "",
    "customer_satisfaction_survey_url": "",
}
API_CREDENTIALS_REQUIRED: dict[str, Any] = {
    "google_signin_developer_key": "",
    "google_signin_client_id": "",
    "google_signin_app_id": "",
    "msft_signin_client_id": "",
    "msft_signin_client_secret": "",
    "apple_signin_client_id": "",
    "apple_signin_client_secret": "",
    "s3_bucket": "",
}


def insert_legacy_row(engine: Engine, table: str, required: dict[str, Any], **values: Any) -> None:
    row = {**required, **values}
    columns = ", ".join(f"`{name}`" for name in row)
    params = ", ".join(f":{name}" for name in row)
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO `{table}` ({columns}) VALUES ({params})"), row)


def legacy_customizations(engine: Engine, **values: Any) -> None:
    insert_legacy_row(engine, "customizations", CUSTOMIZATIONS_REQUIRED, **values)


def legacy_api_credentials(engine: Engine, **values: Any) -> None:
    insert_legacy_row(engine, "api_credentials", API_CREDENTIALS_REQUIRED, **values)


def put_kv(engine: Engine, model: type[SettingsKVRow], **values: str | int | bool) -> None:
    with Session(engine) as session:
        session.add_all([model.of(key, value) for key, value in values.items()])
        session.commit()


def customizations_kv(engine: Engine, **values: str | int | bool) -> None:
    put_kv(engine, CustomizationsKVStore, **values)


def credentials_kv(engine: Engine, **values: str | int | bool) -> None:
    put_kv(engine, ApiCredentialsKVStore, **values)


@pytest.fixture
def statements(lineblocs_engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement sent to MySQL from now on, as the driver received it."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(lineblocs_engine, "before_cursor_execute", record)
    yield sent
    event.remove(lineblocs_engine, "before_cursor_execute", record)


def reads_of(sent: list[str], table: str) -> list[str]:
    """The SELECTs reading `table` (not a longer name that starts with it)."""
    reads_table = re.compile(rf"\bFROM\s+`?{table}`?(\s|$)")
    return [s for s in sent if s.lstrip().upper().startswith("SELECT") and reads_table.search(s)]


# --- KV values ----------------------------------------------------------------------------


def test_each_value_type_is_read_from_its_slot(lineblocs_engine: Engine) -> None:
    customizations_kv(
        lineblocs_engine,
        payment_gateway="Braintree",  # string
        billing_num_retries=4,  # number
        billing_retry_enabled=True,  # boolean
        grace_period_billing_days="14",  # a number as the admin UI saves it: text
        invoice_due_date_enabled="1",  # a flag as the 2024 migration script copied it
        billing_frequency="per_second",
        default_currency="usd",
    )
    settings = SiteSettings(bind=lineblocs_engine)

    assert settings.payment_gateway is GatewayChoice.BRAINTREE
    assert settings.billing_num_retries == 4
    assert settings.billing_retry_enabled is True
    assert settings.grace_period_billing_days == 14
    assert settings.invoice_due_date_enabled is True
    assert settings.billing_frequency is BillingFrequency.PER_SECOND
    assert settings.default_currency == "USD"


def test_a_value_that_cannot_be_converted_names_its_key(lineblocs_engine: Engine) -> None:
    customizations_kv(lineblocs_engine, billing_num_retries=True, grace_period_billing_days="x")
    settings = SiteSettings(bind=lineblocs_engine)

    with pytest.raises(ConfigError, match="billing_num_retries"):
        _ = settings.billing_num_retries
    with pytest.raises(ConfigError, match="grace_period_billing_days"):
        _ = settings.grace_period_billing_days


def test_an_unknown_value_type_is_refused_only_for_its_key(lineblocs_engine: Engine) -> None:
    with Session(lineblocs_engine) as session:
        session.add(CustomizationsKVStore(key="contact_email", value_type="json"))
        session.add(CustomizationsKVStore.of("mail_provider", "smtp-gateway"))
        session.commit()
    settings = SiteSettings(bind=lineblocs_engine)

    with pytest.raises(ConfigError, match="'contact_email' has value_type 'json'"):
        _ = settings.contact_email
    assert settings.mail_provider == "smtp-gateway"


# --- legacy fallback and defaults ---------------------------------------------------------


def test_absent_kv_keys_fall_back_to_the_legacy_rows(lineblocs_engine: Engine) -> None:
    legacy_customizations(
        lineblocs_engine,
        payment_gateway="braintree",
        billing_retry_enabled=1,
        billing_num_retries=2,
        grace_period_billing_days=10,
        invoice_due_date_enabled=1,
        invoice_due_num_days=30,
        contact_email="ops@example.com",
        customer_satisfaction_survey_enabled=1,
        customer_satisfaction_survey_url="https://survey.example.com",
        default_currency="eur",
        is_trial_enabled=1,
        trial_duration_days=14,
    )
    legacy_api_credentials(
        lineblocs_engine,
        stripe_mode="test",
        stripe_test_private_key="sk_test_legacy",
        smtp_host="smtp.example.com",
        smtp_port="2525",
        smtp_user="mailer@example.com",
        smtp_password="legacy-smtp-pass",
        smtp_tls=1,
    )
    settings = SiteSettings(bind=lineblocs_engine)

    assert settings.payment_gateway is GatewayChoice.BRAINTREE
    assert settings.billing_retry_enabled is True
    assert settings.billing_num_retries == 2
    assert settings.grace_period_billing_days == 10
    assert settings.invoice_due_date_enabled is True
    assert settings.invoice_due_num_days == 30
    assert settings.contact_email == "ops@example.com"
    assert settings.customer_satisfaction_survey_enabled is True
    assert settings.customer_satisfaction_survey_url == "https://survey.example.com"
    assert settings.default_currency == "EUR"
    assert settings.is_trial_enabled is True
    assert settings.trial_duration_days == 14
    assert settings.stripe_mode is StripeMode.TEST
    assert settings.stripe_secret_key == "sk_test_legacy"
    smtp = settings.smtp
    assert (smtp.host, smtp.port, smtp.user) == ("smtp.example.com", 2525, "mailer@example.com")
    assert smtp.password == "legacy-smtp-pass"
    assert smtp.encryption is SmtpEncryption.TLS


def test_a_present_kv_key_wins_even_when_false_or_empty(lineblocs_engine: Engine) -> None:
    legacy_customizations(
        lineblocs_engine,
        billing_retry_enabled=1,
        billing_num_retries=5,
        contact_email="legacy@example.com",
        default_currency="EUR",
    )
    customizations_kv(
        lineblocs_engine,
        billing_retry_enabled=False,
        billing_num_retries=0,
        contact_email="",
        default_currency="",  # blank = not chosen: the default, not the legacy value
    )
    settings = SiteSettings(bind=lineblocs_engine)

    assert settings.billing_retry_enabled is False
    assert settings.billing_num_retries == 0
    assert settings.contact_email == ""
    assert settings.default_currency == "CAD"


def test_defaults_when_neither_table_has_the_setting(lineblocs_engine: Engine) -> None:
    settings = SiteSettings(bind=lineblocs_engine)  # both KV stores and legacy rows empty

    assert settings.payment_gateway is GatewayChoice.STRIPE
    assert settings.stripe_mode is StripeMode.LIVE
    assert settings.default_currency == "CAD"
    assert settings.billing_retry_enabled is False
    assert settings.billing_num_retries == 0
    assert settings.grace_period_billing_days == 7
    assert settings.invoice_due_date_enabled is False
    assert settings.invoice_due_num_days is None
    assert settings.mail_provider == "smtp-gateway"
    assert settings.contact_email == ""
    assert settings.billing_frequency is BillingFrequency.PER_MINUTE
    assert settings.customer_satisfaction_survey_enabled is False
    assert settings.customer_satisfaction_survey_url == ""
    assert settings.is_trial_enabled is False
    assert settings.trial_duration_days is None


def test_null_legacy_columns_give_the_default(lineblocs_engine: Engine) -> None:
    legacy_customizations(lineblocs_engine, invoice_due_num_days=None, trial_duration_days=None)
    settings = SiteSettings(bind=lineblocs_engine)

    assert settings.invoice_due_num_days is None
    assert settings.trial_duration_days is None
    assert settings.grace_period_billing_days == 7  # the column's own default


def test_legacy_columns_missing_on_older_databases_mean_absent(lineblocs_engine: Engine) -> None:
    with lineblocs_engine.begin() as conn:
        conn.execute(
            text(
                "ALTER TABLE customizations"
                " DROP COLUMN is_trial_enabled, DROP COLUMN trial_duration_days"
            )
        )
    legacy_customizations(lineblocs_engine, payment_gateway="braintree")
    settings = SiteSettings(bind=lineblocs_engine)

    assert settings.is_trial_enabled is False
    assert settings.trial_duration_days is None
    assert settings.payment_gateway is GatewayChoice.BRAINTREE


def test_the_admin_form_key_for_invoice_due_days_is_read(lineblocs_engine: Engine) -> None:
    customizations_kv(lineblocs_engine, invoice_due_in_days="14")

    assert SiteSettings(bind=lineblocs_engine).invoice_due_num_days == 14


# --- payment gateways ---------------------------------------------------------------------

STRIPE_KEYS = {
    "stripe_private_key": "sk_live_1",
    "stripe_pub_key": "pk_live_1",
    "stripe_test_private_key": "sk_test_1",
    "stripe_test_pub_key": "pk_test_1",
}


@pytest.mark.parametrize(
    ("mode", "secret", "publishable"),
    [
        ("live", "sk_live_1", "pk_live_1"),
        ("test", "sk_test_1", "pk_test_1"),
        ("", "sk_live_1", "pk_live_1"),
    ],
)
def test_stripe_keys_follow_stripe_mode(
    lineblocs_engine: Engine, mode: str, secret: str, publishable: str
) -> None:
    credentials_kv(lineblocs_engine, stripe_mode=mode, **STRIPE_KEYS)
    settings = SiteSettings(bind=lineblocs_engine)

    assert settings.stripe_secret_key == secret
    assert settings.stripe_publishable_key == publishable


def test_a_missing_stripe_key_is_a_config_error(lineblocs_engine: Engine) -> None:
    credentials_kv(lineblocs_engine, stripe_mode="test", stripe_private_key="sk_live_1")
    settings = SiteSettings(bind=lineblocs_engine)

    with pytest.raises(ConfigError, match="stripe_test_private_key") as raised:
        _ = settings.stripe_secret_key
    assert "sk_live_1" not in str(raised.value)


def test_an_unknown_stripe_mode_is_a_config_error(lineblocs_engine: Engine) -> None:
    credentials_kv(lineblocs_engine, stripe_mode="sandbox", **STRIPE_KEYS)

    with pytest.raises(ConfigError, match="stripe_mode"):
        _ = SiteSettings(bind=lineblocs_engine).stripe_secret_key


def test_an_unknown_payment_gateway_is_a_config_error(lineblocs_engine: Engine) -> None:
    customizations_kv(lineblocs_engine, payment_gateway="paypal")

    with pytest.raises(ConfigError, match=r"payment_gateway.*'paypal'"):
        _ = SiteSettings(bind=lineblocs_engine).payment_gateway


BRAINTREE = {
    "braintree_merchant_id": "merchant-1",
    "braintree_public_key": "public-1",
    "braintree_private_key": "bt-private-secret",
    "braintree_environment": "Sandbox",
}


def test_braintree_credentials(lineblocs_engine: Engine) -> None:
    credentials_kv(lineblocs_engine, **BRAINTREE)
    braintree = SiteSettings(bind=lineblocs_engine).braintree

    assert braintree.merchant_id == "merchant-1"
    assert braintree.public_key == "public-1"
    assert braintree.private_key == "bt-private-secret"
    assert braintree.environment is BraintreeEnvironment.SANDBOX
    assert "bt-private-secret" not in repr(braintree)


@pytest.mark.parametrize("missing", sorted(BRAINTREE))
def test_missing_braintree_credentials_name_the_key(lineblocs_engine: Engine, missing: str) -> None:
    credentials_kv(lineblocs_engine, **{k: v for k, v in BRAINTREE.items() if k != missing})

    with pytest.raises(ConfigError, match=missing):
        _ = SiteSettings(bind=lineblocs_engine).braintree


def test_empty_braintree_credential_is_missing(lineblocs_engine: Engine) -> None:
    credentials_kv(lineblocs_engine, **{**BRAINTREE, "braintree_private_key": "  "})

    with pytest.raises(ConfigError, match="braintree_private_key"):
        _ = SiteSettings(bind=lineblocs_engine).braintree


# --- mail ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("tls", SmtpEncryption.TLS),
        ("ssl", SmtpEncryption.SSL),
        ("disabled", SmtpEncryption.NONE),
        ("1", SmtpEncryption.TLS),  # the setup wizard's "TLS on"
        ("0", SmtpEncryption.NONE),
    ],
)
def test_smtp_settings_from_the_kv_store(
    lineblocs_engine: Engine, stored: str, expected: SmtpEncryption
) -> None:
    credentials_kv(
        lineblocs_engine,
        smtp_host="smtp.example.com",
        smtp_port="465",
        smtp_user="mailer@example.com",
        smtp_password="kv-smtp-pass",
        smtp_tls=stored,
    )
    smtp = SiteSettings(bind=lineblocs_engine).smtp

    assert (smtp.host, smtp.port, smtp.user) == ("smtp.example.com", 465, "mailer@example.com")
    assert smtp.encryption is expected
    assert "kv-smtp-pass" not in repr(smtp)


def test_smtp_without_a_host_is_a_config_error(lineblocs_engine: Engine) -> None:
    with pytest.raises(ConfigError, match="smtp_host"):
        _ = SiteSettings(bind=lineblocs_engine).smtp


# --- secrets, SQL and caching -------------------------------------------------------------


def test_secrets_never_appear_in_the_reader_repr(lineblocs_engine: Engine) -> None:
    credentials_kv(lineblocs_engine, smtp_host="h", smtp_password="pw-secret", **STRIPE_KEYS)
    settings = SiteSettings(bind=lineblocs_engine)
    _ = settings.stripe_secret_key, settings.smtp

    for text_form in (repr(settings), str(settings)):
        assert "sk_live_1" not in text_form
        assert "pw-secret" not in text_form
    assert "api_credentials_kv_store" in repr(settings)


def test_key_is_back_quoted_in_the_sql_sent_to_mysql(
    lineblocs_engine: Engine, statements: list[str]
) -> None:
    customizations_kv(lineblocs_engine, contact_email="ops@example.com")
    statements.clear()

    assert SiteSettings(bind=lineblocs_engine).contact_email == "ops@example.com"
    (query,) = reads_of(statements, "customizations_kv_store")
    assert "`key`" in query


def test_one_query_per_kv_store_however_many_settings_are_read(
    lineblocs_engine: Engine, statements: list[str]
) -> None:
    customizations_kv(lineblocs_engine, payment_gateway="stripe", billing_num_retries=3)
    credentials_kv(lineblocs_engine, smtp_host="smtp.example.com", **STRIPE_KEYS)
    statements.clear()
    settings = SiteSettings(bind=lineblocs_engine)

    for _ in range(3):
        _ = (
            settings.payment_gateway,
            settings.billing_num_retries,
            settings.billing_retry_enabled,
            settings.grace_period_billing_days,
            settings.invoice_due_num_days,
            settings.default_currency,
            settings.mail_provider,
            settings.stripe_secret_key,
            settings.stripe_publishable_key,
            settings.smtp,
        )

    assert len(reads_of(statements, "customizations_kv_store")) == 1
    assert len(reads_of(statements, "api_credentials_kv_store")) == 1
    # Absent keys read each legacy table once as well (no row here), never again.
    assert len(reads_of(statements, "customizations")) <= 1
    assert len(reads_of(statements, "api_credentials")) <= 1


def test_refresh_sees_what_the_admin_ui_changed(
    lineblocs_engine: Engine, statements: list[str]
) -> None:
    customizations_kv(lineblocs_engine, billing_num_retries=1)
    settings = SiteSettings(bind=lineblocs_engine)
    assert settings.billing_num_retries == 1
    with lineblocs_engine.begin() as conn:
        conn.execute(text("UPDATE customizations_kv_store SET number_value = 2"))

    assert settings.billing_num_retries == 1  # cached for the life of the reader
    settings.refresh()
    assert settings.billing_num_retries == 2
    assert len(reads_of(statements, "customizations_kv_store")) == 2


def test_a_session_can_be_the_bind(lineblocs_engine: Engine) -> None:
    customizations_kv(lineblocs_engine, payment_gateway="braintree")

    with Session(lineblocs_engine) as session:
        settings = SiteSettings(bind=session)
        assert settings.payment_gateway is GatewayChoice.BRAINTREE
        assert settings.is_trial_enabled is False  # the legacy read runs in the session too
