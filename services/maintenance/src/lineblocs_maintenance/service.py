"""How the shared CLI finds the maintenance service (entry point `lineblocs_jobs.services`)."""

from lineblocs_maintenance.cli import app
from lineblocs_maintenance.demo import demo_step
from lineblocs_shared.contracts import Queues
from lineblocs_shared.registry import ServiceSpec

SERVICE = ServiceSpec(
    name="maintenance",
    summary="housekeeping: log retention, unset-password users, recording relocation",
    worker_module="lineblocs_maintenance.worker",
    queues=(Queues.MAINTENANCE,),
    cli=app,
    demo=demo_step,
)
