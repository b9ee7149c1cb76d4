"""The `lineblocs-jobs` command of the environment the tests run in."""

from __future__ import annotations

import sys
from pathlib import Path

# The console script next to this interpreter: the installed CLI, not a module run by hand.
CLI = str(Path(sys.executable).with_name("lineblocs-jobs"))
