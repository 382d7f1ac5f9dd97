"""Per-hop latency of every message path, streamed into fixed histograms (constant memory).

A path is the chain a piece of information rides from its origin (BSM generation, roadside sensor
capture, RSU message generation) to a vehicle's receiver:

    pc5          BSM generation -> pc5_wait_up -> air_up -> vehicle
    rsu          RSU generation (SPAT, MAP, scripted RSI) -> pc5_wait_down -> air_down -> vehicle
    rsu_edge     BSM -> pc5_wait_up -> air_up -> RSU -> backhaul_up -> edge_bundle -> edge_queue
                 -> edge_processing -> backhaul_down -> RSU -> rsu_hold -> pc5_wait_down
                 -> air_down -> vehicle (an RSI alert)
    sensor_edge  roadside sensor capture -> backhaul_up -> edge_queue -> edge_processing
                 -> backhaul_down -> RSU -> rsu_hold -> pc5_wait_down -> air_down -> vehicle
                 (an RSM, sent at once, or an RSI alert)
    uu_edge      BSM -> uu_up -> edge_bundle -> edge_queue -> edge_processing -> uu_down -> vehicle

edge_bundle is the wait for the last message of the task's bundle (the edge assesses each RSU's
BSMs, and the Uu BSMs of each arrival window, once per radio batch); edge_queue is the wait for a
core; rsu_hold is the wait of an alert for its next RSI slot (repeated at 10 Hz while valid).
Each hop is sampled where it happens (per message at that hop; a message lost later still counts
for the hops it made), end to end per successful vehicle reception. `air` is the 1 ms subframe
(TTI), as in the BSM latency of `RadioRecorder`. Budgets: 100 ms (TS 22.185 V2V/V2I), 20 ms
(TS 22.185 pre-crash special case / TS 22.186 advanced driving).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from sim.metrics.kpi import quantile_from_hist

BIN_MS = 0.1
MAX_MS = 5000.0
BUDGETS_MS = (100.0, 20.0)
PATH_HOPS: dict[str, tuple[str, ...]] = {
    "pc5": ("pc5_wait_up", "air_up"),
    "rsu": ("pc5_wait_down", "air_down"),
    "rsu_edge": ("pc5_wait_up", "air_up", "backhaul_up", "edge_bundle", "edge_queue",
                 "edge_processing", "backhaul_down", "rsu_hold", "pc5_wait_down", "air_down"),
    "sensor_edge": ("backhaul_up", "edge_queue", "edge_processing", "backhaul_down", "rsu_hold",
                    "pc5_wait_down", "air_down"),
    "uu_edge": ("uu_up", "edge_bundle", "edge_queue", "edge_processing", "uu_down"),
}


class HopRecorder:
    def __init__(self, warmup_ms: int = 0) -> None:
        self.warmup_ms = warmup_ms
        self.n_bins = int(MAX_MS / BIN_MS)
        self.hist: dict[tuple[str, str], np.ndarray] = {}
        self._pending: dict[tuple[str, str], list[np.ndarray]] | None = None

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Inside, samples are collected and added per (path, hop) once at the end: one histogram
        update instead of one per call (a per-RSU loop records ~4 small arrays per RSU)."""
        if self._pending is not None:  # nested: the outer context adds everything
            yield
            return
        self._pending = {}
        try:
            yield
        finally:
            pending, self._pending = self._pending, None
            for (path, hop), parts in pending.items():
                self._add(path, hop, np.concatenate(parts))

    def record(self, path: str, hop: str, delay_ms: ArrayLike, at_ms: ArrayLike | None = None) -> None:
        """Adds samples of `hop` ("e2e" for end to end) on `path`; samples whose time `at_ms` is
        inside the warm-up are ignored."""
        d = np.asarray(delay_ms, dtype=np.float64).ravel()
        if at_ms is not None:
            at = np.asarray(at_ms)
            if at.size == 1:  # one time for all samples (the common per-RSU call: no broadcast)
                if not at.ravel()[0] >= self.warmup_ms:  # NaN too, as the comparison below
                    return
            else:
                keep = np.broadcast_to(at, d.shape) >= self.warmup_ms
                if not keep.all():  # after the warm-up every sample is kept: no copy
                    d = d[keep]
        if not len(d):
            return
        if self._pending is not None:  # a copy: the caller may reuse its array before the end
            self._pending.setdefault((path, hop), []).append(d.copy())
            return
        self._add(path, hop, d)

    def _add(self, path: str, hop: str, d: np.ndarray) -> None:
        h = self.hist.setdefault((path, hop), np.zeros(self.n_bins, np.int64))
        idx = np.clip((np.maximum(d, 0.0) / BIN_MS).astype(np.int64), 0, self.n_bins - 1)
        counts = np.bincount(idx)  # only up to the largest delay seen (a few of the 50,000 bins)
        h[:len(counts)] += counts

    def stats(self, path: str, hop: str) -> dict[str, float | int | None]:
        h = self.hist.get((path, hop))
        n = 0 if h is None else int(h.sum())
        out: dict[str, float | int | None] = {"samples": n}
        for p in (0.5, 0.95, 0.99):
            q = None if h is None or n == 0 else quantile_from_hist(h, BIN_MS, p)
            out[f"p{int(p * 100)}_ms"] = None if q is None else round(float(q), 3)
        if h is not None and n:
            centres = (np.arange(self.n_bins) + 0.5) * BIN_MS
            out["mean_ms"] = round(float((h * centres).sum() / n), 3)
        else:
            out["mean_ms"] = None
        if hop == "e2e":
            for b in BUDGETS_MS:
                k = round(b / BIN_MS)
                out[f"within_{int(b)}ms"] = None if h is None or n == 0 else round(
                    float(h[:k].sum()) / n, 6)
        return out

    def paths(self) -> list[str]:
        return [p for p in PATH_HOPS if any(k[0] == p for k in self.hist)]

    def summary(self) -> dict[str, dict[str, Any]]:
        """{"e2e": {path: stats}, "hops": {path: {hop: stats}}}."""
        e2e = {p: self.stats(p, "e2e") for p in self.paths()}
        hops = {p: {h: self.stats(p, h) for h in PATH_HOPS[p]} for p in self.paths()}
        return {"e2e": e2e, "hops": hops}

    def rows(self) -> list[tuple[Any, ...]]:
        """CSV rows: path, hop, samples, p50, p95, p99, mean, within 100, within 20."""
        out = []
        for p in self.paths():
            for h in (*PATH_HOPS[p], "e2e"):
                s = self.stats(p, h)
                out.append((p, h, s["samples"], s["p50_ms"], s["p95_ms"], s["p99_ms"], s["mean_ms"],
                            s.get("within_100ms"), s.get("within_20ms")))
        return out


