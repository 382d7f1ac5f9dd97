"""RSU layouts given as parameters: one site every `spacing_m` along routes, and the rule that no
two sites of a layout stand on top of each other.

Why a spacing: corridor deployments are planned as "an RSU every N metres" (ROUTES: 500-1,000 m on
expressways, every signalised junction in the city), and the planner's question is which N is
enough; a spacing is one number a sweep can vary (`--grid rsus.spacing_m=400,800,1600`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.core.errors import ScenarioError
from sim.core.road import Route, RouteGeometry
from sim.spec.schema import RsuSpec

FloatArray = NDArray[np.float64]

#: Two sites closer than this are one site listed twice (an inherited layout plus a new one, a
#: spacing that lands on a listed site): an error, not a doubled RSU.
MIN_SEPARATION_M = 5.0


def spaced_sites(spec: RsuSpec, routes: list[Route], source: str) -> tuple[FloatArray, list[str]]:
    """(N, 2) local x/y of the spaced sites and a key path naming each, in route order."""
    if spec.spacing_m is None:
        if spec.spacing_routes or spec.offset_m is not None:
            key = "rsus.spacing_routes" if spec.spacing_routes else "rsus.offset_m"
            raise ScenarioError(source, key, "only applies with rsus.spacing_m (the spacing)")
        return np.zeros((0, 2)), []
    if spec.geojson:
        raise ScenarioError(source, "rsus.spacing_m",
                            f"a spacing and rsus.geojson ({spec.geojson}) are two layouts of the "
                            "same roads: set rsus.geojson: null (also when inherited from a base "
                            "scenario, e.g. --set rsus.geojson=null) to use the spacing instead")
    ids = [r.id for r in routes]
    wanted = spec.spacing_routes or ids[:1]
    xy: list[FloatArray] = []
    keys: list[str] = []
    for i, rid in enumerate(wanted):
        if rid not in ids:
            raise ScenarioError(source, f"rsus.spacing_routes[{i}]",
                                f"no route {rid!r}; routes: {', '.join(ids[:12])}"
                                + (" ..." if len(ids) > 12 else ""))
        route = routes[ids.index(rid)]
        offset = spec.spacing_m / 2.0 if spec.offset_m is None else spec.offset_m
        s = np.arange(offset, route.length_m + 1e-9, spec.spacing_m)
        if not len(s):
            raise ScenarioError(source, "rsus.offset_m",
                                f"{offset:g} m is beyond the end of route {rid!r} "
                                f"({route.length_m:.0f} m long)")
        w = route.lane_width_m
        # positions() puts lane k's centre (k + 0.5) * w right of the centre line.
        across_m = route.lanes * w + spec.setback_m if spec.side == "right" else -spec.setback_m
        lane = np.full(len(s), across_m / w - 0.5)
        x, y, _ = RouteGeometry([route]).positions(np.zeros(len(s), np.int64), s, lane)  # type: ignore[arg-type]
        xy.append(np.column_stack([x, y]))
        keys += [f"rsus.spacing_m (route {rid!r} at {si:.0f} m)" for si in s]
    return np.concatenate(xy), keys


def check_separation(xy_m: FloatArray, keys: list[str], source: str) -> None:
    """Raises for the first pair of sites closer than MIN_SEPARATION_M."""
    n = len(xy_m)
    if n < 2:
        return
    order = np.argsort(xy_m[:, 0], kind="stable")
    x = xy_m[order]
    # Sorted by x: a close pair lies within MIN_SEPARATION_M in x, so compare with the next few.
    for lag in range(1, n):
        dx = x[lag:, 0] - x[:-lag, 0]
        if not (dx < MIN_SEPARATION_M).any():
            break
        d = np.hypot(dx, x[lag:, 1] - x[:-lag, 1])
        close = np.flatnonzero(d < MIN_SEPARATION_M)
        if len(close):
            i, j = sorted((int(order[close[0]]), int(order[close[0] + lag])))
            raise ScenarioError(source, keys[j],
                                f"this RSU site is {d[close[0]]:.1f} m from {keys[i]}: one site "
                                f"listed twice (sites must be >= {MIN_SEPARATION_M:g} m apart; "
                                "an inherited layout is replaced by setting it to null, e.g. "
                                "rsus.geojson: null)")
