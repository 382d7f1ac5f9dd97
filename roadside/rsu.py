"""Roadside units as radio nodes: fixed position, mast height, their own power, gain and noise.

RSUs are a small static table next to the vehicle table; the radio treats both as nodes. Here they
receive BSMs (uplink); forwarding to the edge and downlink messages build on this table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

#: RSU node keys live far above vehicle ids so that the channel draws never mix them up.
RSU_KEY_BASE = 1 << 40

#: An RSU within this distance of a signalised intersection serves it (SPAT/MAP).
SIGNAL_RSU_RADIUS_M = 150.0


def serving_signal(rsu_xy_m: NDArray[np.float64], signal_xy_m: NDArray[np.float64]) -> NDArray[np.int64]:
    """Index of the nearest signal within SIGNAL_RSU_RADIUS_M of each RSU, -1 if none."""
    if len(rsu_xy_m) == 0 or len(signal_xy_m) == 0:
        return np.full(len(rsu_xy_m), -1, dtype=np.int64)
    d = np.linalg.norm(rsu_xy_m[:, None, :] - signal_xy_m[None, :, :], axis=2)
    best = np.argmin(d, axis=1)
    return np.where(d[np.arange(len(best)), best] <= SIGNAL_RSU_RADIUS_M, best, -1).astype(np.int64)


@dataclass(frozen=True)
class RsuTable:
    xy_m: NDArray[np.float64]  # (R, 2)
    lonlat_deg: NDArray[np.float64]  # (R, 2), for outputs
    height_m: float
    tx_power_dbm: float
    antenna_gain_dbi: float
    noise_figure_db: float
    #: Signal (index into the scenario's SignalTable) each RSU serves with SPAT/MAP, -1 for none:
    #: the nearest signal within `SIGNAL_RSU_RADIUS_M`.
    signal_idx: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))

    def __len__(self) -> int:
        return len(self.xy_m)

    @property
    def key(self) -> NDArray[np.uint64]:
        return (RSU_KEY_BASE + np.arange(len(self))).astype(np.uint64)
