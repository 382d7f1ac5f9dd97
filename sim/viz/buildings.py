"""Building footprints: the polygons the radio tests links against (map.buildings_nlos), drawn
under the streets so that a blind corner is visible as one."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.viz import style
from sim.viz._pygame import pygame
from sim.viz.camera import Camera

FloatArray = NDArray[np.float64]

#: A footprint smaller than this on screen is not drawn [px] (a speck says nothing).
MIN_SIZE_PX = 2.0


def building_rings(vertex_xy_m: FloatArray, building: NDArray[np.int64]) -> tuple[FloatArray, ...]:
    """One (K, 2) ring per building from the radio's edge list (vertices in ring order, each
    tagged with its building), as the trace records it."""
    xy = np.asarray(vertex_xy_m, dtype=np.float64).reshape(-1, 2)
    which = np.asarray(building, dtype=np.int64)
    if not len(which):
        return ()
    cuts = np.flatnonzero(np.diff(which)) + 1
    return tuple(part for part in np.split(xy, cuts) if len(part) >= 3)


def draw_buildings(surface: Any, rings: tuple[FloatArray, ...], camera: Camera) -> None:
    """Filled footprints with a lighter outline (only those on screen and big enough)."""
    pg = pygame()
    w, h = surface.get_size()
    for ring in rings:
        px, py = camera.to_screen(ring[:, 0], ring[:, 1])
        if (px.max() < 0 or py.max() < 0 or px.min() > w or py.min() > h
                or max(px.max() - px.min(), py.max() - py.min()) < MIN_SIZE_PX):
            continue
        pts = np.column_stack([px, py]).round().astype(int).tolist()
        pg.draw.polygon(surface, style.BUILDING, pts)
        pg.draw.polygon(surface, style.BUILDING_EDGE, pts, 1)
