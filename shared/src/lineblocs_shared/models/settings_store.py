"""Lineblocs settings tables: the two key/value stores and the two frozen single-row tables.

Since 2024 the site reads and writes only `customizations_kv_store` and
`api_credentials_kv_store` (keys are the legacy column names). `customizations` and
`api_credentials` are frozen; the jobs read them only for keys the KV stores lack, through
`lineblocs_shared.site_settings.reader`, which selects only the columns the database has.

The legacy models map just the columns the settings reader needs (plus id and timestamps), so
they cannot insert a row into the real tables, which have many more NOT NULL columns without a
default: fixtures insert those rows with raw SQL. Secrets are left out of every repr.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Self

from sqlalchemy import String
from sqlmodel import Field

from lineblocs_shared.models.base import LineblocsTable, timestamp_field


class KVValueType(StrEnum):
    """`value_type`: which of the three value columns the site wrote (the others are stale)."""

    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"


class SettingsKVRow(LineblocsTable):
    """Columns shared by both KV stores (not a table itself).

    The site's `upsert` writes only the slot named by `value_type`; the other two keep whatever
    they held (Laravel's implicit ''/0 on insert, or a value of an earlier type). All three are
    NOT NULL without a default, so each gets its type's empty value here.
    """

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    # `key` is a reserved word: SQLAlchemy's MySQL dialect back-quotes it in every statement.
    key: str = Field(max_length=255, unique=True)
    value_type: str = Field(max_length=255)
    # Values can be API secrets (api_credentials_kv_store): never shown in a repr.
    string_value: str = Field(default="", sa_type=String(4096), repr=False)
    number_value: int = Field(default=0, repr=False)
    boolean_value: bool = Field(default=False, repr=False)

    @classmethod
    def of(cls, key: str, value: str | int | bool) -> Self:
        """A row holding `value` in the slot of its Python type, as the site's upsert writes it."""
        # bool before int: bool is a subclass of int.
        if isinstance(value, bool):
            return cls(key=key, value_type=KVValueType.BOOLEAN, boolean_value=value)
        if isinstance(value, int):
            return cls(key=key, value_type=KVValueType.NUMBER, number_value=value)
        return cls(key=key, value_type=KVValueType.STRING, string_value=value)


class CustomizationsKVStore(SettingsKVRow, table=True):
    __tablename__ = "customizations_kv_store"


class ApiCredentialsKVStore(SettingsKVRow, table=True):
    __tablename__ = "api_credentials_kv_store"


class LegacyCustomizations(LineblocsTable, table=True):
    """`customizations` (single row, 80+ columns; frozen since 2024). Defaults as in MySQL."""

    __tablename__ = "customizations"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    payment_gateway: str = Field(default="stripe", max_length=64)
    mail_provider: str = Field(default="smtp-gateway", max_length=64)
    billing_num_retries: int = 0
    billing_retry_enabled: bool = False
    contact_email: str = Field(default="", max_length=255)
    default_currency: str = Field(default="CAD", max_length=255)
    grace_period_billing_days: int = 7
    billing_frequency: str = Field(default="PER_MINUTE", max_length=255)
    customer_satisfaction_survey_enabled: bool = False
    # NOT NULL without a default in MySQL: whoever inserts must name it.
    customer_satisfaction_survey_url: str = Field(max_length=255)
    invoice_due_date_enabled: bool = False
    invoice_due_num_days: int | None = None
    # Added 2026-06-24: missing where that migration run stopped early (README caveat 3).
    is_trial_enabled: bool = False
    trial_duration_days: int | None = None


class LegacyApiCredentials(LineblocsTable, table=True):
    """`api_credentials` (single row; frozen since 2024). It has no Braintree columns."""

    __tablename__ = "api_credentials"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    stripe_pub_key: str = Field(default="", max_length=255)
    stripe_private_key: str = Field(default="", max_length=255, repr=False)
    stripe_test_pub_key: str = Field(default="", max_length=255)
    stripe_test_private_key: str = Field(default="", max_length=255, repr=False)
    stripe_mode: str = Field(default="", max_length=255)  # '' (never chosen), 'live' or 'test'
    smtp_host: str = Field(default="", max_length=255)
    smtp_port: str = Field(default="", max_length=255)  # VARCHAR in this table
    smtp_user: str = Field(default="", max_length=255)
    smtp_password: str = Field(default="", max_length=255, repr=False)
    # TINYINT(1) here; the KV store holds 'tls' / 'ssl' / 'disabled' / '1' / '0' instead.
    smtp_tls: bool = False
