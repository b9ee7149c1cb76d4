"""How a domain service plugs into the shared CLI without the shared library importing it.

Each service declares one `ServiceSpec` under the `lineblocs_jobs.services` entry-point group;
the CLI discovers the installed ones. A service's container installs only that service, so its
`lineblocs-jobs` knows only its own service.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from lineblocs_shared.errors import ConfigError

ENTRY_POINT_GROUP = "lineblocs_jobs.services"


@dataclass(frozen=True)
class ServiceSpec:
    """What the CLI needs to know about a service, importable before any broker exists."""

    name: str
    summary: str
    # Module that sets the broker and then imports the actors: the dramatiq/periodiq target.
    worker_module: str
    queues: tuple[str, ...]
    # Optional `lineblocs-jobs <name> …` sub-commands: "module:attribute" of a typer app.
    # Paths, not objects: discovery runs on every CLI start (a container's health check too)
    # and must not import what only those commands use (issue 15).
    cli: str | None = None
    # Optional demo step, "module:function": called by `lineblocs-jobs demo` with its context.
    demo: str | None = None


def load_target(target: str) -> Any:
    """The object a "module:attribute" path names, importing its module now."""
    module, sep, attribute = target.partition(":")
    if not sep:
        raise ValueError(f"{target!r} is not a module:attribute path")
    return getattr(import_module(module), attribute)


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
