"""The `lineblocs-jobs` command line."""

from lineblocs_shared.cli.app import app, main

__all__ = ["app", "main"]
