"""The parts of recording relocation that need no server: input checks, object keys, the folder
store, which store is chosen, and Lineblocs' S3 settings (secrets kept out of reprs)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from sqlmodel import Session

from lineblocs_maintenance.relocation.ari import Download, InMemoryAri, check_host, recording_name
from lineblocs_maintenance.relocation.errors import AriNotFound, BadRecording, UnknownMediaServer
from lineblocs_maintenance.relocation.factory import storage_name
from lineblocs_maintenance.relocation.storage import FolderStore, object_key
from lineblocs_maintenance.settings import MaintenanceSettings
from lineblocs_shared.errors import ConfigError
from lineblocs_shared.models.settings_store import ApiCredentialsKVStore
from lineblocs_shared.settings import Environment, Settings
from lineblocs_shared.site_settings.reader import SiteSettings
from tests.support.settings_store import settings_store


@pytest.mark.parametrize("storage_id", ["", "   ", "a\x00b", "/etc/passwd", "x/../y", "n" * 256])
def test_a_storage_id_that_names_no_recording_is_refused(storage_id: str) -> None:
    with pytest.raises(BadRecording):
        recording_name(storage_id)


def test_a_recording_name_may_hold_spaces_and_subfolders() -> None:
    assert recording_name(" call 7/rec?1 ") == "call 7/rec?1"


@pytest.mark.parametrize("host", ["", "10.0.0.1/x", "a b", "host:80", "x?y", "10.0.0.9"])
def test_a_media_server_must_be_a_known_host(host: str) -> None:
    with pytest.raises(UnknownMediaServer):
        check_host(host, frozenset({"10.0.0.1", "media-1.example"}))


def test_without_an_allow_list_any_host_or_ip_is_a_media_server() -> None:
    for host in ("10.0.0.9", "media-1.example", "[fd00::1]"):
        assert check_host(host, frozenset()) == host


def test_object_keys_follow_the_id_and_the_media_type() -> None:
    assert object_key(42, "audio/wav") == "recordings/42.wav"
    assert object_key(42, "audio/x-wav") == "recordings/42.wav"
    assert object_key(42, "audio/mpeg") == "recordings/42.mp3"
    assert object_key(42, "application/weird") == "recordings/42.bin"


def test_the_folder_store_keeps_what_it_was_given_with_its_checksum(tmp_path: Path) -> None:
    ari, sink = InMemoryAri({("h", "n"): b"RIFF" * 100_000}), io.BytesIO()
    download = ari.download("h", "n", sink)
    assert download == Download("audio/wav", 400_000, hashlib.sha256(b"RIFF" * 100_000).hexdigest())
    store = FolderStore(tmp_path)
    assert store.find("recordings/1.wav") is None
    sink.seek(0)
    store.put("recordings/1.wav", sink, download)
    found = store.find("recordings/1.wav")
    assert found is not None
    assert (found.size, found.sha256) == (download.size, download.sha256)
    assert store.url_of("recordings/1.wav") == (tmp_path / "recordings/1.wav").as_uri()
    assert ari.delete("h", "n") is True
    assert ari.delete("h", "n") is False
    with pytest.raises(AriNotFound):
        ari.download("h", "n", io.BytesIO())


def test_local_storage_is_the_embedded_default_and_refused_when_deployed() -> None:
    options = MaintenanceSettings()
    embedded = Settings(queue_url="memory://")
    assert storage_name(options, embedded) == "local"
    assert storage_name(options, Settings(queue_url="amqp://x")) == "s3"
    deployed = Settings.model_construct(
        **{**embedded.model_dump(), "environment": Environment.PRODUCTION, "queue_url": "amqp://x"}
    )
    forced = options.model_copy(update={"recording_storage_override": "local"})
    with pytest.raises(ConfigError, match="refused"):
        storage_name(forced, deployed)


def test_ari_settings_hide_the_password_and_read_hosts_as_a_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARI_HOSTS", "10.0.0.1, media-2.example,")
    monkeypatch.setenv("ARI_PASSWORD", "hunter2")
    options = MaintenanceSettings()
    assert options.ari_hosts == ("10.0.0.1", "media-2.example")
    assert "hunter2" not in repr(options)
    monkeypatch.setenv("ARI_URL_TEMPLATE", "http://media:8088/ari")
    with pytest.raises(ValueError, match="host"):
        MaintenanceSettings()


def test_lineblocs_s3_settings_are_read_and_their_keys_never_shown() -> None:
    with settings_store() as engine:
        site = SiteSettings(bind=engine)
        with pytest.raises(ConfigError, match="s3_bucket"):
            _ = site.aws_s3
        with Session(engine) as session:
            for key, value in {
                "aws_access_key_id": "AKIAEXAMPLE",
                "aws_secret_access_key": "very-secret",
                "s3_bucket": "recordings",
            }.items():
                session.add(ApiCredentialsKVStore.of(key, value))
            session.commit()
        config = SiteSettings(bind=engine).aws_s3
    assert (config.bucket, config.region) == ("recordings", "us-east-1")
    assert config.secret_access_key == "very-secret"
    assert "very-secret" not in repr(config)
    assert "AKIAEXAMPLE" not in repr(config)
