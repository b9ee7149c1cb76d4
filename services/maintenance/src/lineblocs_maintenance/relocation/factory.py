"""Which store relocated recordings go to, and the ARI client: built once per settings.

RECORDING_STORAGE_OVERRIDE picks `s3` or `local`; empty means `local` on the embedded defaults
(`make demo`) and S3 otherwise, with Lineblocs' `aws_*` and `s3_bucket` settings. `local` is
refused in staging and production: a recording copied to a worker's disk is not relocated. An S3
client is kept while the site's S3 settings do not change (an admin's change is seen within
LINEBLOCS_SETTINGS_TTL_S).
"""

from __future__ import annotations

import threading

from lineblocs_maintenance.relocation.ari import HttpAri
from lineblocs_maintenance.relocation.s3 import S3Store
from lineblocs_maintenance.relocation.storage import FolderStore, RecordingStore
from lineblocs_maintenance.settings import MaintenanceSettings
from lineblocs_shared.errors import ConfigError
from lineblocs_shared.settings import Settings
from lineblocs_shared.site_settings.reader import AwsS3Settings, SiteSettings


def storage_name(options: MaintenanceSettings, settings: Settings) -> str:
    name = options.recording_storage_override or (
        "local" if settings.uses_embedded_broker else "s3"
    )
    if name == "local" and settings.environment.is_deployed:
        raise ConfigError(f"local recording storage is refused in {settings.environment}")
    return name


class StoreProvider:
    """The store for the current settings, built once per settings."""

    def __init__(self, options: MaintenanceSettings, settings: Settings) -> None:
        self._options = options
        self._settings = settings
        self._lock = threading.Lock()
        self._built: tuple[AwsS3Settings | None, RecordingStore] | None = None

    def for_site(self, site: SiteSettings) -> RecordingStore:
        if storage_name(self._options, self._settings) == "local":
            return FolderStore(self._options.recording_local_dir)
        config = site.aws_s3
        with self._lock:
            if self._built is None or self._built[0] != config:
                self._built = (config, self._s3(config))
            return self._built[1]

    def _s3(self, config: AwsS3Settings) -> S3Store:
        return S3Store(
            config,
            endpoint_url=self._options.s3_endpoint_url,
            timeout_s=self._options.ari_timeout_s,
        )


def http_ari(options: MaintenanceSettings) -> HttpAri:
    if not options.ari_username:
        raise ConfigError("ARI_USERNAME is not set: the media servers' ARI cannot be asked")
    return HttpAri(
        url_template=options.ari_url_template,
        hosts=options.ari_hosts,
        username=options.ari_username,
        password=options.ari_password.get_secret_value(),
        timeout_s=options.ari_timeout_s,
    )
