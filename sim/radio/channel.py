"""Large-scale channel of a link: path loss by model, LOS/NLOSv state, log-normal shadowing.

Random parts (LOS draw, NLOSv blockage loss, shadowing) are counter-based draws keyed by the
unordered node pair and a coherence epoch, so that:
- the channel is reciprocal (A->B and B->A see the same loss, as sensing-based SPS assumes);
- a link keeps its state for `coherence_ms` instead of flickering from packet to packet;
- the vectorized kernel and the scalar reference compute bit-identical draws;
- no N x N state is stored (10,000 vehicles would need 800 MB of it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.core.rng import hash_keys, hash_normal, hash_uniform
from sim.radio import pathloss as pl

FloatArray = NDArray[np.float64]

PATHLOSS_MODELS = ("tr37885-highway", "tr37885-urban", "winner-b1", "winner-b1-gm2019")

# Purpose tags for the counter-based draws (any distinct constants will do).
_TAG_LOS = 0x4C4F53
_TAG_NLOSV = 0x4E4C5356
_TAG_SHADOW = 0x534841


@dataclass(frozen=True)
class ChannelModel:
    pathloss: str
    fc_ghz: float
    shadowing_sigma_db: float | None  # None: the model's own (3 dB LOS/NLOSv)
    coherence_ms: int
    blocker_height_m: float
    key: int  # the scenario's channel key from the RNG tree

    def __post_init__(self) -> None:
        if self.pathloss not in PATHLOSS_MODELS:
            raise ValueError(f"unknown path-loss model {self.pathloss!r}; allowed: {PATHLOSS_MODELS}")

    def link_loss_db(
        self,
        distance_2d_m: FloatArray,
        h_tx_m: FloatArray,
        h_rx_m: FloatArray,
        key_a: NDArray[np.uint64],
        key_b: NDArray[np.uint64],
        subframe_ms: NDArray[np.int64],
    ) -> tuple[FloatArray, NDArray[np.bool_]]:
        """Total loss (path loss + blockage + shadowing) in dB and the LOS flag, per link."""
        lo = np.minimum(key_a, key_b)
        hi = np.maximum(key_a, key_b)
        epoch = (np.asarray(subframe_ms) // self.coherence_ms).astype(np.uint64)
        # One hash of (scenario key, pair, epoch) per link; each purpose re-hashes it with a tag.
        link = hash_keys(np.uint64(self.key), lo, hi, epoch)
        d3 = np.sqrt(distance_2d_m**2 + (h_tx_m - h_rx_m) ** 2)
        if self.pathloss == "winner-b1":
            loss = pl.winner_b1_los_db(distance_2d_m, self.fc_ghz, 0.5, 0.5)
            los = np.ones(loss.shape, dtype=bool)
        elif self.pathloss == "winner-b1-gm2019":
            loss = pl.winner_b1_los_db(distance_2d_m, self.fc_ghz, 1.5, 1.5, free_space_floor=True)
            los = np.ones(loss.shape, dtype=bool)
        else:
            highway = self.pathloss == "tr37885-highway"
            p_los = pl.p_los_highway(distance_2d_m) if highway else pl.p_los_urban(distance_2d_m)
            los = hash_uniform(link, _TAG_LOS) < p_los
            base = (
                pl.tr37885_highway_los_db(d3, self.fc_ghz)
                if highway
                else pl.tr37885_urban_los_db(d3, self.fc_ghz)
            )
            mu, sigma = pl.nlosv_blockage_params_db(
                distance_2d_m, h_tx_m, h_rx_m, self.blocker_height_m
            )
            extra = np.maximum(0.0, mu + sigma * hash_normal(link, _TAG_NLOSV))
            loss = base + np.where(los, 0.0, extra)
        sigma_db = 3.0 if self.shadowing_sigma_db is None else self.shadowing_sigma_db
        if sigma_db > 0.0:
            loss = loss + sigma_db * hash_normal(link, _TAG_SHADOW)
        return loss, los
