"""How the shared CLI finds the notifications service (entry point `lineblocs_jobs.services`)."""

from lineblocs_notifications.cli import app
from lineblocs_notifications.demo import demo_step
from lineblocs_shared.contracts import Queues
from lineblocs_shared.registry import ServiceSpec

SERVICE = ServiceSpec(
    name="notifications",
    summary="background e-mails: inactivity, usage triggers, trials, cards, surveys, payments",
    worker_module="lineblocs_notifications.worker",
    queues=(Queues.NOTIFICATIONS,),
    cli=app,
    demo=demo_step,
)
