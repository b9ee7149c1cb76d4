"""The `lineblocs-jobs` command of the environment the tests run in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine

# The console script next to this interpreter: the installed CLI, not a module run by hand.
CLI = str(Path(sys.executable).with_name("lineblocs-jobs"))


def run_cli(
    engine: Engine, *args: str, answer: str = "", queue_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The CLI as an operator runs it on this engine's database, its stdout piped (not a TTY);
    `answer` is what they type at a question."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_URL")}
    env["DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    if queue_url is not None:
        env["QUEUE_URL"] = queue_url
    return subprocess.run(
        [CLI, *args], env=env, input=answer, capture_output=True, text=True, timeout=60, check=False
    )
