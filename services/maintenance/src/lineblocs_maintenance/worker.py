"""Target module of `dramatiq` and `periodiq` for the maintenance service.

Order matters: the broker is installed before the actors module is imported.
"""

from lineblocs_maintenance import bootstrap
from lineblocs_shared.queue.runtime import bootstrap_process

runtime = bootstrap_process()
bootstrap.install(bootstrap.build(runtime.settings, engine=runtime.engine))

from lineblocs_maintenance import actors  # noqa: E402,F401  (registers the actors)
