"""Scripted faults as simpy processes: RSU outage, backhaul degradation, edge failure, GNSS error.

Each fault switches a piece of state at `at_s` and back at `until_s` (if given); the run keeps
going and the subsystems count what was lost. GNSS error: a keyed draw picks the affected share of
vehicles; their reported BSM positions get a Gaussian error per axis (sigma_m), redrawn every
second (GNSS errors are correlated over seconds; 1 s is an assumption).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import simpy
from numpy.typing import NDArray

from sim.core.rng import hash_normal, hash_uniform
from sim.spec.roadside import GnssErrorFault

if TYPE_CHECKING:
    from sim.spec.roadside import FaultSpec

GNSS_COHERENCE_MS = 1000


def schedule(env: simpy.Environment, at_s: float, until_s: float | None,
             start: Callable[[], None], stop: Callable[[], None]) -> None:
    """Runs `start` at at_s and `stop` at until_s (if any) in simulated time."""

    def proc():  # type: ignore[no-untyped-def]
        at_ms = round(at_s * 1000)
        if at_ms > env.now:
            yield env.timeout(at_ms - env.now)
        start()
        if until_s is not None:
            until_ms = round(until_s * 1000)
            if until_ms > env.now:
                yield env.timeout(until_ms - env.now)
            stop()

    env.process(proc())


class GnssErrors:
    """Position error of the affected vehicles while a gnss-error fault is active."""

    def __init__(self, faults: list[FaultSpec], key: int) -> None:
        self.faults = [f for f in faults if isinstance(f, GnssErrorFault)]
        self.key = np.uint64(key)
        self.degraded_reports = 0

    def __call__(self, vid: NDArray[np.int64], t_ms: int) -> NDArray[np.float64]:
        """The error added to reported BSM positions (counted as degraded reports)."""
        err = self.error(vid, t_ms)
        self.degraded_reports += int(np.any(err != 0.0, axis=1).sum())
        return err

    def error(self, vid: NDArray[np.int64], t_ms: int) -> NDArray[np.float64]:
        """(n, 2) position error in m of vehicles `vid` at `t_ms` (zero for unaffected ones)."""
        err = np.zeros((len(vid), 2))
        for i, f in enumerate(self.faults):
            if not (f.at_s * 1000 <= t_ms and (f.until_s is None or t_ms < f.until_s * 1000)):
                continue
            hit = hash_uniform(self.key, np.uint64(i), vid.astype(np.uint64)) < f.share
            epoch = np.uint64(t_ms // GNSS_COHERENCE_MS)
            for axis in range(2):
                n = hash_normal(self.key, np.uint64(100 + i), vid.astype(np.uint64), epoch,
                                np.uint64(axis))
                err[:, axis] += np.where(hit, f.sigma_m * n, 0.0)
        return err