ROWS_HEADER = ["path", "hop", "samples", "p50_ms", "p95_ms", "p99_ms", "mean_ms",
               "within_100ms", "within_20ms"]


class AgeTracker:
    """Age of information at receivers: per (receiver, message type) the origin time of the freshest
    update received; sampled every step as now - origin, for receivers whose freshest update is
    younger than `horizon_ms` (one that left coverage stops counting)."""

    def __init__(self, horizon_ms: int = 5000, warmup_ms: int = 0) -> None:
        self.horizon_ms = horizon_ms
        self.warmup_ms = warmup_ms
        self.key = np.empty(0, np.int64)
        self.origin = np.empty(0, np.int64)
        self.hist = np.zeros(int(MAX_MS / BIN_MS), np.int64)

    def update(self, key: np.ndarray, origin_ms: np.ndarray) -> None:
        if not len(key):
            return
        k = np.concatenate([self.key, key.astype(np.int64)])
        o = np.concatenate([self.origin, origin_ms.astype(np.int64)])
        order = np.lexsort((o, k))
        k, o = k[order], o[order]
        last = np.ones(len(k), bool)
        last[:-1] = k[1:] != k[:-1]
        self.key, self.origin = k[last], o[last]

    def sample(self, now_ms: int, alive_keys: np.ndarray | None = None) -> None:
        fresh = self.origin >= now_ms - self.horizon_ms
        if alive_keys is not None and len(self.key):
            fresh &= np.isin(self.key, alive_keys)
        self.key, self.origin = self.key[fresh], self.origin[fresh]
        if now_ms < self.warmup_ms or not len(self.key):
            return
        age = np.maximum(now_ms - self.origin, 0)
        idx = np.clip((age / BIN_MS).astype(np.int64), 0, len(self.hist) - 1)
        counts = np.bincount(idx)
        self.hist[:len(counts)] += counts

    def summary(self) -> dict[str, float | int | None]:
        n = int(self.hist.sum())
        out: dict[str, float | int | None] = {"samples": n}
        for p in (0.5, 0.95):
            q = quantile_from_hist(self.hist, BIN_MS, p) if n else None
            out[f"p{int(p * 100)}_ms"] = None if q is None else round(float(q), 3)
        return out
