"""Typed Lineblocs settings (billing, payment gateways, mail), as the admin UI last saved them.

    settings = SiteSettings(bind=engine)   # or bind=session; one instance per job run
    if settings.payment_gateway is GatewayChoice.STRIPE:
        stripe_key = settings.stripe_secret_key

Each value comes from `customizations_kv_store` / `api_credentials_kv_store`; when the key is
absent there, from the frozen legacy `customizations` / `api_credentials` row; when neither has
it, from the default documented on its accessor (the legacy column's default).

A key that is present but blank ('' after trimming) does not fall back to the legacy table (the
KV stores are authoritative since 2024): it means "not chosen", so it yields the accessor's
default, or a ConfigError for a credential, which has none. Values are converted to the type
asked for only when that is lossless (`lineblocs_settings_values`); otherwise ConfigError names
the key. Secret values never appear in a repr or an error message.
"""

from __future__ import annotations

from lineblocs_shared.errors import ConfigError
from lineblocs_shared.site_settings.source import (
    API_CREDENTIALS,
    CUSTOMIZATIONS,
    Bind,
    Found,
    SettingsSource,
    SettingsTables,
)
from lineblocs_shared.site_settings.values import (
    AwsS3Settings,
    BillingFrequency,
    BraintreeCredentials,
    BraintreeEnvironment,
    E,
    GatewayChoice,
    MailgunCredentials,
    SmtpEncryption,
    SmtpSettings,
    StripeMode,
    to_bool,
    to_choice,
    to_int,
    to_smtp_encryption,
    to_str,
)

__all__ = [
    "AwsS3Settings",
    "BillingFrequency",
    "BraintreeCredentials",
    "BraintreeEnvironment",
    "GatewayChoice",
    "SiteSettings",
    "SmtpEncryption",
    "SmtpSettings",
    "StripeMode",
]


