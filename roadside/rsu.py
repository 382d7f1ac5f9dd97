"""Roadside units as radio nodes: fixed position, mast height, their own power, gain and noise.

RSUs are a small static table next to the vehicle table; the radio treats both as nodes. Here they
receive BSMs (uplink); forwarding to the edge and downlink messages build on this table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

#: RSU node keys live far above vehicle ids so that the channel draws never mix them up.
RSU_KEY_BASE = 1 << 40


@dataclass(frozen=True)
class RsuTable:
    xy_m: NDArray[np.float64]  # (R, 2)
    lonlat_deg: NDArray[np.float64]  # (R, 2), for outputs
    height_m: float
    tx_power_dbm: float
    antenna_gain_dbi: float
    noise_figure_db: float

    def __len__(self) -> int:
        return len(self.xy_m)

    @property
    def key(self) -> NDArray[np.uint64]:
        return (RSU_KEY_BASE + np.arange(len(self))).astype(np.uint64)
