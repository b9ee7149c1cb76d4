"""Target module of `dramatiq` and `periodiq` for the notifications service.

Order matters: the broker is installed before any actor module is imported.
"""

from lineblocs_shared.queue.runtime import bootstrap_process

runtime = bootstrap_process()
