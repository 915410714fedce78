"""The watchdog reads its pipe in batches (it pauses after each read, so that it wakes a few times a second
rather than twice per job); every line still counts, whatever the batches cut it into."""

from __future__ import annotations

import signal
import subprocess

from hypermetric.execution.watchdog import Watchdog


def test_every_registration_counts_however_the_reads_split_the_lines(tmp_path) -> None:
    watchdog = Watchdog(grace=5.0)
    survivor = subprocess.Popen(["sleep", "1000"], start_new_session=True)
    try:
        lock = str(tmp_path / ("x" * 200))
        for i in range(2000):  # about 450 KB: many reads, with lines cut between two of them
            watchdog.guard(4_000_000 + i, lock)  # each released at once, so never signalled
            watchdog.release(4_000_000 + i)
        watchdog.guard(survivor.pid)
        watchdog.close()  # as if this process had died: the watchdog stops what is still registered
        assert survivor.wait(timeout=60) == -signal.SIGTERM
    finally:
        survivor.kill()
        survivor.wait()
