"""Expressway ramps on a single route, vectorized.

A full network of routes sharing lanes is not modelled; instead a ramp lives on the main route:
- an **on-ramp** is an acceleration lane appended to the right of the main lanes (lane index =
  the route's main lane count) over [start, start + length]. Vehicles enter it at its start
  (Poisson flow), must change left into the main carriageway (MOBIL with the incentive replaced
  by the obligation, safety kept), and stop at its end if no gap came (an IDM wall), as drivers
  wait at the end of a Chinese acceleration lane;
- an **off-ramp** is a diverge point: a share of the route's vehicles is assigned to it at entry,
  keeps right from `prepare_m` before it, and leaves the route there from the right lane. A
  vehicle that could not reach the right lane in time drives on (a missed exit).
Default lengths after JTG D20-2017 (Chinese highway route design) practice for 120 km/h: an
acceleration lane of about 230 m; these are parameters, not surveyed ramp geometry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

KEY_M = 1e7


@dataclass(frozen=True)
class Ramps:
    on_route: IntArray  # sorted by (route, start)
    on_start_m: FloatArray
    on_end_m: FloatArray
    on_flow_veh_s: FloatArray
    off_route: IntArray
    off_s_m: FloatArray
    off_share: FloatArray
    off_prepare_m: FloatArray

    @staticmethod
    def none() -> Ramps:
        e, ei = np.zeros(0), np.zeros(0, np.int64)
        return Ramps(ei, e, e, e, ei, e, e, e)

    def has_on_ramp(self, n_routes: int) -> NDArray[np.bool_]:
        out = np.zeros(n_routes, bool)
        out[self.on_route] = True
        return out

    def accel_lane_end(self, route: IntArray, s_m: FloatArray) -> FloatArray:
        """End of the acceleration lane whose stretch contains s (inf if none)."""
        if len(self.on_route) == 0:
            return np.full(len(route), np.inf)
        keys = self.on_route * KEY_M + self.on_start_m
        i = np.searchsorted(keys, route * KEY_M + s_m, side="right") - 1
        i_c = np.maximum(i, 0)
        ok = (i >= 0) & (self.on_route[i_c] == route) & (s_m <= self.on_end_m[i_c] + 50.0)
        return np.where(ok, self.on_end_m[i_c], np.inf)

    def assign_exits(self, route: IntArray, s_m: FloatArray, rng: np.random.Generator
                     ) -> FloatArray:
        """Off-ramp position each new vehicle will take (inf: none); ramps in route order, each
        taken with its share by vehicles that have not chosen an earlier one."""
        exit_s = np.full(len(route), np.inf)
        if len(self.off_route) == 0 or len(route) == 0:
            return exit_s
        u = rng.random((len(route), len(self.off_route)))
        for k in np.argsort(self.off_s_m, kind="stable"):  # a few ramps, not vehicles
            take = ((route == self.off_route[k]) & (s_m < self.off_s_m[k] - 1.0)
                    & ~np.isfinite(exit_s))
            exit_s = np.where(take & (u[:, k] < self.off_share[k]), self.off_s_m[k], exit_s)
        return exit_s

    def prepare_m(self, route: IntArray, exit_s_m: FloatArray) -> FloatArray:
        """Keep-right distance before each vehicle's exit (0 where it has none)."""
        out = np.zeros(len(route))
        for k in range(len(self.off_route)):
            sel = (route == self.off_route[k]) & (exit_s_m == self.off_s_m[k])
            out = np.where(sel, self.off_prepare_m[k], out)
        return out
