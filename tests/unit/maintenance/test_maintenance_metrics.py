"""The maintenance counters reach the workers' multiprocess exposition, and are inert where
metrics are off (the CLI, the demo)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from lineblocs_maintenance import metrics as maintenance_metrics
from lineblocs_shared.reliability.observability.metrics import exposition, metrics_enabled

RECORDING_PROCESS = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from lineblocs_maintenance import metrics
    from lineblocs_shared.reliability.observability.metrics import enable_metrics

    enable_metrics(Path(sys.argv[1]))
    metrics.count_purged("debugger_logs", 10000)
    metrics.count_purged("debugger_logs", 250)
    metrics.count_users("deleted", 3)
    metrics.count_users("kept", 0)
    """
)


def test_rows_purged_and_users_cleaned_are_counted_across_processes(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("prometheus_multiproc")}
    for _ in range(2):
        subprocess.run(
            [sys.executable, "-c", RECORDING_PROCESS, str(tmp_path)],
            env=env,
            check=True,
            timeout=60,
        )

    lines = exposition(tmp_path)[0].decode().splitlines()

    assert 'lbj_maintenance_rows_purged_total{table="debugger_logs"} 20500.0' in lines
    assert 'lbj_maintenance_users_cleaned_total{outcome="deleted"} 6.0' in lines
    assert not [line for line in lines if 'outcome="kept"' in line]  # nothing counted: no series


def test_recording_without_metrics_is_a_no_op() -> None:
    assert not metrics_enabled()
    maintenance_metrics.count_purged("debugger_logs", 5)  # no registry, no error
