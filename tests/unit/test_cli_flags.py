"""Every boolean option of the CLI is a flag (`--dry-run`), never `--dry-run true`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer

from lineblocs_shared.cli.app import SHARED_COMMANDS
from lineblocs_shared.registry import installed_services, load_target


def commands(command: Any, path: str) -> Iterator[tuple[str, Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from commands(sub, f"{path} {name}")


def as_typer(target: Any) -> typer.Typer:
    """A command's typer app: its own, or one around a command function."""
    if isinstance(target, typer.Typer):
        return target
    wrapper = typer.Typer()
    wrapper.command()(target)
    return wrapper


def test_every_boolean_option_is_a_flag() -> None:
    # The root's commands are lazy stand-ins: load each one, as running it would.
    roots = [
        (f"lineblocs-jobs {name}", as_typer(load_target(target)))
        for name, target, _summary in SHARED_COMMANDS
    ] + [
        (f"lineblocs-jobs {spec.name}", as_typer(load_target(spec.cli)))
        for spec in installed_services().values()
        if spec.cli is not None
    ]
    booleans = {
        f"{path} {param.opts[0]}": param.is_flag
        for name, root in roots
        for path, command in commands(typer.main.get_command(root), name)
        for param in command.params
        if param.param_type_name == "option"
        and param.type_descriptor.annotation in (bool, bool | None)
    }
    assert "lineblocs-jobs billing run --dry-run" in booleans  # the services were walked too
    assert {option for option, is_flag in booleans.items() if not is_flag} == set()
