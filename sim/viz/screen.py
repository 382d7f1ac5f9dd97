"""Screen-space helpers shared by the world layers: polylines to pixel lists, polygon clipping,
and the on-screen subset of a set of line segments (dashes, stop lines, stop bars). No state."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.viz._pygame import pygame
from sim.viz.camera import Camera


def clip_polygon(pts: list[list[float]], x0: float, y0: float, x1: float,
                 y1: float) -> list[list[float]]:
    """Sutherland-Hodgman clip of a polygon to a rectangle.

    pygame fills a polygon scanline by scanline over its whole extent, on screen or not: a 20 km
    carriageway seen at street zoom spans ~10^5 pixel rows, so clipping first is ~50x faster.
    """
    def cut(poly: list[list[float]], inside: Any, cross: Any) -> list[list[float]]:
        out: list[list[float]] = []
        for i, cur in enumerate(poly):
            prev = poly[i - 1]
            if inside(cur):
                if not inside(prev):
                    out.append(cross(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cross(prev, cur))
        return out

    def at_x(x: float) -> Any:
        return lambda a, b: [x, a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0])]

    def at_y(y: float) -> Any:
        return lambda a, b: [a[0] + (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]), y]

    poly = pts
    for inside, cross in ((lambda p: p[0] >= x0, at_x(x0)), (lambda p: p[0] <= x1, at_x(x1)),
                          (lambda p: p[1] >= y0, at_y(y0)), (lambda p: p[1] <= y1, at_y(y1))):
        if not poly:
            break
        poly = cut(poly, inside, cross)
    return poly


def screen_points(camera: Camera, xy_m: np.ndarray) -> list[list[float]]:
    """Pixel coordinates of a polyline, clamped so pygame never sees huge values."""
    px, py = camera.to_screen(xy_m[:, 0], xy_m[:, 1])
    return np.column_stack([np.clip(px, -1e6, 1e6), np.clip(py, -1e6, 1e6)]).tolist()


def visible_segments(camera: Camera, a_m: np.ndarray, b_m: np.ndarray,
                     min_length_px: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(indices, (n, 4) integer pixel x0, y0, x1, y1) of the segments a -> b [m] that reach the
    screen and are at least `min_length_px` long there."""
    ax, ay = camera.to_screen(a_m[:, 0], a_m[:, 1])
    bx, by = camera.to_screen(b_m[:, 0], b_m[:, 1])
    w, h = camera.width_px, camera.height_px
    on = ((np.maximum(ax, bx) >= 0) & (np.minimum(ax, bx) < w)
          & (np.maximum(ay, by) >= 0) & (np.minimum(ay, by) < h))
    if min_length_px > 0.0:
        on &= np.hypot(bx - ax, by - ay) >= min_length_px
    idx = np.flatnonzero(on)
    return idx, np.column_stack([ax[idx], ay[idx], bx[idx], by[idx]]).round().astype(np.int64)


def draw_segments(surface: Any, colour: Any, seg: np.ndarray, width: int) -> None:
    """Draws pixel segments from `visible_segments` (one colour)."""
    line = pygame().draw.line
    for x0, y0, x1, y1 in seg.tolist():
        line(surface, colour, (x0, y0), (x1, y1), width)
