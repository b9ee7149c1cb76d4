"""Database access: engines that keep MySQL strict mode, and column types."""

from lineblocs_shared.db.engine import make_engine, ping

__all__ = ["make_engine", "ping"]
