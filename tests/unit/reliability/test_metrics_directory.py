"""Each worker's Prometheus files in a directory of its own, empty at start: a new worker must
not expose the message counts of other workers of the host, dead or alive."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lineblocs_shared.cli.processes import metrics_directory


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_worker_starts_with_an_empty_directory_of_its_own(tmp_path: Path) -> None:
    leftover = tmp_path / f"maintenance-{os.getpid()}"
    leftover.mkdir()
    (leftover / "counter_123.db").write_bytes(b"490 bill_subscription messages")

    directory = metrics_directory("maintenance", os.getpid(), root=tmp_path)

    assert directory == leftover
    assert list(directory.iterdir()) == []


def test_directories_of_workers_that_are_gone_are_removed_and_live_ones_kept(
    tmp_path: Path,
) -> None:
    gone = tmp_path / f"billing-{dead_pid()}"
    alive = tmp_path / f"billing-{os.getppid()}"
    for directory in (gone, alive):
        directory.mkdir()
        (directory / "counter_1.db").write_bytes(b"x")

    mine = metrics_directory("notifications", os.getpid(), root=tmp_path)

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, mine.name])
    assert (alive / "counter_1.db").exists()
