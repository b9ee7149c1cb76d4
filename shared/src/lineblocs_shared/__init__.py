"""Shared library of lineblocs-jobs. Never run on its own: the services build on it."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lineblocs-jobs-shared")
except PackageNotFoundError:  # pragma: no cover - only when run from a bare source tree
    __version__ = "0+unknown"
