"""What the notifications commands share: the service's dependencies on an engine of their own,
closed when the command ends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from lineblocs_notifications import bootstrap
from lineblocs_notifications.bootstrap import Notifications
from lineblocs_shared.db import ping
from lineblocs_shared.settings import load_settings


@contextmanager
def notifications() -> Iterator[Notifications]:
    deps = bootstrap.build(load_settings())
    try:
        ping(deps.engine)
        yield deps
    finally:
        deps.transports.close()
        deps.engine.dispose()
