"""Target module of `dramatiq` and `periodiq` for the notifications service.

Order matters: the broker is installed before the actors module is imported, and the
composition root before any actor runs.
"""

from lineblocs_notifications import bootstrap
from lineblocs_shared.queue.runtime import bootstrap_process

runtime = bootstrap_process()
bootstrap.install(bootstrap.build(runtime.settings, engine=runtime.engine))

from lineblocs_notifications import actors  # noqa: E402,F401  (registers the actors)
