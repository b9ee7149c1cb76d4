"""How the shared CLI finds the maintenance service (entry point `lineblocs_jobs.services`)."""

from lineblocs_shared.queue.names import Queues
from lineblocs_shared.registry import ServiceSpec

SERVICE = ServiceSpec(
    name="maintenance",
    summary="housekeeping: log retention, unset-password users, recording relocation",
    worker_module="lineblocs_maintenance.worker",
    queues=(Queues.MAINTENANCE,),
    cli="lineblocs_maintenance.cli:app",
    demo="lineblocs_maintenance.demo:demo_step",
)
