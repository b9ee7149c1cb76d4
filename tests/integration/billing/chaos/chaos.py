"""The faults of the chaos test: a plan drawn from a seed, and the driver that applies it.

Each step fires once when the number of paid periods reaches its threshold, so the faults land
while bills are being processed, at moments the seed decides (printed by the test: a failure is
replayed with `CHAOS_SEED=<seed>`). The steps:
- a lost answer to a PaymentIntent creation (the intent exists, its id never reached us) and one
  to a confirmation (the money is taken, the worker hears nothing);
- a confirmation answered slowly, and the worker waiting for it SIGKILLed while the answer is
  held: the gateway has taken the money, our database still says `created`;
- two SIGKILLs of a running worker, whichever it is doing;
- every RabbitMQ connection of the worker behind the relay cut at once;
- a second distribution (same message ids: the queue holds duplicates).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Engine

from tests.integration.billing.chaos.observe import attempt_state
from tests.support.cuttable_relay import CuttableRelay
from tests.support.proc_sockets import tcp_connection_owner
from tests.support.stripe_proxy import Fault, StripeProxy
from tests.support.worker_supervisor import WorkerSupervisor

CREATE = r"^/v1/payment_intents$"
CONFIRM = r"^/v1/payment_intents/[^/]+/confirm$"
HOLD_S = 5.0  # how long the slow confirmation's answer is held: time to find and kill its client


class Action(StrEnum):
    LOSE_CREATE_ANSWER = "lose the answer to a PaymentIntent creation"
    LOSE_CONFIRM_ANSWER = "lose the answer to a confirmation"
    KILL_DURING_CONFIRM = "SIGKILL the worker whose confirmation is being answered"
    KILL_WORKER = "SIGKILL a running worker"
    CUT_BROKER = "cut the relayed worker's RabbitMQ connections"
    DISTRIBUTE_AGAIN = "run the distributor again"


@dataclass(frozen=True)
class Step:
    at_paid: int  # fires once this many periods are paid
    action: Action


def draw_plan(rng: random.Random, *, periods: int) -> list[Step]:
    """The steps, oldest first; the last fires with a quarter of the work still to do."""

    def at(low: float, high: float) -> int:
        return int(periods * rng.uniform(low, high))

    steps = [
        Step(at(0.05, 0.20), Action.LOSE_CREATE_ANSWER),
        Step(at(0.05, 0.30), Action.LOSE_CONFIRM_ANSWER),
        Step(at(0.10, 0.35), Action.KILL_DURING_CONFIRM),
        Step(at(0.25, 0.55), Action.CUT_BROKER),
        Step(at(0.30, 0.60), Action.DISTRIBUTE_AGAIN),
        Step(at(0.35, 0.60), Action.KILL_WORKER),
        Step(at(0.55, 0.75), Action.KILL_WORKER),
    ]
    return sorted(steps, key=lambda step: step.at_paid)


class WatchedStripeProxy(StripeProxy):
    """The Stripe proxy, remembering which client waits for each held (slow) answer."""

    def __init__(self, upstream: str) -> None:
        self._client = threading.local()
        self.held_clients: list[tuple[str, int]] = []
        super().__init__(upstream)
        # Killing a client while its answer is held is the point here: its broken pipe is no
        # error worth a traceback on stderr.
        self._server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]

    @property
    def port(self) -> int:
        return int(self.url.rpartition(":")[2])

    def handle(self, request: object) -> None:
        self._client.address = request.client_address  # type: ignore[attr-defined]
        super().handle(request)  # type: ignore[arg-type]

    def _note(self, method: str, path: str, key: str | None, outcome: str) -> None:
        # Called by the request's own thread just before the slow fault's event is set.
        if outcome == Fault.SLOW_RESPONSE.value:
            self.held_clients.append(self._client.address)
        super()._note(method, path, key, outcome)


@dataclass
class HeldKill:
    """The kill between the gateway call and the commit: whom, and what our database said."""

    attempt_key: str
    worker: str
    state_at_kill: str | None
    seconds_held: float  # from the charge (± one poll) to the kill; the answer waits HOLD_S


@dataclass
class Chaos:
    supervisor: WorkerSupervisor
    proxy: WatchedStripeProxy
    relay: CuttableRelay
    relayed_worker: str  # the worker whose QUEUE_URL goes through `relay`
    engine: Engine
    distribute: Callable[[], str]  # runs the distributor; returns its summary line
    rng: random.Random
    log: list[str] = field(default_factory=list)
    lost_answers: list[threading.Event] = field(default_factory=list)
    held_kill: HeldKill | None = None
    cut_connections: int = 0
    second_distribution: list[str] = field(default_factory=list)
    _slow_hit: threading.Event | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _started: float = field(default_factory=time.monotonic)

    def apply(self, step: Step) -> bool:
        """Apply one step; False when it cannot happen yet: no worker consuming to kill, or the
        relayed worker restarting (its connections would not be there to cut)."""
        match step.action:
            case Action.LOSE_CREATE_ANSWER:
                self.lost_answers.append(self.proxy.inject(Fault.LOST_RESPONSE, path=CREATE))
            case Action.LOSE_CONFIRM_ANSWER:
                self.lost_answers.append(self.proxy.inject(Fault.LOST_RESPONSE, path=CONFIRM))
            case Action.KILL_DURING_CONFIRM:
                self._slow_hit = self.proxy.inject(
                    Fault.SLOW_RESPONSE, path=CONFIRM, delay_s=HOLD_S
                )
            case Action.KILL_WORKER:
                ready = [name for name in self.supervisor.names if self.supervisor.is_ready(name)]
                if not ready or self._holding:
                    # A random kill must not take the held confirmation's client: that kill is
                    # `watch`'s, at a known point (a loaded machine once raced the two).
                    return False
                victim = self.rng.choice(sorted(ready))
                self.supervisor.kill(victim)
                self._note(f"killed {victim}")
            case Action.CUT_BROKER:
                if not self.supervisor.is_ready(self.relayed_worker) or not self.relay.live:
                    return False
                self.cut_connections += self.relay.cut()
                self._note(f"cut {self.cut_connections} RabbitMQ connection(s)")
            case Action.DISTRIBUTE_AGAIN:
                thread = threading.Thread(target=self._distribute_again, daemon=True)
                thread.start()
                self._threads.append(thread)
        self._note(f"{step.action.value} (at {step.at_paid} paid)")
        return True

    def watch(self) -> None:
        """Called between steps: kills the client of the held confirmation once it is held."""
        if self._slow_hit is None or not self._slow_hit.is_set() or self.held_kill is not None:
            return
        noticed_at = time.monotonic()  # within one poll (50 ms) of the charge
        _host, port = self.proxy.held_clients[-1]
        held = [s for s in self.proxy.seen() if s.outcome == Fault.SLOW_RESPONSE.value]
        attempt_key = (held[-1].idempotency_key or "").removesuffix(":confirm")
        pids, owner = self._holder(port)
        if owner is None:
            raise AssertionError(
                f"no worker holds the held confirmation's connection ({port}): {self.log}"
            )
        # The answer is held for HOLD_S: the worker cannot have recorded it yet.
        state = attempt_state(self.engine, attempt_key)
        self.supervisor.kill(pids[owner])
        self.held_kill = HeldKill(
            attempt_key=attempt_key,
            worker=pids[owner],
            state_at_kill=state,
            seconds_held=time.monotonic() - noticed_at,
        )
        self._note(f"killed {pids[owner]} while {attempt_key}'s confirmation was held ({state})")

    @property
    def _holding(self) -> bool:
        """A confirmation's answer is held and its client not killed yet."""
        return self._slow_hit is not None and self._slow_hit.is_set() and self.held_kill is None

    def _holder(self, port: int) -> tuple[dict[int, str], int | None]:
        """The worker processes, and which one holds the connection from `port` (looked for
        for up to a second: on a loaded machine a process list can trail a restart)."""
        deadline = time.monotonic() + 1.0
        while True:
            pids = self.supervisor.all_pids()
            owner = tcp_connection_owner(port, self.proxy.port, pids)
            if owner is not None or time.monotonic() > deadline:
                return pids, owner
            time.sleep(0.05)

    @property
    def settled_down(self) -> bool:
        """No fault still waiting to happen, no distribution still running."""
        slow_pending = self._slow_hit is not None and self.held_kill is None
        return not slow_pending and not any(t.is_alive() for t in self._threads)

    def _distribute_again(self) -> None:
        try:
            self.second_distribution.append(self.distribute())
        except Exception as exc:
            self.second_distribution.append(f"failed: {exc}")

    def _note(self, line: str) -> None:
        self.log.append(f"{time.monotonic() - self._started:6.2f}s {line}")
