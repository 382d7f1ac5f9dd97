"""Fixed-time traffic signals: plans, their state at any time, and the stop lines on each route.

A signal serves two approach groups: `axis` (routes whose heading at the signal is within 45
degrees of the signal's axis, either way) and `cross`. Its plan is a cycle of phases, each giving
one group green then yellow then an all-red clearance; the other group is red meanwhile. The state
is a pure function of time, so the engine never needs a process per signal, and SPAT messages can
carry exactly what vehicles obey.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

GREEN, YELLOW, RED = 0, 1, 2
GROUP_AXIS, GROUP_CROSS = 0, 1

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class SignalTable:
    """All signals of a scenario as columns; phases padded to the longest plan."""

    ids: tuple[str, ...]
    sources: tuple[str, ...]
    xy_m: NDArray[np.float64]  # (S, 2)
    axis_rad: NDArray[np.float64]  # (S,) direction of the axis group, math convention (from +x)
    offset_ms: IntArray  # (S,)
    cycle_ms: IntArray  # (S,)
    # (S, P): per phase, which group it serves and when green/yellow/red start within the cycle.
    phase_group: IntArray
    phase_start_ms: IntArray
    phase_yellow_ms: IntArray
    phase_red_ms: IntArray
    phase_end_ms: IntArray
    #: Per-link programs (SUMO tlLogic): (S, P) bitmasks of the groups green / yellow during each
    #: phase, every other group red. None: the two-group plans above (`phase_group` is green until
    #: `phase_yellow_ms`, yellow until `phase_red_ms`, then red).
    phase_green_mask: IntArray | None = None
    phase_yellow_mask: IntArray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def green_phases(self, signal: IntArray, group: IntArray
                     ) -> tuple[IntArray, IntArray, NDArray[np.bool_]]:
        """Per entry and phase: start and end of the green that begins there, and whether one
        does. On per-link programs consecutive phases green for the group are one green."""
        start = self.phase_start_ms[signal]
        if self.phase_green_mask is None:
            yellow = self.phase_yellow_ms[signal]
            return start, yellow, (self.phase_group[signal] == group[:, None]) & (yellow > start)
        end = self.phase_end_ms[signal]
        green = ((self.phase_green_mask[signal] & (np.int64(1) << group[:, None])) != 0) & (end > start)
        until = end.copy()
        for k in range(green.shape[1] - 2, -1, -1):  # phases, not vehicles: a run's end
            until[:, k] = np.where(green[:, k] & green[:, k + 1], until[:, k + 1], end[:, k])
        begins = green & ~np.roll(green, 1, axis=1)
        begins[:, 0] = green[:, 0]
        return start, until, begins

    def colors(self, now_ms: int | NDArray[np.float64], signal: IntArray, group: IntArray) -> IntArray:
        """Colour seen by approaches of `group` at `signal` at time `now_ms` (one time, or one per
        entry; vectorized)."""
        if len(signal) == 0:
            return np.empty(0, np.int64)
        t = (now_ms - self.offset_ms[signal]) % self.cycle_ms[signal]
        start = self.phase_start_ms[signal]
        inside = (t[:, None] >= start) & (t[:, None] < self.phase_end_ms[signal])
        if self.phase_green_mask is not None and self.phase_yellow_mask is not None:
            bit = np.int64(1) << group[:, None]
            color = np.full(len(signal), RED)
            color[(inside & ((self.phase_yellow_mask[signal] & bit) != 0)).any(axis=1)] = YELLOW
            color[(inside & ((self.phase_green_mask[signal] & bit) != 0)).any(axis=1)] = GREEN
            return color
        serving = inside & (self.phase_group[signal] == group[:, None])
        color = np.full(len(signal), RED)
        green = serving & (t[:, None] < self.phase_yellow_ms[signal])
        yellow = serving & (t[:, None] >= self.phase_yellow_ms[signal]) & (
            t[:, None] < self.phase_red_ms[signal]
        )
        color[green.any(axis=1)] = GREEN
        color[yellow.any(axis=1)] = YELLOW
        return color

    def state_at(self, now_ms: int) -> NDArray[np.int64]:
        """(S, 2) colour of the axis and cross groups of every signal: what SPAT and the viewer show."""
        s = np.arange(len(self))
        return np.column_stack([
            self.colors(now_ms, s, np.full(len(s), GROUP_AXIS)),
            self.colors(now_ms, s, np.full(len(s), GROUP_CROSS)),
        ])


@dataclass(frozen=True)
class StopLines:
    """Stop lines of all routes, sorted by (route, s), for one searchsorted per step."""

    route: IntArray
    s_m: NDArray[np.float64]
    signal: IntArray
    group: IntArray
    key_m: NDArray[np.float64]  # route * ROUTE_KEY_M + s: globally sorted

    ROUTE_KEY_M = 1e7

    def next_ahead(self, route: IntArray, s_m: NDArray[np.float64]) -> tuple[IntArray, NDArray[np.float64]]:
        """Index of each vehicle's next stop line (-1 if none) and the distance to it."""
        if len(self.route) == 0:
            return np.full(len(route), -1), np.full(len(route), np.inf)
        key = route * self.ROUTE_KEY_M + s_m
        i = np.searchsorted(self.key_m, key, side="right")
        i_c = np.minimum(i, len(self.route) - 1)
        ok = (i < len(self.route)) & (self.route[i_c] == route)
        return np.where(ok, i_c, -1), np.where(ok, self.s_m[i_c] - s_m, np.inf)


def group_for_heading(heading_rad: NDArray[np.float64], axis_rad: NDArray[np.float64]) -> IntArray:
    """Axis group if the approach runs within 45 degrees of the axis (either way), else cross."""
    diff = np.abs((heading_rad - axis_rad + np.pi / 2) % np.pi - np.pi / 2)
    return np.where(diff <= np.pi / 4, GROUP_AXIS, GROUP_CROSS)


def must_stop(color: IntArray, gap_m: NDArray[np.float64], v_mps: NDArray[np.float64],
              max_decel_mps2: float = 3.5) -> NDArray[np.bool_]:
    """Whether a vehicle treats the stop line as a wall: on red or yellow, unless it is too close
    to stop at `max_decel_mps2` (the dilemma zone: it goes through)."""
    needed = v_mps**2 / (2.0 * np.maximum(gap_m, 0.1))
    return (color != GREEN) & (gap_m > 0.0) & (needed <= max_decel_mps2)
