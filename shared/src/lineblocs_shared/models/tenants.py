"""Lineblocs tenants: users, workspaces and their members.

Jobs only read these tables (and delete users who never set a password), but fixtures and the
demo insert them, so every NOT NULL column without a default is mapped: a strict-mode INSERT
must name it. Those columns carry Laravel's implicit values ('' / 0) as Python defaults.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from lineblocs_shared.db.types import UTCDateTime
from lineblocs_shared.models.base import LineblocsTable, timestamp_field, utcnow


class User(LineblocsTable, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    name: str
    username: str = Field(unique=True)
    email: str = Field(unique=True)
    password: str = Field(default="", max_length=60)
    first_name: str = ""
    last_name: str = ""
    stripe_id: str = ""  # the Stripe (or Braintree) customer id
    admin: bool = False
    plan: str = ""
    trial_mode: bool = False
    auto_recharge: bool = False
    auto_recharge_top_up: int = 0
    invoices_by_email: bool = False
    linked_paypal: bool = False
    last_login: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_reminded: datetime | None = Field(default=None, sa_type=UTCDateTime)
    free_trial_started: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    free_trial_reminder_sent: bool = False
    needs_password_set: bool = False
    needs_set_password_date: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # 0 means the user opted out of that e-mail category (missing on pre-2026-06 databases).
    email_mute_auditing: bool = True
    email_mute_account_changes: bool = True
    email_mute_workspace_changes: bool = True
    # NOT NULL without default in the schema; meaningless to the jobs.
    confirmation_code: str = ""
    container_name: str = ""
    ip_address: str = ""
    domain: str = ""
    sip_port: str = ""
    rtp_ports: str = ""
    call_code: str = ""
    network_device: str = ""
    email_verify_hash: str = ""
    address_line_1: str = ""
    address_line_2: str = ""
    postal_code: str = ""
    state: str = ""
    city: str = ""
    country: str = ""
    office_number: str = ""
    job_title: str = ""
    pending_number: str = ""


class Workspace(LineblocsTable, table=True):
    __tablename__ = "workspaces"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    name: str
    creator_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    plan: str = "pay-as-you-go"
    active: bool = True
    free_trial_started: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    default_region: str = ""
    billing_country_id: int | None = Field(
        default=None, foreign_key="billing_countries.id", ondelete="SET NULL"
    )
    billing_region_id: int | None = Field(
        default=None, foreign_key="billing_regions.id", ondelete="SET NULL"
    )
    sent_satisfaction_survey: bool = False
    grace_period_extension: int | None = None
    byo_enabled: bool = False
    ip_whitelist_disabled: bool = True
    outbound_macro_id: int | None = None


class WorkspaceUser(LineblocsTable, table=True):
    """A seat: billed when ACTIVE, or TERMINATED inside the billed period."""

    __tablename__ = "workspaces_users"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    status: str = "INVITED"
    deleted_at: datetime | None = timestamp_field(nullable=True)
    activated_account_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    terminated_account_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    public_id: str = Field(unique=True)
    hash: str = ""
    # Permission flags that are NOT NULL without a default in the schema.
    manage_users: bool = False
    manage_extensions: bool = False
    create_extension: bool = False
    manage_billing: bool = False
    manage_workspace: bool = False
    manage_dids: bool = False
    create_did: bool = False
    manage_calls: bool = False
    manage_recordings: bool = False
    manage_blocked_numbers: bool = False
    manage_ip_whitelist: bool = False
    manage_verified_caller_ids: bool = False
    create_flow: bool = False
    manage_flows: bool = False
    manage_functions: bool = False
    create_function: bool = False
    manage_phonegroups: bool = False
    create_phonegroup: bool = False
    create_phoneglobalsetting: bool = False
    manage_phoneglobalsettings: bool = False
    create_phoneindividualsetting: bool = False
    manage_phoneindividualsettings: bool = False
    create_trunk: bool = False
    manage_trunks: bool = False
