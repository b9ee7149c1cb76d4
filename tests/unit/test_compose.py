"""docker-compose.yml and the one Dockerfile of the service images.

Compose itself renders the file where it is installed (`docker compose` or the older
`docker-compose`); the invariants the deployment relies on are checked as text everywhere, since
neither Docker nor PyYAML is a dependency of the project.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lineblocs_shared.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
SERVICES = ("billing", "maintenance", "notifications")
REQUIRED_SECRETS = {
    "MYSQL_ROOT_PASSWORD": "test-root-pw",
    "MYSQL_PASSWORD": "test-db-pw",
    "RABBITMQ_DEFAULT_PASS": "test-mq-pw",
}
# migrate + a worker and a scheduler per service
SERVICES_WITH_APP_ENV = 1 + 2 * len(SERVICES)


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is not None:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, timeout=60, check=False
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy is not None else None


@pytest.fixture(scope="module")
def compose() -> list[str]:
    command = _compose_command()
    if command is None:
        pytest.skip(
            "neither `docker compose` nor `docker-compose` is installed "
            "(apt-get install docker-compose)"
        )
    return command


def _clean_env() -> dict[str, str]:
    """This process's environment without anything the compose file reads.

    A developer's exported secrets or COMPOSE_* settings must not decide what the tests see.
    """
    referenced = set(re.findall(r"\$\{(\w+)", COMPOSE_FILE.read_text()))
    return {
        name: value
        for name, value in os.environ.items()
        if name not in referenced and not name.startswith("COMPOSE_")
    }


def _render(
    compose: list[str], env: dict[str, str], tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    # An empty env file, so that a developer's .env next to the compose file is not read.
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    return subprocess.run(
        [*compose, "--env-file", str(empty_env_file), "-f", str(COMPOSE_FILE), "config", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_compose_file_renders_with_the_required_secrets(compose: list[str], tmp_path: Path) -> None:
    result = _render(compose, _clean_env() | REQUIRED_SECRETS, tmp_path, "-q")
    assert result.returncode == 0, result.stderr


def test_every_app_container_gets_urls_built_from_the_secrets(
    compose: list[str], tmp_path: Path
) -> None:
    result = _render(compose, _clean_env() | REQUIRED_SECRETS, tmp_path)
    assert result.returncode == 0, result.stderr
    rendered = result.stdout
    database_url = "mysql+pymysql://lineblocs:test-db-pw@mysql:3306/lineblocs"
    queue_url = "amqp://lineblocs:test-mq-pw@rabbitmq:5672/lineblocs"
    assert rendered.count(database_url) == SERVICES_WITH_APP_ENV
    assert rendered.count(queue_url) == SERVICES_WITH_APP_ENV
    assert rendered.count("ENVIRONMENT: production") == SERVICES_WITH_APP_ENV


@pytest.mark.parametrize("missing", sorted(REQUIRED_SECRETS))
def test_compose_file_refuses_to_render_without_a_secret(
    compose: list[str], tmp_path: Path, missing: str
) -> None:
    env = _clean_env() | {k: v for k, v in REQUIRED_SECRETS.items() if k != missing}
    result = _render(compose, env, tmp_path, "-q")
    assert result.returncode != 0
    assert missing in result.stdout + result.stderr


def _compose_services(text: str) -> dict[str, str]:
    """The text of each service under the top-level `services:` key, by name."""
    section = re.search(r"^services:\n(.*?)(?=^\S|\Z)", text, re.MULTILINE | re.DOTALL)
    assert section is not None, "docker-compose.yml has no top-level services:"
    parts = re.split(r"^  ([\w-]+):[ \t]*\n", section.group(1), flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_compose_file_uses_the_compose_spec_and_writes_the_app_env_once() -> None:
    text = COMPOSE_FILE.read_text()
    assert not re.search(r"^version:", text, re.MULTILINE)
    assert text.count("DATABASE_URL:") == 1
    assert text.count("QUEUE_URL:") == 1
    assert text.count("service_completed_successfully") == 1


def test_compose_file_has_infrastructure_and_a_one_shot_migration() -> None:
    services = _compose_services(COMPOSE_FILE.read_text())
    assert "rabbitmq:3.13-management" in services["rabbitmq"]
    assert "rabbitmq-diagnostics" in services["rabbitmq"]
    assert "mysql:8.0" in services["mysql"]
    assert "mysqladmin ping" in services["mysql"]
    assert "lineblocs_reference.sql:/docker-entrypoint-initdb.d/" in services["mysql"]
    migrate = services["migrate"]
    assert '["lineblocs-jobs", "db", "upgrade"]' in migrate
    assert 'restart: "no"' in migrate
    assert "condition: service_healthy" in migrate


@pytest.mark.parametrize("service", SERVICES)
def test_compose_file_runs_a_worker_and_a_scheduler_per_service(service: str) -> None:
    services = _compose_services(COMPOSE_FILE.read_text())
    worker = services[f"{service}-worker"]
    scheduler = services[f"{service}-scheduler"]
    for block in (worker, scheduler):
        assert "<<: *image-build" in block
        assert f"SERVICE: {service}" in block
    assert "<<: *lineblocs-worker" in worker
    assert f'["lineblocs-jobs", "worker", "{service}"]' in worker
    assert "<<: *lineblocs-service" in scheduler
    assert f'["lineblocs-jobs", "scheduler", "{service}"]' in scheduler
    # Both probe the running process's health endpoint; neither starts the CLI (issue 15).
    for block in (worker, scheduler):
        assert "healthcheck: *process-healthcheck" in block
        assert 'lineblocs-jobs", "health' not in block


def test_compose_file_runs_nothing_else() -> None:
    expected = {"rabbitmq", "mysql", "migrate"} | {
        f"{service}-{role}" for service in SERVICES for role in ("worker", "scheduler")
    }
    assert set(_compose_services(COMPOSE_FILE.read_text())) == expected


DOCKERFILE = REPO_ROOT / "infra" / "docker" / "Dockerfile"


def test_one_dockerfile_builds_each_service_from_its_build_argument() -> None:
    text = DOCKERFILE.read_text()
    assert "FROM python:3.11-slim" in text
    assert re.search(r"^ARG SERVICE$", text, re.MULTILINE)
    package = '"lineblocs-jobs-${SERVICE}"'
    assert f"uv sync --frozen --no-dev --no-install-workspace --package {package}" in text
    assert f"uv sync --frozen --no-dev --package {package}" in text
    assert "COPY services/${SERVICE}/ services/${SERVICE}/" in text
    assert re.search(r"^USER (?!root\b)\w+", text, re.MULTILINE)
    # Every member's pyproject.toml is copied, so that uv can read the workspace.
    for service in SERVICES:
        assert f"COPY services/{service}/pyproject.toml services/{service}/" in text


def test_compose_builds_every_image_from_the_one_dockerfile() -> None:
    text = COMPOSE_FILE.read_text()
    assert re.findall(r"dockerfile: (\S+)", text) == ["infra/docker/Dockerfile"]
    assert not list((REPO_ROOT / "services").glob("*/Dockerfile"))


def test_dockerignore_keeps_local_state_out_of_the_images() -> None:
    entries = set((REPO_ROOT / ".dockerignore").read_text().splitlines())
    assert {".git", ".venv", ".env", "tests", "benchmarks", "docs"} <= entries


# --- every setting reaches the containers ------------------------------------------------------

# Built by compose from its own variables (MYSQL_*, RABBITMQ_*), or production by default.
COMPOSED = {"ENVIRONMENT", "DATABASE_URL", "QUEUE_URL"}


def _settings_classes() -> list[type]:
    from lineblocs_billing.settings import BillingSettings
    from lineblocs_maintenance.settings import MaintenanceSettings
    from lineblocs_notifications.settings import NotificationSettings
    from lineblocs_shared.payments.settings import PaymentSettings
    from lineblocs_shared.settings import Settings

    return [Settings, PaymentSettings, BillingSettings, MaintenanceSettings, NotificationSettings]


def _app_env_block() -> dict[str, str]:
    """The `x-lineblocs-env` anchor every worker, scheduler and the migration get: name → the
    value compose passes when the variable is not set (`${NAME:-default}`)."""
    text = COMPOSE_FILE.read_text()
    block = text.split("x-lineblocs-env: &lineblocs-env\n", 1)[1].split("\n\n", 1)[0]
    entries = dict(re.findall(r"^  ([A-Z][A-Z0-9_]+): (.*)$", block, re.M))
    defaults = {}
    for name, value in entries.items():
        match = re.fullmatch(r"\$\{" + name + r":-([^}]*)\}", value)
        defaults[name] = match.group(1) if match else value
    return defaults


def test_every_setting_of_every_service_is_passed_to_the_containers() -> None:
    settings = {name.upper() for model in _settings_classes() for name in model.model_fields}
    passed = set(_app_env_block())
    example = set(
        re.findall(r"^([A-Z][A-Z0-9_]+)=", (REPO_ROOT / ".env.example").read_text(), re.M)
    )

    assert sorted(settings - passed) == []  # set in .env, dropped on the way: the old bug
    assert sorted(settings - example) == []
    assert sorted(passed - settings - {"TZ"}) == []  # nothing passed that nobody reads


def test_what_compose_passes_by_default_is_each_settings_class_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for model in _settings_classes():
        for name in model.model_fields:
            monkeypatch.delenv(name.upper(), raising=False)
    defaults = {model: model() for model in _settings_classes()}

    for name, value in _app_env_block().items():
        if name not in COMPOSED:
            monkeypatch.setenv(name, value)
    for model, expected in defaults.items():
        assert model() == expected, model.__name__


# The probe as the image runs it: its path inside the image (the repository is copied to /app).
PROBE = "/app/shared/src/lineblocs_shared/reliability/observability/probe.py"
PROBE_ARGV = f'["python", "-S", "{PROBE}"]'
PROBE_TEST = f'["CMD", {PROBE_ARGV[1:]}'


def test_the_probe_is_where_the_image_puts_it() -> None:
    assert (REPO_ROOT / PROBE.removeprefix("/app/")).is_file()


def test_workers_and_schedulers_probe_their_own_health_endpoint(
    compose: list[str], tmp_path: Path
) -> None:
    text = COMPOSE_FILE.read_text()
    anchor = re.search(r"^x-process-healthcheck: &process-healthcheck\n((?:  .*\n)+)", text, re.M)
    assert anchor is not None
    assert f"test: {PROBE_TEST}" in anchor.group(1)
    assert "timeout: 10s" in anchor.group(1)
    assert "lineblocs-jobs" not in anchor.group(1)
    rendered = _render(compose, _clean_env() | REQUIRED_SECRETS, tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    # A worker and a scheduler per service; the one-shot migration has the image's check off.
    assert rendered.stdout.count(PROBE) == 2 * len(SERVICES)
    assert "lineblocs-jobs\n      - health" not in rendered.stdout
    migrate = _compose_services(text)["migrate"]
    assert "healthcheck:\n      disable: true" in migrate


def test_the_image_checks_its_health_endpoint_and_exposes_its_ports() -> None:
    text = DOCKERFILE.read_text()
    healthcheck = re.search(r"^HEALTHCHECK (.*?)\n(?!\s)", text, re.M | re.S)
    assert healthcheck is not None
    assert f"CMD {PROBE_ARGV}" in healthcheck.group(1)
    assert "--timeout=10s" in healthcheck.group(1)
    # The ports the settings default to: what the probe and Prometheus reach.
    fields = Settings.model_fields
    ports = {fields["health_port"].default, fields["metrics_port"].default}
    exposed = re.search(r"^EXPOSE (.+)$", text, re.M)
    assert exposed is not None
    assert {int(port) for port in exposed.group(1).split()} == ports
