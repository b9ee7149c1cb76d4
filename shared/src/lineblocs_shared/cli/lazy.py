"""Commands that import their module only when they run (issue 15: the CLI was slow to start).

The root `--help` needs no more than each command's name and one-line summary, yet importing
every command module for it pulled in SQLAlchemy's models, the payment SDKs and Dramatiq's
broker: about 4 s of CPU, for `--help` as for a container's `health`. Click runs a sub-command
as `cmd.make_context(...)` then `sub_ctx.command.invoke(sub_ctx)`, so a stand-in that builds
the real command in `make_context` hands everything over to it: `<command> --help` included.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from lineblocs_shared.registry import load_target


# typer carries its own copy of click (typer._click): its classes, not the click package's.
class LazyCommand(TyperCommand):
    """Stands for the typer app or function at `target` ("module:attribute") until it runs."""

    def __init__(self, name: str, target: str, summary: str, *, group_help: str | None = None):
        super().__init__(name, help=summary, short_help=summary)
        self.target = target
        # A service's group shows its ServiceSpec summary, as `add_typer(help=…)` did.
        self.group_help = group_help

    @cached_property
    def real(self) -> TyperCommand | TyperGroup:
        assert self.name is not None  # set by __init__
        loaded = load_target(self.target)
        holder = typer.Typer(add_completion=False)
        if isinstance(loaded, typer.Typer):
            if self.group_help:
                holder.add_typer(loaded, name=self.name, help=self.group_help)
            else:
                holder.add_typer(loaded, name=self.name)
            group = typer.main.get_command(holder)
            assert isinstance(group, TyperGroup)
            command = group.commands[self.name]
            assert isinstance(command, TyperGroup)
            return command
        # A lone function: typer makes a Typer with one command that very command.
        holder.command(self.name)(loaded)
        command = typer.main.get_command(holder)
        assert isinstance(command, TyperCommand)
        return command

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Any = None,  # typer._click's Context: not part of typer's public names
        **extra: Any,
    ) -> Any:
        return self.real.make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        # Only reached when a caller bypasses make_context (click's own paths never do).
        return self.real.invoke(ctx)
