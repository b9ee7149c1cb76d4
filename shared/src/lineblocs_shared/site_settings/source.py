"""Where Lineblocs settings are read from: a KV store first, its frozen legacy table second.

This module only finds a setting's raw value (str, int or bool) and says where it came from;
`lineblocs_shared.site_settings.reader` turns raw values into typed settings.

- Each KV store is read whole, in one query, the first time one of its keys is asked for.
- The legacy single-row table is read only when a key is absent from its KV store, and only the
  columns the database really has are selected: older databases lack some
  (infra/mysql/reference/README.md, caveat 3), and a missing column must mean "absent", not a
  crash. NULL also means absent.
- Everything is cached until `refresh()`; a reader lives for one job run, so the next run sees
  what the admin UI changed in between.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, select
from sqlalchemy.orm import Session

from lineblocs_shared.db.probe import probe_schema
from lineblocs_shared.errors import ConfigError
from lineblocs_shared.models.settings_store import (
    ApiCredentialsKVStore,
    CustomizationsKVStore,
    KVValueType,
    LegacyApiCredentials,
    LegacyCustomizations,
)

Bind = Engine | Connection | Session
RawValue = str | int | bool
_NOT_SETTINGS = frozenset({"id", "created_at", "updated_at"})


@dataclass(frozen=True)
class SettingsTables:
    """A KV store and the legacy table whose columns it replaced."""

    kv: Table
    legacy: Table


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


CUSTOMIZATIONS = SettingsTables(_table(CustomizationsKVStore), _table(LegacyCustomizations))
API_CREDENTIALS = SettingsTables(_table(ApiCredentialsKVStore), _table(LegacyApiCredentials))


@dataclass(frozen=True)
class Found:
    """A setting's raw value and where it was found, for error messages."""

    table: str
    key: str
    raw: RawValue = field(repr=False)  # may be a secret
    legacy: bool = False

    def where(self) -> str:
        if self.legacy:
            return f"legacy {self.table}.{self.key}"
        return f"{self.table} key '{self.key}'"


@dataclass(frozen=True)
class _KVRow:
    value_type: str
    string_value: str
    number_value: int
    boolean_value: Any  # TINYINT(1): int or bool, depending on the driver


def kv_value(source: str, key: str, row: _KVRow) -> RawValue:
    """The value in the slot `value_type` names, the only slot the site's upsert writes.

    The other two slots hold Laravel's implicit ''/0 or the value of an earlier type, so reading
    them would be guessing: an unknown value_type is refused instead of interpreted.
    """
    value_type = row.value_type.strip().lower()
    if value_type == KVValueType.STRING:
        return row.string_value
    if value_type == KVValueType.NUMBER:
        return int(row.number_value)
    if value_type == KVValueType.BOOLEAN:
        return bool(row.boolean_value)
    raise ConfigError(
        f"{source} key '{key}' has value_type {row.value_type!r};"
        " expected 'string', 'number' or 'boolean'"
    )


@contextmanager
def _connection(bind: Bind) -> Iterator[Connection]:
    """A connection for `bind`: a session's own (same transaction), or a short-lived one."""
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            yield conn
    elif isinstance(bind, Session):
        yield bind.connection()
    else:
        yield bind


class SettingsSource:
    """Finds raw setting values; caches them for the life of the instance (or until refresh)."""

    def __init__(self, bind: Bind) -> None:
        self._bind = bind
        self._kv: dict[str, dict[str, _KVRow]] = {}
        self._legacy: dict[str, dict[str, RawValue]] = {}

    def refresh(self) -> None:
        """Forget every value read so far; the next lookups query the database again."""
        self._kv.clear()
        self._legacy.clear()

    def load(self, *tables: SettingsTables) -> None:
        """Read `tables` (KV store and legacy row) now, so later lookups do no I/O."""
        for pair in tables:
            self._kv_rows(pair.kv)
            self._legacy_row(pair.legacy)

    def loaded_tables(self) -> list[str]:
        return sorted([*self._kv, *self._legacy])

    def lookup(self, tables: SettingsTables, key: str, *kv_aliases: str) -> Found | None:
        """The KV value of `key` (else of its first alias present), else the legacy column's."""
        kv = self._kv_rows(tables.kv)
        for name in (key, *kv_aliases):
            if name in kv:
                return Found(tables.kv.name, name, kv_value(tables.kv.name, name, kv[name]))
        legacy = self._legacy_row(tables.legacy)
        if key in legacy:
            return Found(tables.legacy.name, key, legacy[key], legacy=True)
        return None

    def _kv_rows(self, kv: Table) -> dict[str, _KVRow]:
        if kv.name not in self._kv:
            self._kv[kv.name] = self._load_kv(kv)
        return self._kv[kv.name]

    def _load_kv(self, kv: Table) -> dict[str, _KVRow]:
        # One query for the whole store: it holds a few hundred short rows at most.
        c = kv.c
        query = select(c.key, c.value_type, c.string_value, c.number_value, c.boolean_value)
        with _connection(self._bind) as conn:
            rows = conn.execute(query).all()
        return {row[0]: _KVRow(*row[1:]) for row in rows}

    def _legacy_row(self, legacy: Table) -> dict[str, RawValue]:
        if legacy.name not in self._legacy:
            self._legacy[legacy.name] = self._load_legacy(legacy)
        return self._legacy[legacy.name]

    def _load_legacy(self, legacy: Table) -> dict[str, RawValue]:
        """The first row's non-NULL values, from the mapped columns the database has."""
        with _connection(self._bind) as conn:
            existing = self._columns_of(conn, legacy.name)
            columns = [c for c in legacy.c if c.name in existing and c.name not in _NOT_SETTINGS]
            if not columns:
                return {}
            # A single-row table; should a second row appear, the oldest one wins.
            query = select(*columns).order_by(legacy.c.id).limit(1)
            row = conn.execute(query).mappings().first()
        if row is None:
            return {}
        return {name: value for name, value in row.items() if value is not None}

    def _columns_of(self, conn: Connection, table: str) -> frozenset[str]:
        # The schema probe reflects once per engine: a reader lives for one job run, and
        # reflecting the 80-column legacy table on every bill cost ~7% of a worker's CPU.
        return probe_schema(conn.engine).columns.get(table, frozenset())
