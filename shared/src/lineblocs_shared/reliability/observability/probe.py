"""Container health check: GET the running process's own /readyz (or /livez) on HEALTH_PORT.

The image's HEALTHCHECK runs this file as `python -S probe.py`: standard library only, no site
packages, so a probe costs a few tens of milliseconds where `lineblocs-jobs health` cost seconds
of CPU every 30 s (issue 15). It asks the worker or scheduler already running instead of opening
connections of its own; their /readyz answers from checks cached for a few seconds.
Exit 0 on HTTP 200, else 1 with the reason (the endpoint's JSON body) on stderr.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_S = 8.0  # under compose's 10 s timeout: a slow answer still reports its reason


def probe(path: str = "/readyz", *, port: int | None = None) -> int:
    port = port if port is not None else int(os.environ.get("HEALTH_PORT") or 8080)
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        print(f"{url}: {error.code} {error.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    except OSError as error:  # refused, timed out: nothing serves the port
        print(f"{url}: {error}", file=sys.stderr)
        return 1
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(probe(*sys.argv[1:2]))