class SiteSettings:
    """Lineblocs' own settings, read once per instance (see the module docstring)."""

    def __init__(self, *, bind: Bind) -> None:
        self._source = SettingsSource(bind)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(loaded={self._source.loaded_tables()})"

    def preload(self) -> SiteSettings:
        """Read every settings table now: a reader shared across runs must never query later,
        inside some run's transaction (on SQLite a second connection would wait on it)."""
        self._source.load(CUSTOMIZATIONS, API_CREDENTIALS)
        return self

    def refresh(self) -> None:
        """Re-read the database on next access (e.g. a long job wanting fresh settings)."""
        self._source.refresh()

    # --- helpers: one per kind of value ----------------------------------------------------

    def _found(self, tables: SettingsTables, key: str, *aliases: str) -> Found | None:
        """The key's value, or None when absent, NULL, or blank (blank = not chosen)."""
        found = self._source.lookup(tables, key, *aliases)
        if found is None or (isinstance(found.raw, str) and not found.raw.strip()):
            return None
        return found

    def _str(self, tables: SettingsTables, key: str, *, default: str = "") -> str:
        found = self._found(tables, key)
        return to_str(found) if found else default

    def _bool(self, tables: SettingsTables, key: str) -> bool:
        found = self._found(tables, key)
        return to_bool(found) if found else False  # every flag here defaults to off

    def _count(self, key: str, *aliases: str) -> int | None:
        """A customization counting days or retries: a whole number >= 0, None when unset."""
        found = self._found(CUSTOMIZATIONS, key, *aliases)
        if found is None:
            return None
        value = to_int(found)
        if value < 0:
            raise ConfigError(f"{found.where()} = {value} must not be negative")
        return value

    def _choice(self, tables: SettingsTables, key: str, choices: type[E], default: E) -> E:
        found = self._found(tables, key)
        return to_choice(found, choices) if found else default

    def _required(self, key: str, *, what: str) -> Found:
        """A credential: it has no default, so absent or blank is an error."""
        found = self._found(API_CREDENTIALS, key)
        if found is None:
            raise ConfigError(
                f"{what} is not configured: '{key}' is absent or empty"
                " (api_credentials_kv_store, then legacy api_credentials)"
            )
        return found

    def _credential(self, key: str, *, what: str) -> str:
        return to_str(self._required(key, what=what))

    # --- billing and payment gateways (customizations, api_credentials) ------------------

    @property
    def payment_gateway(self) -> GatewayChoice:
        """'stripe' (default, as the legacy column) or 'braintree'; anything else: ConfigError."""
        return self._choice(CUSTOMIZATIONS, "payment_gateway", GatewayChoice, GatewayChoice.STRIPE)

    @property
    def stripe_mode(self) -> StripeMode:
        """'live' (default: the legacy column's '' means never chosen) or 'test'."""
        return self._choice(API_CREDENTIALS, "stripe_mode", StripeMode, StripeMode.LIVE)

    @property
    def stripe_secret_key(self) -> str:
        """stripe_private_key, or stripe_test_private_key in test mode."""
        mode = self.stripe_mode
        key = "stripe_test_private_key" if mode is StripeMode.TEST else "stripe_private_key"
        return self._credential(key, what=f"the Stripe secret key (stripe_mode={mode.value})")

    @property
    def stripe_publishable_key(self) -> str:
        """stripe_pub_key, or stripe_test_pub_key in test mode."""
        mode = self.stripe_mode
        key = "stripe_test_pub_key" if mode is StripeMode.TEST else "stripe_pub_key"
        return self._credential(key, what=f"the Stripe publishable key (stripe_mode={mode.value})")

    @property
    def braintree(self) -> BraintreeCredentials:
        """KV store only: the legacy api_credentials table has no Braintree columns."""
        environment = self._required("braintree_environment", what="the Braintree environment")
        return BraintreeCredentials(
            merchant_id=self._credential("braintree_merchant_id", what="the Braintree merchant id"),
            public_key=self._credential("braintree_public_key", what="the Braintree public key"),
            private_key=self._credential("braintree_private_key", what="the Braintree private key"),
            environment=to_choice(environment, BraintreeEnvironment),
        )

    @property
    def default_currency(self) -> str:
        """ISO 4217 code, upper-case; 'CAD' by default, as the legacy column."""
        found = self._found(CUSTOMIZATIONS, "default_currency")
        currency = to_str(found).upper() if found else "CAD"
        if found and not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
            raise ConfigError(f"{found.where()} = {currency!r} is not an ISO 4217 code")
        return currency

    @property
    def billing_frequency(self) -> BillingFrequency:
        """How calls are rated: PER_MINUTE (default) or PER_SECOND."""
        default = BillingFrequency.PER_MINUTE
        return self._choice(CUSTOMIZATIONS, "billing_frequency", BillingFrequency, default)

    @property
    def billing_retry_enabled(self) -> bool:
        """Dunning on or off (default off)."""
        return self._bool(CUSTOMIZATIONS, "billing_retry_enabled")

    @property
    def billing_num_retries(self) -> int:
        """Retries of a failed invoice, >= 0 (default 0; billing rules read 0 as 3 when enabled)."""
        retries = self._count("billing_num_retries")
        return 0 if retries is None else retries

    @property
    def grace_period_billing_days(self) -> int:
        """Days an overdue invoice is tolerated before suspension (default 7)."""
        days = self._count("grace_period_billing_days")
        return 7 if days is None else days

    @property
    def invoice_due_date_enabled(self) -> bool:
        return self._bool(CUSTOMIZATIONS, "invoice_due_date_enabled")

    @property
    def invoice_due_num_days(self) -> int | None:
        """Days until an invoice is due, or None; the admin form saves `invoice_due_in_days`."""
        return self._count("invoice_due_num_days", "invoice_due_in_days")

    @property
    def is_trial_enabled(self) -> bool:
        return self._bool(CUSTOMIZATIONS, "is_trial_enabled")

    @property
    def trial_duration_days(self) -> int | None:
        return self._count("trial_duration_days")

    # --- notifications -------------------------------------------------------------------

    @property
    def mail_provider(self) -> str:
        """'smtp-gateway' (default) is the only provider the site sends mail with."""
        return self._str(CUSTOMIZATIONS, "mail_provider", default="smtp-gateway").lower()

    @property
    def smtp(self) -> SmtpSettings:
        """The SMTP server mail goes through; ConfigError without a host."""
        encryption = self._found(API_CREDENTIALS, "smtp_tls")
        return SmtpSettings(
            host=self._credential("smtp_host", what="the SMTP host"),
            port=self._smtp_port(),
            user=self._str(API_CREDENTIALS, "smtp_user"),
            password=self._str(API_CREDENTIALS, "smtp_password"),
            encryption=to_smtp_encryption(encryption) if encryption else SmtpEncryption.NONE,
        )

    def _smtp_port(self) -> int:
        found = self._found(API_CREDENTIALS, "smtp_port")
        if found is None:
            return 587  # the setup wizard's own default (mail submission)
        port = to_int(found)
        if not 0 < port < 65536:
            raise ConfigError(f"{found.where()} = {port} is not a TCP port")
        return port

    @property
    def mailgun(self) -> MailgunCredentials:
        """Mailgun's sending domain and API key (mail_provider = mailgun); ConfigError if unset."""
        return MailgunCredentials(
            domain=self._credential("mailgun_domain", what="the Mailgun domain"),
            api_key=self._credential("mailgun_api_key", what="the Mailgun API key"),
        )

    @property
    def contact_email(self) -> str:
        return self._str(CUSTOMIZATIONS, "contact_email")

    @property
    def customer_satisfaction_survey_enabled(self) -> bool:
        return self._bool(CUSTOMIZATIONS, "customer_satisfaction_survey_enabled")

    @property
    def customer_satisfaction_survey_url(self) -> str:
        return self._str(CUSTOMIZATIONS, "customer_satisfaction_survey_url")

    # --- recordings (api_credentials) ----------------------------------------------------

    @property
    def aws_access_key_id(self) -> str:
        return self._credential("aws_access_key_id", what="the AWS access key id")

    @property
    def aws_secret_access_key(self) -> str:
        return self._credential("aws_secret_access_key", what="the AWS secret access key")

    @property
    def aws_region(self) -> str:
        """The bucket's region; 'us-east-1' when unset (the region S3 assumes without one)."""
        return self._str(API_CREDENTIALS, "aws_region", default="us-east-1")

    @property
    def s3_bucket(self) -> str:
        return self._credential("s3_bucket", what="the S3 bucket of recordings")

    @property
    def aws_s3(self) -> AwsS3Settings:
        """The four S3 settings together; ConfigError naming the first one missing."""
        return AwsS3Settings(
            bucket=self.s3_bucket,
            region=self.aws_region,
            access_key_id=self.aws_access_key_id,
            secret_access_key=self.aws_secret_access_key,
        )
