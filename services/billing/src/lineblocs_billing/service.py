"""How the shared CLI finds the billing service (entry point `lineblocs_jobs.services`)."""

from lineblocs_billing.cli import app
from lineblocs_billing.demo import demo_step
from lineblocs_shared.contracts import Queues
from lineblocs_shared.registry import ServiceSpec

SERVICE = ServiceSpec(
    name="billing",
    summary="invoicing and charging of subscriptions, dunning, failed-payment events",
    worker_module="lineblocs_billing.worker",
    queues=(Queues.BILLING,),
    cli=app,
    demo=demo_step,
)
