"""Urban NLOS: buildings that block the direct path of a link (TR 37.885 §6.2.1).

TR 37.885 decides the building-blocked (NLOS) state of urban V2V links geometrically, not by a
probability: a link whose straight tx-rx segment crosses a building footprint is NLOS and takes
the urban NLOS path loss PL = 36.85 + 30 log10(d_3D) + 18.9 log10(fc) with 4 dB log-normal
shadowing (Table 6.2.1-1), replacing the LOS/NLOSv loss the channel model computed. Buildings are
taller than every antenna (no over-the-roof path); footprints are polygons in local metres.

The test is a vectorized segment-segment intersection of links against building
edges, per building after a bounding-box cull (links in chunks to bound memory). The shadowing draw
is counter-based on the unordered node pair and a coherence epoch, as in `sim.radio.channel`, so
the channel stays reciprocal and deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.core.rng import hash_keys, hash_normal
from sim.radio.pathloss import tr37885_urban_nlos_db

FloatArray = NDArray[np.float64]

#: TR 37.885 Table 6.2.1-1: shadowing of building-blocked (NLOS) V2V links.
NLOS_SHADOWING_DB = 4.0
_TAG_BUILDING_SHADOW = 0x42534844
_CHUNK_LINKS = 20_000


@dataclass(frozen=True)
class Buildings:
    edge_a_m: FloatArray  # (E, 2) start of each footprint edge
    edge_b_m: FloatArray  # (E, 2) end
    edge_building: NDArray[np.int64]  # (E,) footprint of each edge
    bbox_m: FloatArray  # (B, 4) xmin, ymin, xmax, ymax of each footprint
    fc_ghz: float
    key: int
    coherence_ms: int

    @staticmethod
    def from_polygons(polygons: list[FloatArray], fc_ghz: float, key: int, coherence_ms: int
                      ) -> Buildings:
        a = np.concatenate(polygons).reshape(-1, 2)
        b = np.concatenate([np.roll(p, -1, axis=0) for p in polygons]).reshape(-1, 2)
        which = np.repeat(np.arange(len(polygons)), [len(p) for p in polygons])
        bbox = np.array([[*p.min(axis=0), *p.max(axis=0)] for p in polygons]).reshape(-1, 4)
        return Buildings(a, b, which, bbox, fc_ghz, key, coherence_ms)

    def __len__(self) -> int:
        return len(self.edge_a_m)

    def blocked(self, p_m: FloatArray, q_m: FloatArray) -> NDArray[np.bool_]:
        """Whether each segment p->q properly crosses an edge of any footprint. Per footprint (a
        loop over buildings, not links), only links whose bounding box overlaps the footprint's
        are tested against its edges."""
        out = np.zeros(len(p_m), bool)
        lo, hi = np.minimum(p_m, q_m), np.maximum(p_m, q_m)

        def cross(o: FloatArray, u: FloatArray, v: FloatArray) -> FloatArray:
            return (u[..., 0] - o[..., 0]) * (v[..., 1] - o[..., 1]) - (
                u[..., 1] - o[..., 1]) * (v[..., 0] - o[..., 0])

        for k, (x0, y0, x1, y1) in enumerate(self.bbox_m):
            cand = np.flatnonzero(~out & (hi[:, 0] >= x0) & (lo[:, 0] <= x1)
                                  & (hi[:, 1] >= y0) & (lo[:, 1] <= y1))
            if len(cand) == 0:
                continue
            mine = self.edge_building == k
            a, b = self.edge_a_m[mine][None], self.edge_b_m[mine][None]
            for i in range(0, len(cand), _CHUNK_LINKS):  # chunks of links, for memory
                rows = cand[i:i + _CHUNK_LINKS]
                p, q = p_m[rows, None], q_m[rows, None]
                hit = (cross(a, b, p) * cross(a, b, q) < 0) & (cross(p, q, a) * cross(p, q, b) < 0)
                out[rows] = hit.any(axis=1)
        return out

    def apply(self, loss_db: FloatArray, p_tx_m: FloatArray, p_rx_m: FloatArray,
              h_tx_m: FloatArray, h_rx_m: FloatArray, key_a: NDArray[np.uint64],
              key_b: NDArray[np.uint64], subframe_ms: NDArray[np.int64]) -> FloatArray:
        """Link losses with building-blocked links replaced by the urban NLOS loss."""
        if len(loss_db) == 0 or len(self) == 0:
            return loss_db
        nlos = self.blocked(p_tx_m, p_rx_m)
        if not nlos.any():
            return loss_db
        d2 = np.hypot(*(p_tx_m[nlos] - p_rx_m[nlos]).T)
        d3 = np.sqrt(d2**2 + (h_tx_m[nlos] - h_rx_m[nlos]) ** 2)
        lo, hi = np.minimum(key_a[nlos], key_b[nlos]), np.maximum(key_a[nlos], key_b[nlos])
        epoch = (np.asarray(subframe_ms)[nlos] // self.coherence_ms).astype(np.uint64)
        link = hash_keys(np.uint64(self.key), lo, hi, epoch)
        out = loss_db.copy()
        out[nlos] = tr37885_urban_nlos_db(d3, self.fc_ghz) + NLOS_SHADOWING_DB * hash_normal(
            link, _TAG_BUILDING_SHADOW)
        return out
