"""How a domain service plugs into the shared CLI without the shared library importing it.

Each service declares one `ServiceSpec` under the `lineblocs_jobs.services` entry-point group;
the CLI discovers the installed ones. A service's container installs only that service, so its
`lineblocs-jobs` knows only its own service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from lineblocs_shared.errors import ConfigError

if TYPE_CHECKING:
    import typer

ENTRY_POINT_GROUP = "lineblocs_jobs.services"


@dataclass(frozen=True)
class ServiceSpec:
    """What the CLI needs to know about a service, importable before any broker exists."""

    name: str
    summary: str
    # Module that sets the broker and then imports the actors: the dramatiq/periodiq target.
    worker_module: str
    queues: tuple[str, ...]
    # Optional `lineblocs-jobs <name> …` sub-commands.
    cli: typer.Typer | None = None
    # Optional demo step: called by `lineblocs-jobs demo` with the demo context.
    demo: Callable[[Any], None] | None = field(default=None, compare=False)


def installed_services() -> dict[str, ServiceSpec]:
    """Every service installed in this environment, by name."""
    services: dict[str, ServiceSpec] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        spec = ep.load()
        if not isinstance(spec, ServiceSpec):
            raise TypeError(f"entry point {ep.value} is not a ServiceSpec")
        services[spec.name] = spec
    return dict(sorted(services.items()))


def get_service(name: str) -> ServiceSpec:
    services = installed_services()
    try:
        return services[name]
    except KeyError:
        known = ", ".join(services) or "none"
        raise ConfigError(f"unknown service {name!r} (installed: {known})") from None
