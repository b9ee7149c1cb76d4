"""Reading a large table in keyset pages: `key > last ORDER BY key LIMIT n`, one query each.

Memory stays bounded by one page whatever the row count. Each page is a short query on a
connection of its own, so nothing is held open while the caller works on a page (publishes
messages, say): never an OFFSET, which rescans every earlier row, and never a server cursor.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Engine, Row, Select


def keyset_pages(
    engine: Engine, query: Select, *, key: Any, page_size: int
) -> Iterator[Sequence[Row]]:
    """The rows of `query` by ascending `key`, a page at a time: a unique column (or ORM
    attribute) that `query` selects under its own name."""
    if page_size < 1:
        raise ValueError("page_size must be >= 1")
    ordered = query.order_by(key).limit(page_size)
    stmt = ordered
    while True:
        with engine.connect() as conn:
            rows = conn.execute(stmt).all()
        if rows:
            yield rows
        if len(rows) < page_size:
            return  # a short page is the last one: no extra empty query
        stmt = ordered.where(key > rows[-1]._mapping[key.key])
