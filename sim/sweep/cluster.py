"""Opening a Dask client: a local cluster of worker processes, or an existing scheduler.

Why processes with one thread each: a run is CPU-bound numpy plus Python (simpy), so threads in
one process would share the GIL; one single-threaded process per core scales and keeps each run's
memory measurement to itself; the radio kernels' own threads (`sim.radio.threads`, GIL-free) get
the cores left per worker (`V2XSIM_THREADS`, 1 when every core has a worker). Dask's own logging
is silenced below errors so the terminal shows the sweep's progress, not cluster chatter. Workers
of a remote cluster must have this package installed and see the same file system paths
(scenario files and the output directory).

Why `MALLOC_TRIM_THRESHOLD_` is unset: Dask's nanny sets it to 64 KiB in every worker so memory
goes back to the OS quickly. Setting it at all switches off glibc's adaptive mmap threshold, so
every numpy temporary above 128 KiB is mmap'ed and unmapped again; a radio batch makes hundreds of
them. Measured on the airport expressway (6 s, 100 % equipped, 6 veh/km/lane): 10.8 s wall
(6.8 s of it in the kernel) with the variable set, 3.1 s without. Runs are independent and short
lived, so the memory Dask wants to trim is reused by the next run anyway. Remote workers should be
started with the same setting (`distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_: null`);
`worker_warnings` reports workers that were not.
"""

from __future__ import annotations

import logging
import os
import signal
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sim.sweep.errors import SweepError

CONNECT_TIMEOUT_S = 5  # a dead address fails within seconds; a live scheduler answers in ms
TRIM_KEY = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
LOOPBACK = "127.0.0.1"


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
        except Exception as exc:  # noqa: BLE001 - whatever answers there, it is no scheduler
            # Not only OSError/TimeoutError: a server that is not Dask (an HTTP proxy, anything)
            # answers bytes that Dask reads as a frame length, e.g. "HTTP/1.1" = 3 EiB, which
            # ends in a MemoryError from deep inside distributed.
            why = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise SweepError(f"--scheduler {scheduler}: cannot connect ({why}); is it a Dask "
                             "scheduler? Start one with `dask scheduler` or omit --scheduler "
                             "for a local cluster") from None
        try:
            yield client
        finally:
            client.close()
        return
    import dask

    n = workers or default_workers()
    # A nanny started earlier in this process with Dask's defaults leaves the variable in
    # os.environ, where new workers would inherit it: take it out while ours spawn.
    inherited = os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    # Radio kernel threads per worker (sim.radio.threads): the cores left to each, not all of
    # them in every worker (n workers x all cores would oversubscribe the machine). Given to the
    # nannies, so a restarted worker keeps it.
    worker_env = {"V2XSIM_THREADS": os.environ.get("V2XSIM_THREADS",
                                                   str(max(1, default_workers() // n)))}
    # Worker processes inherit an ignored SIGINT (it survives exec, and neither Python nor asyncio
    # then installs a handler), so a Ctrl-C in the terminal, sent to the whole process group,
    # reaches only this process: it cancels the runs and closes the cluster, instead of every
    # worker printing its own KeyboardInterrupt traceback.
    sigint = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main_thread() else None
    try:
        with warnings.catch_warnings(), dask.config.set({TRIM_KEY: None}):
            # The scheduler's health endpoint binds :8787 even without a dashboard and warns when
            # another cluster on this machine has it; it then takes another port, which is fine.
            warnings.filterwarnings("ignore", message="Port .* is already in use")
            # Loopback only, said explicitly rather than left to Dask's defaults: the scheduler
            # runs whatever it is sent (pickled functions), so it must not listen on a network.
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   host=LOOPBACK, dashboard_address=None,
                                   silence_logs=logging.ERROR, env=worker_env)
    finally:
        if sigint is not None:
            signal.signal(signal.SIGINT, sigint)
        if inherited is not None:
            os.environ["MALLOC_TRIM_THRESHOLD_"] = inherited
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _trim_threshold() -> str | None:
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def worker_warnings(client: Any) -> list[str]:
    """Notes about workers configured in a way known to slow the simulator down."""
    try:
        found = client.run(_trim_threshold)
    except Exception:  # noqa: BLE001 - a diagnostic must never stop the sweep
        return []
    slow = sorted(addr for addr, value in found.items() if value is not None)
    if not slow:
        return []
    return [f"{len(slow)} worker(s) run with MALLOC_TRIM_THRESHOLD_ set (Dask's default), which "
            "makes runs about 3x slower; start them with "
            "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_ = null"]
