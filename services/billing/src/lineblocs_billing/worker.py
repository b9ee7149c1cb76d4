"""Target module of `dramatiq` and `periodiq` for the billing service.

Order matters: the broker is installed (every middleware, periodiq's included) before the
actors module is imported, and the composition root before any actor runs.
"""

from lineblocs_billing import bootstrap
from lineblocs_shared.queue.runtime import bootstrap_process

runtime = bootstrap_process()
bootstrap.install(bootstrap.build(runtime.settings, engine=runtime.engine))

from lineblocs_billing import actors  # noqa: E402,F401  (registers the actors)
