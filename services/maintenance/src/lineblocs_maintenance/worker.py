"""Target module of `dramatiq` and `periodiq` for the maintenance service.

Order matters: the broker is installed before the actors module is imported.
"""

from lineblocs_maintenance import composition
from lineblocs_shared.runtime import bootstrap_process

settings, broker = bootstrap_process()
composition.install(composition.build(settings))

from lineblocs_maintenance import actors  # noqa: E402,F401  (registers the actors)
