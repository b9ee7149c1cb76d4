"""What this Lineblocs database looks like: which schema variant, which mapped columns are missing.

Read once per engine (one `information_schema` round trip per table) and cached: the schema of a
running system does not change under a worker.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from sqlalchemy import Engine, inspect

from lineblocs_shared.errors import SchemaError
from lineblocs_shared.models.base import LineblocsTable
from lineblocs_shared.models.billing import MONTHLY_PRICE_COLUMNS

_probes: weakref.WeakKeyDictionary[Engine, SchemaProbe] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class SchemaProbe:
    columns: dict[str, frozenset[str]]  # table -> column names, for the tables we map

    @property
    def plan_monthly_price_column(self) -> str:
        """`monthly_cost_cents` on fresh installs, `monthly_charge_cents` before 2026-02-20."""
        present = self.columns.get("service_plans", frozenset())
        for name in MONTHLY_PRICE_COLUMNS:
            if name in present:
                return name
        raise SchemaError(
            "service_plans has neither monthly_cost_cents nor monthly_charge_cents: "
            "is this a Lineblocs database?"
        )

    def missing_mapped_columns(self) -> dict[str, list[str]]:
        """Columns our models map that the database lacks (the price column is not mapped)."""
        missing: dict[str, list[str]] = {}
        for table in LineblocsTable.metadata.sorted_tables:
            present = self.columns.get(table.name)
            if present is None:
                missing[table.name] = ["<table missing>"]
                continue
            absent = [
                c.name
                for c in table.columns
                if c.name not in present and c.name not in MONTHLY_PRICE_COLUMNS
            ]
            if absent:
                missing[table.name] = absent
        return missing


def probe_schema(engine: Engine) -> SchemaProbe:
    """The cached probe of `engine`'s database."""
    probe = _probes.get(engine)
    if probe is None:
        inspector = inspect(engine)
        existing = set(inspector.get_table_names())
        columns = {
            name: frozenset(c["name"] for c in inspector.get_columns(name))
            for name in LineblocsTable.metadata.tables
            if name in existing
        }
        probe = SchemaProbe(columns=columns)
        _probes[engine] = probe
    return probe
