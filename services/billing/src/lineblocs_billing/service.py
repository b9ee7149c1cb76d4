"""How the shared CLI finds the billing service (entry point `lineblocs_jobs.services`)."""

from lineblocs_shared.queue.names import Queues
from lineblocs_shared.registry import ServiceSpec

SERVICE = ServiceSpec(
    name="billing",
    summary="invoicing and charging of subscriptions, dunning, failed-payment events",
    worker_module="lineblocs_billing.worker",
    queues=(Queues.BILLING,),
    cli="lineblocs_billing.cli:app",
    demo="lineblocs_billing.demo:demo_step",
)
