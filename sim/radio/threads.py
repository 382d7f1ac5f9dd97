"""Threads for the radio kernels: deterministic chunks of GIL-free numba loops.

Why threads and not numba `parallel=True`: a parallel region's workers spin at its barrier, so on a
machine whose cores are shared with other jobs one descheduled worker stalled every region (2-7x
slower than serial in our measurements), and parfors builds are not cached on disk. Here each kernel
is the ordinary serial, cached loop over a range of rows (transmissions, subframes, links); a range
per thread, joined with `concurrent.futures`, so a busy core only delays its own chunk. Every
chunk writes rows no other chunk writes and the chunks are concatenated in row order, so results
are byte-identical for any thread count (tests/test_radio_kernel.py).

Threads: `V2XSIM_THREADS` if set, else the cores this process may use (at most 8); `set_threads`
changes it. Dask sweep workers get the cores left per worker through `V2XSIM_THREADS`
(`sim.sweep.cluster`). A forked child starts without the parent's pool (its threads do not exist
there) and makes its own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

#: Upper bound of the default: beyond this, batches of a few thousand transmissions split into
#: chunks too small to pay for their hand-off.
MAX_DEFAULT_THREADS = 8


def _default_threads() -> int:
    env = os.environ.get("V2XSIM_THREADS")
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(f"V2XSIM_THREADS must be a positive integer, got {env!r}") from None
        if n < 1:
            raise ValueError(f"V2XSIM_THREADS must be a positive integer, got {env!r}")
        return n
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_THREADS))


_state: dict[str, Any] = {"threads": None, "pool": None}
_pool_lock = threading.Lock()  # callers on several threads of their own share one pool
if hasattr(os, "register_at_fork"):  # a child inherits the pool object but none of its threads
    os.register_at_fork(after_in_child=lambda: _state.update(pool=None))


def threads() -> int:
    """Threads the radio kernels use."""
    if _state["threads"] is None:
        _state["threads"] = _default_threads()
    return int(_state["threads"])


def set_threads(n: int) -> None:
    """Uses n threads from now on (1: everything on the calling thread)."""
    if n < 1:
        raise ValueError(f"threads must be >= 1, got {n}")
    with _pool_lock:
        if _state["pool"] is not None and n != _state["threads"]:
            _state["pool"].shutdown(wait=True)
            _state["pool"] = None
        _state["threads"] = n


def split(n_rows: int, min_rows: int) -> list[tuple[int, int]]:
    """Row ranges [lo, hi) covering n_rows: one per thread, none shorter than min_rows (fewer
    chunks when the work is small), in order."""
    k = max(1, min(threads(), n_rows // max(min_rows, 1)))
    bounds = [n_rows * i // k for i in range(k + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(k)]


def run(fn: Callable[..., Any], chunks: Sequence[tuple[int, int]], *args: Any) -> list[Any]:
    """fn(lo, hi, *args) for every chunk, on the pool when there are several; results in chunk
    order."""
    if len(chunks) <= 1:
        return [fn(lo, hi, *args) for lo, hi in chunks]
    with _pool_lock:
        if _state["pool"] is None:
            _state["pool"] = ThreadPoolExecutor(max_workers=threads(),
                                                thread_name_prefix="v2xsim-radio")
        pool = _state["pool"]
    futures = [pool.submit(fn, lo, hi, *args) for lo, hi in chunks]
    wait(futures)  # every chunk has stopped writing before any result or error is returned
    return [f.result() for f in futures]
