"""Lineblocs settings shared by the runs of one worker process for a few seconds.

    cache = SettingsCache(engine, ttl_s=30)
    settings = cache.current()     # the same reader until it is `ttl_s` old, then a fresh one

Call `current()` before opening a transaction: a fresh reader reads every settings table at
once, on a connection of its own, and then never queries again.

A reader per run re-reads two settings tables (and the wide legacy `customizations` row) for
every bill: a fifth of a bill's statements for values an admin changes a few times a year. A
worker now sees such a change within `ttl_s` seconds; `ttl_s=0` keeps the read-per-run
behaviour. The reader is bound to the engine, so it reads on a connection of its own, outside
the caller's transaction — settings are not part of what a bill writes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import cached_property

from sqlalchemy import Engine

from lineblocs_shared.settings import Settings
from lineblocs_shared.site_settings.reader import SiteSettings


class SettingsCache:
    def __init__(
        self, engine: Engine, *, ttl_s: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._engine = engine
        self._ttl_s = ttl_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._reader: SiteSettings | None = None
        self._read_at = 0.0

    def current(self) -> SiteSettings:
        if self._ttl_s <= 0:
            return SiteSettings(bind=self._engine).preload()
        now = self._monotonic()
        with self._lock:
            if self._reader is None or now - self._read_at >= self._ttl_s:
                self._reader = SiteSettings(bind=self._engine).preload()
                self._read_at = now
            return self._reader


class CachedSiteSettings:
    """For a service's composition root (a dataclass with `settings` and `engine`): Lineblocs'
    own settings, read through one `SettingsCache` per root, at most LINEBLOCS_SETTINGS_TTL_S
    old."""

    settings: Settings
    engine: Engine

    @cached_property
    def _site_settings_cache(self) -> SettingsCache:
        return SettingsCache(self.engine, ttl_s=self.settings.lineblocs_settings_ttl_s)

    def site_settings(self) -> SiteSettings:
        return self._site_settings_cache.current()
