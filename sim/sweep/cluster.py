"""Opening a Dask client: a local cluster of worker processes, or an existing scheduler.

Why processes with one thread each: a run is CPU-bound numpy plus Python (simpy), so threads in
one process would share the GIL; one single-threaded process per core scales and keeps each run's
memory measurement to itself. Dask's own logging is silenced below errors so the terminal shows
the sweep's progress, not cluster chatter. Workers of a remote cluster must have this package
installed and see the same file system paths (scenario files and the output directory).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sim.sweep.errors import SweepError

CONNECT_TIMEOUT_S = 10


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextmanager
def open_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """Yields a `distributed.Client`; closes it (and the local cluster it started) on exit."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SweepError(f"--scheduler {scheduler}: cannot connect ({exc}); start one with "
                             "`dask scheduler` or omit --scheduler for a local cluster") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or default_workers()
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
