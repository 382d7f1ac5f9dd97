"""Resource choice for each packet: which subframe and which subchannels.

`RandomScheduler` is the first, simple policy: a subframe uniform in [gen + T1, gen + T2] and a
uniformly random start subchannel per packet, with no sensing. It gives the right access-latency
distribution for fresh SPS packets (uniform over the selection window) but over-estimates
collisions relative to Mode 4 sensing; the SPS scheduler replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass
class RandomScheduler:
    t1_ms: int
    t2_ms: int
    n_subchannels: int
    rng: np.random.Generator

    def sync(self, vids: NDArray[np.int64]) -> NDArray[np.int64]:
        """No per-UE state: every UE maps to slot 0."""
        return np.zeros(len(vids), dtype=np.int64)

    def observe(self, *args: object, **kwargs: object) -> None:
        """No sensing: nothing to learn from a batch."""

    def assign(
        self, slots: NDArray[np.int64], gen_ms: NDArray[np.int64], n_subch: NDArray[np.int64],
        priority: NDArray[np.int64] | None = None,
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(subframe_ms, start subchannel) per packet (no sensing: the priority plays no part)."""
        n = len(gen_ms)
        subframe = gen_ms + self.rng.integers(self.t1_ms, self.t2_ms + 1, size=n)
        start = self.rng.integers(0, self.n_subchannels - n_subch + 1, size=n)
        return subframe, start
