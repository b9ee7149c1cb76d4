"""localstripe (a GPL test peer, test-only) in a subprocess, on 127.0.0.1 and a free port.

`python -m tests.support.localstripe_server` runs localstripe's own aiohttp app, but:
- bound to 127.0.0.1 (its `start()` binds every interface), on a port the OS picks, printed as
  `LISTENING <port>` on stdout for the parent;
- without its persistence: it pickles its whole store to the shared /tmp/localstripe.pickle on
  every write (slow, and shared by every test session on the machine).

`LocalStripe.start()` launches it and `seed_customer` creates a customer with a card in it.
localstripe is imported only in the subprocess, never by the library code.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_SECRET_KEY = "sk_test_lineblocs_jobs_localstripe"  # localstripe accepts any sk_… key

# Cards localstripe knows (resources.py): charged fine / declined when charged / needing 3DS.
CARD_OK = "4242424242424242"
CARD_DECLINED_ON_CHARGE = "4000000000000341"
CARD_NEEDS_AUTHENTICATION = "4000002500003155"


@dataclass(frozen=True)
class StripeCustomer:
    customer_id: str
    payment_method_id: str


class LocalStripe:
    """A running localstripe subprocess."""

    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self._process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    @classmethod
    def start(cls, *, timeout_s: float = 30.0) -> LocalStripe:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.localstripe_server"],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until the server listens (or dies)
        if not line.startswith("LISTENING "):
            process.kill()
            raise RuntimeError(f"localstripe did not start: {line!r}")
        return cls(process, int(line.split()[1]))

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def seed_customer(
    base_url: str, *, card_number: str = CARD_OK, api_key: str = TEST_SECRET_KEY
) -> StripeCustomer:
    """A customer with a card attached, created straight in localstripe (no proxy faults)."""
    with httpx.Client(base_url=base_url, auth=(api_key, ""), timeout=10) as http:
        customer = http.post("/v1/customers", data={"email": "billing@example.com"})
        customer.raise_for_status()
        method = http.post(
            "/v1/payment_methods",
            data={
                "type": "card",
                "card[number]": card_number,
                "card[exp_month]": "12",
                "card[exp_year]": "2034",
                "card[cvc]": "123",
            },
        )
        method.raise_for_status()
        customer_id, method_id = customer.json()["id"], method.json()["id"]
        http.post(
            f"/v1/payment_methods/{method_id}/attach", data={"customer": customer_id}
        ).raise_for_status()
    return StripeCustomer(customer_id=customer_id, payment_method_id=method_id)


def _serve() -> None:
    import socket

    from aiohttp import web
    from localstripe import resources, server

    resources.Store.dump_to_disk = lambda self: None

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    # Listen before telling the parent: connections made while aiohttp is still starting (a
    # loaded machine) then wait in the backlog instead of being refused.
    sock.listen(128)
    print(f"LISTENING {sock.getsockname()[1]}", flush=True)
    web.run_app(server.app, sock=sock, access_log=None, print=None)


if __name__ == "__main__":
    _serve()
