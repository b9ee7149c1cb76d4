"""How the shared CLI finds the notifications service (entry point `lineblocs_jobs.services`)."""

from lineblocs_shared.queue.names import Queues
from lineblocs_shared.registry import ServiceSpec

SERVICE = ServiceSpec(
    name="notifications",
    summary="background e-mails: inactivity, usage triggers, trials, cards, surveys, payments",
    worker_module="lineblocs_notifications.worker",
    queues=(Queues.NOTIFICATIONS,),
    cli="lineblocs_notifications.cli:app",
    demo="lineblocs_notifications.demo:demo_step",
)
