"""Drawing a `StreetLayer`: carriageways and junctions, kerbs and lane dividers, stop bars in
their signal's colour, and street names along the streets.

Level of detail follows the camera: far out every street is a filled strip in a light grey so the
network reads as a map (its lanes would be sub-pixel); once a lane is a few pixels wide, kerbs,
medians and lane dividers appear, then the stop bars; names appear once a street is long enough on
screen to carry its name. Off-screen polygons are culled by their bounding boxes (one array test)
and the visible ones clipped before filling, so the cost follows what is on screen.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.viz import style
from sim.viz._pygame import pygame
from sim.viz.camera import Camera
from sim.viz.roads import DASH_M
from sim.viz.scene import Scene
from sim.viz.screen import clip_polygon, draw_segments, screen_points, visible_segments
from sim.viz.streets import StreetLayer
from sim.viz.text import legible

#: A typical lane [m]: the level of detail switches for the whole network at once.
LANE_WIDTH_M = 3.2
#: Lane width on screen [px] from which kerbs, dividers and stop bars are drawn.
LANE_DETAIL_PX = 2.0
#: Width of a street far out [px].
FAR_STREET_PX = 3
#: Names are drawn from this zoom [px/m], on streets at least this long on screen [px].
NAME_MIN_SCALE_PX_PER_M = 0.25
NAME_MARGIN_PX = 16
#: Two labels of the same street are at least this far apart [px].
NAME_SPACING_PX = 260.0


def visible(bbox_m: np.ndarray, camera: Camera, margin_px: float = 4.0) -> np.ndarray:
    """Per bounding box (xmin, ymin, xmax, ymax): does it reach the screen?"""
    x0, y0, x1, y1 = camera.visible_bounds_m(margin_px)
    if not len(bbox_m):
        return np.zeros(0, bool)
    return ((bbox_m[:, 2] >= x0) & (bbox_m[:, 0] <= x1) & (bbox_m[:, 3] >= y0)
            & (bbox_m[:, 1] <= y1))


def draw_streets(surface: Any, st: StreetLayer, camera: Camera) -> None:
    """Carriageways and junction areas, then (close enough) kerbs, medians and lane dividers."""
    pg = pygame()
    s = camera.scale_px_per_m
    detail = LANE_WIDTH_M * s >= LANE_DETAIL_PX
    fill = style.ASPHALT if detail else style.STREET_FAR
    w, h = camera.width_px, camera.height_px
    vis = np.flatnonzero(visible(st.surface_bbox, camera))
    # Far out a street is a line at least FAR_STREET_PX wide, so the network reads as a map.
    thin = st.width_m * s < FAR_STREET_PX
    for i in vis.tolist():
        if i < st.n_edges and thin[i]:
            pg.draw.lines(surface, fill, False, screen_points(camera, st.centres[i]), FAR_STREET_PX)
            continue
        if i >= st.n_edges and not detail:
            continue  # junction areas are smaller than the street lines far out
        poly = clip_polygon(screen_points(camera, st.surfaces[i]), -4, -4, w + 4, h + 4)
        if len(poly) >= 3:
            pg.draw.polygon(surface, fill, poly)
    if not detail:
        return
    for i in vis[vis < st.n_edges].tolist():
        pg.draw.lines(surface, style.ROAD_EDGE, False, screen_points(camera, st.kerbs[i]), 1)
        pg.draw.lines(surface, style.MEDIAN, False, screen_points(camera, st.medians[i]), 1)
    if DASH_M * s < 2.0 or not len(st.dash_a):
        return
    _, seg = visible_segments(camera, st.dash_a, st.dash_b)
    draw_segments(surface, style.LANE_MARK, seg, 1)


def stop_bars_legible(camera: Camera) -> bool:
    return LANE_WIDTH_M * camera.scale_px_per_m >= LANE_DETAIL_PX


def draw_stop_bars(surface: Any, scene: Scene, camera: Camera) -> None:
    """One bar per controlled connection at its lane end, in the colour of its link now (grey
    when unknown), once lanes are legible."""
    st = scene.streets
    if st is None or not len(st.stop_a) or not stop_bars_legible(camera):
        return
    on, seg = visible_segments(camera, st.stop_a, st.stop_b)
    colours = scene.stop_bar_colours()
    width = int(min(max(round(style.STOP_BAR_M * camera.scale_px_per_m), 2), 8))
    if colours is None:
        draw_segments(surface, style.SIGNAL_UNKNOWN, seg, width)
        return
    code = np.clip(colours[on].astype(np.int64), 0, len(style.SIGNAL_COLOURS) - 1)
    for k, colour in enumerate(style.SIGNAL_COLOURS):  # three colours, not one call per bar
        draw_segments(surface, colour, seg[code == k], width)


class StreetNames:
    """Street names drawn along their streets, rotated, cached per (name, angle)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int], Any] = {}
        self._legible: dict[str, str] = {}

    def draw(self, surface: Any, st: StreetLayer, camera: Camera, font: Any) -> None:
        s = camera.scale_px_per_m
        if s < NAME_MIN_SCALE_PX_PER_M or not st.n_edges:
            return
        pg = pygame()
        px, py = camera.to_screen(st.label_xy_m[:, 0], st.label_xy_m[:, 1])
        w, h = camera.width_px, camera.height_px
        on = (px >= 0) & (px < w) & (py >= 0) & (py < h)
        order = np.argsort(-st.length_m, kind="stable")  # longest streets get their label first
        placed: dict[str, list[tuple[float, float]]] = {}
        for i in order[on[order]].tolist():
            name = self._legible.get(st.names[i])
            if name is None:
                name = self._legible.setdefault(st.names[i], legible(st.names[i], font))
            if not name:
                continue
            tw, _ = font.size(name)
            if st.length_m[i] * s < tw + NAME_MARGIN_PX:
                continue
            x, y = float(px[i]), float(py[i])
            if any((x - a) ** 2 + (y - b) ** 2 < NAME_SPACING_PX ** 2 for a, b in placed.get(name, [])):
                continue
            placed.setdefault(name, []).append((x, y))
            deg = int(round(np.degrees(st.label_angle_rad[i]))) % 180
            deg = deg - 180 if deg > 90 else deg  # never upside down
            key = (name, deg)
            img = self._cache.get(key)
            if img is None:
                text = font.render(name, True, style.STREET_NAME)
                shadow = font.render(name, True, style.STREET_NAME_SHADOW)
                base = pg.Surface((text.get_width() + 2, text.get_height() + 2), pg.SRCALPHA)
                base.blit(shadow, (1, 1))
                base.blit(text, (0, 0))
                img = self._cache[key] = pg.transform.rotate(base, deg)
            surface.blit(img, img.get_rect(center=(round(x), round(y))))
