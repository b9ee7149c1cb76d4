"""Target module of `dramatiq` and `periodiq` for the billing service.

Order matters: the broker is installed (every middleware, periodiq's included) before the
actors module is imported, and the composition root before any actor runs.
"""

from lineblocs_billing import composition
from lineblocs_billing.prefetch import QueuePrefetch
from lineblocs_shared.runtime import bootstrap_process

settings, broker = bootstrap_process()
deps = composition.build(settings)
composition.install(deps)
broker.add_middleware(QueuePrefetch(settings.worker_prefetch))

from lineblocs_billing import actors  # noqa: E402,F401  (registers the actors)
