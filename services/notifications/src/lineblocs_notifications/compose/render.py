"""Rendering a kind's templates: `<kind>.html` and `<kind>.txt`, and its subject.

Jinja2 with autoescaping for HTML (a workspace named `<b>` is shown, not obeyed) and
`StrictUndefined`: a variable the template uses and the mail lacks is an error (fatal: a dead
letter and one alert), never an empty hole in a customer's mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import (
    Environment,
    PackageLoader,
    StrictUndefined,
    Template,
    TemplateError,
    select_autoescape,
)

from lineblocs_notifications.compose.money import money
from lineblocs_notifications.kinds.catalog import MailKind
from lineblocs_shared.reliability.failures.taxonomy import FatalError


class TemplateFailed(FatalError):
    """A template could not be rendered with the mail's variables: a bug to fix, not to retry."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("lineblocs_notifications", "compose/templates"),
        autoescape=select_autoescape(["html"], default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["money"] = money
    return env


@cache
def _subject(source: str) -> Template:
    """A subject template, compiled once (compiling is most of rendering one)."""
    return environment().from_string(source)


def render(kind: MailKind, variables: dict[str, Any]) -> Rendered:
    env = environment()
    try:
        subject = _subject(kind.subject).render(variables)
        text = env.get_template(f"{kind.name}.txt").render(variables)
        html = env.get_template(f"{kind.name}.html").render(variables)
    except TemplateError as exc:
        raise TemplateFailed(f"template {kind.name}: {type(exc).__name__}: {exc}") from exc
    return Rendered(subject=" ".join(subject.split()), text=text, html=html)
