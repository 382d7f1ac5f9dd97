"""`Renderer`: draws a `Scene` onto a pygame Surface through a `Camera`.

Drawing is the viewer's hot path (10,000 vehicles at 60 fps on two cores), so vehicles are never
handled one by one in Python except where there are few of them on screen:

* everything is projected with whole-array numpy operations and clipped to the viewport first;
* far out (a car shorter than `RECT_MIN_LENGTH_PX`), vehicles are 2x2 pixel dots written with
  one fancy-indexed assignment into `pygame.surfarray.pixels2d`;
* closer in, the four corners of every visible vehicle are computed at once and each rectangle is a
  single `pygame.draw.polygon` call; the number of such calls is bounded by the screen area, not by
  the fleet size. Outlines and roof markers (automation level, V2X unit) appear only when a vehicle
  is big enough on screen for them to be legible.

The HUD and panels are drawn by `sim.viz.overlay` on top; this module draws the world.

Why one long module: the world drawing is one pipeline (project, clip, level of detail, draw)
per layer (roads, signals, RSUs, vehicles, VRUs) sharing the camera transform and the clip masks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.viz import style
from sim.viz._pygame import pygame
from sim.viz.buildings import draw_buildings
from sim.viz.camera import Camera
from sim.viz.overlay import HudState, Overlay
from sim.viz.roads import DASH_M
from sim.viz.scene import Scene, Selection
from sim.viz.screen import clip_polygon, draw_segments, screen_points, visible_segments
from sim.viz.street_render import (
    StreetNames,
    draw_stop_bars,
    draw_streets,
    stop_bars_legible,
)

#: A car's length [m], the reference for the level of detail (so every class switches together).
REFERENCE_LENGTH_M = 5.0


class Renderer:
    """Stateless apart from caches (mapped colours, text); one per target surface format."""

    def __init__(self, font_size: int = 16) -> None:
        self.overlay = Overlay(font_size)
        self._mapped: tuple[Any, np.ndarray] | None = None
        self._alpha_layer: Any = None
        self.street_names = StreetNames()

    # ------------------------------------------------------------------ entry point
    def draw(self, surface: Any, scene: Scene, camera: Camera, hud: HudState | None = None) -> None:
        """Draws the whole frame; `hud` None draws the world and the attribution only."""
        surface.fill(style.BACKGROUND)
        if scene.buildings_xy_m:
            draw_buildings(surface, scene.buildings_xy_m, camera)
        streets = scene.streets
        if streets is not None:  # the whole network, lanes as painted, stop bars per link
            draw_streets(surface, streets, camera)
            draw_stop_bars(surface, scene, camera)
            self.street_names.draw(surface, streets, camera, self.overlay.font("small"))
        else:
            self.draw_roads(surface, scene, camera)
            self.draw_stop_lines(surface, scene, camera)
        self.draw_coverage(surface, scene, camera)
        self.draw_backhaul(surface, scene, camera)
        self.draw_intersections(surface, scene, camera)
        selected = hud.selected if hud else None
        if selected is not None:
            self.draw_links(surface, scene, camera, selected)
        # Heads go over the traffic, except far out where their glyph is far bigger than the
        # junction and would hide the queues (then 2-pixel dots) it is there to explain.
        if REFERENCE_LENGTH_M * camera.scale_px_per_m < style.RECT_MIN_LENGTH_PX:
            self.draw_signal_heads(surface, scene, camera)
            self.draw_vehicles(surface, scene, camera)
        else:
            self.draw_vehicles(surface, scene, camera)
            self.draw_signal_heads(surface, scene, camera)
        self.draw_pedestrians(surface, scene, camera)
        self.draw_rsus(surface, scene, camera)
        self.draw_edges(surface, scene, camera)
        if selected is not None:
            self.draw_selection(surface, scene, camera, selected)
        self.overlay.draw(surface, scene, camera, hud)

    def draw_pedestrians(self, surface: Any, scene: Scene, camera: Camera) -> None:
        """VRUs as small dots (at least 2 px; ~0.6 m when zoomed in)."""
        xy = scene.pedestrian_xy_m
        if xy is None or not len(xy):
            return
        px, py = camera.to_screen(xy[:, 0], xy[:, 1])
        vis = (px >= 0) & (px < camera.width_px) & (py >= 0) & (py < camera.height_px)
        r = max(2, int(round(0.3 * camera.scale_px_per_m)))
        circle = pygame().draw.circle
        for x, y in np.column_stack([px[vis], py[vis]]).round().astype(np.int64).tolist():
            circle(surface, style.PEDESTRIAN, (x, y), r)

    # ------------------------------------------------------------------ roads
    def draw_roads(self, surface: Any, scene: Scene, camera: Camera) -> None:
        pg = pygame()
        roads = scene.roads
        s = camera.scale_px_per_m
        wide = roads.width_m * s >= 2.0
        # All surfaces first, then all lines: the two directions of a road share their centre
        # line, and the second carriageway's fill would otherwise cover the first one's median.
        for surf_m, centre_m, is_wide in zip(roads.surfaces, roads.centres, wide):
            if is_wide:
                poly = clip_polygon(screen_points(camera, surf_m), -4, -4, camera.width_px + 4,
                                    camera.height_px + 4)
                if len(poly) >= 3:
                    pg.draw.polygon(surface, style.ASPHALT, poly)
            else:
                pg.draw.lines(surface, style.ROAD_FAR, False, screen_points(camera, centre_m), 2)
        for centre_m, edge_m, is_wide in zip(roads.centres, roads.edges, wide):
            if is_wide:
                pg.draw.lines(surface, style.ROAD_EDGE, False, screen_points(camera, edge_m), 1)
                pg.draw.lines(surface, style.MEDIAN, False, screen_points(camera, centre_m), 2)
        if DASH_M * s < 2.0 or not len(roads.dash_a):
            return
        _, seg = visible_segments(camera, roads.dash_a, roads.dash_b)
        draw_segments(surface, style.LANE_MARK, seg, 1)

    # ------------------------------------------------------------------ signals
    def draw_stop_lines(self, surface: Any, scene: Scene, camera: Camera) -> None:
        """Stop lines across the carriageways that signals control, once lanes are legible."""
        sig = scene.signals
        if sig is None or not len(sig.stop_a_m):
            return
        s = camera.scale_px_per_m
        _, seg = visible_segments(camera, sig.stop_a_m, sig.stop_b_m,
                                  min_length_px=2 * style.STOP_LINE_MIN_LANE_PX)
        draw_segments(surface, style.STOP_LINE, seg, int(min(max(round(style.STOP_LINE_M * s), 1), 4)))

    def _visible_signals(self, scene: Scene, camera: Camera,
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[float, float, float]]:
        """(rows, px, py, glyph) of the signals whose glyph reaches the screen."""
        sig = scene.signals
        glyph = style.signal_glyph_px(camera.scale_px_per_m)
        if sig is None or not len(sig):
            return np.zeros(0, np.int64), np.zeros(0), np.zeros(0), glyph
        px, py = camera.to_screen(sig.xy_m[:, 0], sig.xy_m[:, 1])
        m = 1.5 * glyph[0] + glyph[1] + glyph[2] + 4
        vis = np.flatnonzero((px > -m) & (px < camera.width_px + m) & (py > -m)
                             & (py < camera.height_px + m))
        return vis, px[vis], py[vis], glyph

    def draw_intersections(self, surface: Any, scene: Scene, camera: Camera) -> None:
        """Each signal's intersection box, aligned with its axis, under the traffic: a solid
        outline for an evidenced junction, corner marks only (a dashed look) for a synthetic one."""
        pg = pygame()
        rows, px, py, (box, _, _) = self._visible_signals(scene, camera)
        if scene.streets is not None and len(rows) and stop_bars_legible(camera):
            # Close in, a junction with per-link stop bars is its own drawn area.
            keep = ~np.isin(rows, scene.streets.stop_signal)
            rows, px, py = rows[keep], px[keep], py[keep]
        if not len(rows):
            return
        sig = scene.signals
        assert sig is not None
        a = sig.axis_rad[rows]
        ux, uy = np.cos(a) * box, -np.sin(a) * box  # axis direction on screen (y down)
        vx, vy = -uy, ux
        signs = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1]], dtype=np.float64)
        cx = px[:, None] + signs[:, 0] * ux[:, None] + signs[:, 1] * vx[:, None]
        cy = py[:, None] + signs[:, 0] * uy[:, None] + signs[:, 1] * vy[:, None]
        corners = np.stack([cx, cy], axis=2)  # (n, 4, 2)
        synthetic = sig.synthetic[rows].tolist()
        line = pg.draw.line
        for quad, synth in zip(corners.tolist(), synthetic):
            if not synth:
                pg.draw.polygon(surface, style.SIGNAL_HOUSING, quad, 4)
                pg.draw.polygon(surface, style.SIGNAL_EVIDENCED, quad, 2)
                continue
            for k in range(4):
                p, q, r = quad[k], quad[(k + 1) % 4], quad[k - 1]
                for other in (q, r):
                    end = (p[0] + 0.3 * (other[0] - p[0]), p[1] + 0.3 * (other[1] - p[1]))
                    line(surface, style.SIGNAL_HOUSING, p, end, 4)
                    line(surface, style.SIGNAL_SYNTHETIC, p, end, 2)

    def draw_signal_heads(self, surface: Any, scene: Scene, camera: Camera) -> None:
        """Two heads per approach group, over the traffic: the axis group's on the signal's axis
        either side of the junction, the cross group's perpendicular, in the group's colour."""
        pg = pygame()
        rows, px, py, (_, offset, head) = self._visible_signals(scene, camera)
        if not len(rows):
            return
        sig = scene.signals
        assert sig is not None
        a = sig.axis_rad[rows]
        ux, uy = np.cos(a), -np.sin(a)
        dx = np.column_stack([ux, -ux, uy, -uy]) * offset  # axis +, axis -, cross +, cross -
        dy = np.column_stack([uy, -uy, -ux, ux]) * offset
        hx = (px[:, None] + dx).round().astype(np.int64)
        hy = (py[:, None] + dy).round().astype(np.int64)
        state = scene.signal_colours()
        palette = style.SIGNAL_COLOURS
        if state is None:
            colours = [[style.SIGNAL_UNKNOWN] * 4 for _ in rows.tolist()]
        else:
            st = np.clip(state[rows].astype(np.int64), 0, len(palette) - 1)
            colours = [[palette[ax], palette[ax], palette[cr], palette[cr]]
                       for ax, cr in st.tolist()]
        r = int(round(head))
        side = 2 * r + 5
        circle, rect = pg.draw.circle, pg.draw.rect
        # A signal with per-link stop bars shows its colours there: two axis heads would be a
        # made-up summary of a multi-phase junction.
        per_link = (set(scene.streets.stop_signal.tolist()) if scene.streets is not None
                    else set())
        for row, xs, ys, cs in zip(rows.tolist(), hx.tolist(), hy.tolist(), colours):
            if row in per_link:
                continue
            for x, y, c in zip(xs, ys, cs):
                rect(surface, style.SIGNAL_HOUSING, (x - side // 2, y - side // 2, side, side),
                     border_radius=max(2, r // 2 + 1))
                circle(surface, c, (x, y), r)
        if camera.scale_px_per_m >= style.RSU_NEAR_SCALE_PX_PER_M:
            self._draw_signal_labels(surface, scene, camera, rows, px, py)

    def _draw_signal_labels(self, surface: Any, scene: Scene, camera: Camera, rows: np.ndarray,
                            px: np.ndarray, py: np.ndarray) -> None:
        """Each signal's id (and its RSU's name when one stands at the junction, whose own label
        would sit on the heads) in the corner between the approaches where it needs the least
        room to clear the roads and the heads."""
        sig = scene.signals
        assert sig is not None
        s = camera.scale_px_per_m
        _, _, head = style.signal_glyph_px(s)
        clear = max(style.SIGNAL_ROAD_HALF_M * s, head + 3) + 4
        rsu = self._colocated_rsus(scene)
        text = self.overlay.render_text
        names = scene.streets.signal_names if scene.streets is not None else ()
        labels = []
        for row in rows.tolist():
            colour = style.SIGNAL_SYNTHETIC if sig.synthetic[row] else style.SIGNAL_EVIDENCED
            name = names[row] if row < len(names) else ""
            texts = [text(name or sig.ids[row], colour, "small")]
            if rsu[row] >= 0:
                texts.append(text(f"RSU {rsu[row]}", style.RSU_FILL, "small"))
            labels.append(texts)
        w = np.array([max(x.get_width() for x in texts) + 4 for texts in labels], dtype=float)
        h = np.array([sum(x.get_height() for x in texts) + 2 for texts in labels], dtype=float)
        x0, y0 = label_corners(px, py, sig.axis_rad[rows], w, h, clear)
        rect = pygame().Rect
        for texts, x, y, wi, hi in zip(labels, x0.tolist(), y0.tolist(), w.tolist(), h.tolist()):
            self.overlay.panel(surface, rect(x, y, int(wi), int(hi)))
            for t in texts:
                surface.blit(t, (x + 2, y + 1))
                y += t.get_height()

    @staticmethod
    def _colocated_rsus(scene: Scene) -> list[int]:
        """Per signal: the RSU standing within its junction box, or -1."""
        sig = scene.signals
        assert sig is not None
        if not len(scene.rsu_xy_m):
            return [-1] * len(sig)
        d = np.hypot(sig.xy_m[:, None, 0] - scene.rsu_xy_m[None, :, 0],
                     sig.xy_m[:, None, 1] - scene.rsu_xy_m[None, :, 1])
        near = d.argmin(axis=1)
        return np.where(d[np.arange(len(sig)), near] <= style.SIGNAL_BOX_HALF_M, near,
                        -1).tolist()

    # ------------------------------------------------------------------ RSUs
    def draw_coverage(self, surface: Any, scene: Scene, camera: Camera) -> None:
        """RSU planning radius circles, under everything that moves."""
        pg = pygame()
        if not len(scene.rsu_xy_m):
            return
        r_px = scene.rsu_radius_m * camera.scale_px_per_m
        if r_px < 3.0:
            return
        px, py = camera.to_screen(scene.rsu_xy_m[:, 0], scene.rsu_xy_m[:, 1])
        w, h = camera.width_px, camera.height_px
        corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], dtype=np.float64)
        up = scene.rsu_up().tolist()
        for x, y, alive in zip(px.tolist(), py.tolist(), up):
            if not alive:  # an RSU in an outage covers nothing
                continue
            # Skip circles entirely off screen or enclosing the whole screen (huge and invisible).
            near_x, near_y = min(max(x, 0), w), min(max(y, 0), h)
            if np.hypot(near_x - x, near_y - y) > r_px:
                continue
            if np.all(np.hypot(corners[:, 0] - x, corners[:, 1] - y) < r_px):
                continue
            pg.draw.circle(surface, style.RSU_COVERAGE, (round(x), round(y)), round(r_px), 1)

    def draw_rsus(self, surface: Any, scene: Scene, camera: Camera) -> None:
        """RSU markers (and their names when zoomed in), on top of the traffic."""
        pg = pygame()
        if not len(scene.rsu_xy_m):
            return
        px, py = camera.to_screen(scene.rsu_xy_m[:, 0], scene.rsu_xy_m[:, 1])
        w, h = camera.width_px, camera.height_px
        half = style.rsu_half_px(camera.scale_px_per_m)
        labels = camera.scale_px_per_m >= style.RSU_NEAR_SCALE_PX_PER_M
        named = set(self._colocated_rsus(scene)) if labels and scene.signals is not None else set()
        up = scene.rsu_up().tolist()
        for k, (x, y) in enumerate(zip(px.tolist(), py.tolist())):
            if not (-half <= x < w + half and -half <= y < h + half):
                continue
            rect = pg.Rect(round(x) - half, round(y) - half, 2 * half + 1, 2 * half + 1)
            pg.draw.rect(surface, style.RSU_BORDER, rect.inflate(2, 2))
            pg.draw.rect(surface, style.RSU_FILL if up[k] else style.RSU_DOWN, rect)
            if not up[k]:  # outage: crossed out
                pg.draw.line(surface, style.RSU_DOWN_CROSS, rect.topleft, rect.bottomright, 2)
                pg.draw.line(surface, style.RSU_DOWN_CROSS, rect.topright, rect.bottomleft, 2)
            if labels and k not in named:  # an RSU at a junction is named by the signal label
                label = self.overlay.render_text(f"RSU {k}", style.RSU_FILL, "small")
                pos = (rect.right + 8, rect.top - 4)
                self.overlay.panel(surface, label.get_rect(topleft=pos).inflate(4, 2))
                surface.blit(label, pos)

    # ------------------------------------------------------------------ edge servers
    def draw_backhaul(self, surface: Any, scene: Scene, camera: Camera) -> None:
        """A thin line from each RSU to the edge server that serves it now."""
        e = scene.edges
        if e is None or not len(e) or not len(scene.rsu_xy_m):
            return
        pg = pygame()
        n = min(len(e.rsu_edge), len(scene.rsu_xy_m))
        has = np.flatnonzero((e.rsu_edge[:n] >= 0) & (e.rsu_edge[:n] < len(e)))
        if not len(has):
            return
        rx, ry = camera.to_screen(scene.rsu_xy_m[has, 0], scene.rsu_xy_m[has, 1])
        ex, ey = camera.to_screen(e.xy_m[e.rsu_edge[has], 0], e.xy_m[e.rsu_edge[has], 1])
        for a, b, c, d in zip(rx.tolist(), ry.tolist(), ex.tolist(), ey.tolist()):
            pg.draw.line(surface, style.BACKHAUL, (round(a), round(b)), (round(c), round(d)), 1)

    def draw_edges(self, surface: Any, scene: Scene, camera: Camera) -> None:
        """Edge servers as diamonds (green up, red down), named when zoomed in."""
        e = scene.edges
        if e is None or not len(e):
            return
        pg = pygame()
        px, py = camera.to_screen(e.xy_m[:, 0], e.xy_m[:, 1])
        w, h = camera.width_px, camera.height_px
        half = style.edge_half_px(camera.scale_px_per_m)
        labels = camera.scale_px_per_m >= style.RSU_NEAR_SCALE_PX_PER_M
        for k, (x, y) in enumerate(zip(px.tolist(), py.tolist())):
            if not (-half <= x < w + half and -half <= y < h + half):
                continue
            cx, cy = round(x), round(y)
            pts = [(cx, cy - half), (cx + half, cy), (cx, cy + half), (cx - half, cy)]
            big = [(cx, cy - half - 1), (cx + half + 1, cy), (cx, cy + half + 1), (cx - half - 1, cy)]
            pg.draw.polygon(surface, style.EDGE_BORDER, big)
            colour = style.EDGE_FILL if e.alive[k] else style.EDGE_DOWN
            pg.draw.polygon(surface, colour, pts)
            if labels:
                label = self.overlay.render_text(e.names[k], colour, "small")
                pos = (cx + half + 8, cy + 4)
                self.overlay.panel(surface, label.get_rect(topleft=pos).inflate(4, 2))
                surface.blit(label, pos)

    # ------------------------------------------------------------------ vehicles
    def draw_vehicles(self, surface: Any, scene: Scene, camera: Camera) -> None:
        v = scene.vehicles
        if not len(v):
            return
        s = camera.scale_px_per_m
        px, py = camera.to_screen(v.x_m, v.y_m)
        margin = float(v.length_m.max()) * s / 2 + 2
        w, h = camera.width_px, camera.height_px
        vis = (px > -margin) & (px < w + margin) & (py > -margin) & (py < h + margin)
        if REFERENCE_LENGTH_M * s < style.RECT_MIN_LENGTH_PX:
            self._draw_dots(surface, px, py, v.cls, vis, scene.warned_rows())
        else:
            self._draw_rects(surface, scene, camera, px, py, np.flatnonzero(vis))

    def _draw_dots(self, surface: Any, px: np.ndarray, py: np.ndarray, cls: np.ndarray,
                   vis: np.ndarray, warned: np.ndarray | None = None) -> None:
        """2x2 pixel dots, all in one write; rarer classes last so that they stay visible.
        Warned vehicles (EBW) get a 4x4 amber halo under their dot."""
        pg = pygame()
        w, h = surface.get_size()
        xi = np.floor(px).astype(np.int64)
        yi = np.floor(py).astype(np.int64)
        ok = vis & (xi >= 0) & (xi < w - 1) & (yi >= 0) & (yi < h - 1)
        idx = np.flatnonzero(ok)
        if not len(idx):
            return
        idx = idx[np.argsort(cls[idx], kind="stable")]
        colour = self._colour_ints(surface)[cls[idx].astype(np.int64)]
        halo = idx[warned[idx]] if warned is not None and warned.any() else idx[:0]
        hx, hy = xi[halo], yi[halo]
        xi, yi = xi[idx], yi[idx]
        if surface.get_bytesize() not in (1, 2, 4):  # pixels2d cannot map 24-bit surfaces
            for x, y in zip(hx.tolist(), hy.tolist()):
                surface.fill(style.EBW_WARNING, (x - 1, y - 1, 4, 4))
            for x, y, c in zip(xi.tolist(), yi.tolist(), cls[idx].tolist()):
                surface.fill(style.CLASS_COLOUR_BY_CODE[c], (x, y, 2, 2))
            return
        arr = pg.surfarray.pixels2d(surface)
        try:
            if len(hx):
                amber = np.array(surface.map_rgb(style.EBW_WARNING)).astype(arr.dtype)
                for dx in (-1, 0, 1, 2):
                    for dy in (-1, 0, 1, 2):
                        arr[np.clip(hx + dx, 0, w - 1), np.clip(hy + dy, 0, h - 1)] = amber
            colour = colour.astype(arr.dtype)
            arr[xi, yi] = colour
            arr[xi + 1, yi] = colour
            arr[xi, yi + 1] = colour
            arr[xi + 1, yi + 1] = colour
        finally:
            del arr  # releases the surface lock

    def _layer(self, surface: Any) -> Any:
        """A cleared full-size transparent surface for translucent drawing (reused)."""
        pg = pygame()
        if self._alpha_layer is None or self._alpha_layer.get_size() != surface.get_size():
            self._alpha_layer = pg.Surface(surface.get_size(), pg.SRCALPHA)
        self._alpha_layer.fill((0, 0, 0, 0))
        return self._alpha_layer

    def _colour_ints(self, surface: Any) -> np.ndarray:
        fmt = (surface.get_bitsize(), surface.get_masks(), surface.get_shifts())
        if self._mapped is None or self._mapped[0] != fmt:
            self._mapped = (fmt, np.array([surface.map_rgb(c) for c in style.CLASS_COLOUR_BY_CODE],
                                          dtype=np.uint64))
        return self._mapped[1]

    def _draw_rects(self, surface: Any, scene: Scene, camera: Camera, px: np.ndarray,
                    py: np.ndarray, idx: np.ndarray) -> None:
        """Oriented rectangles to scale, plus transmission rings and roof markers when legible."""
        pg = pygame()
        if not len(idx):
            return
        v = scene.vehicles
        s = camera.scale_px_per_m
        cx, cy = px[idx], py[idx]
        corners = vehicle_corners_px(cx, cy, v.heading_rad[idx], v.length_m[idx] * s,
                                     v.width_m[idx] * s)
        pts = corners.round().astype(np.int64).tolist()
        cls = v.cls[idx].tolist()
        palette = style.CLASS_COLOUR_BY_CODE
        polygon = pg.draw.polygon
        car_px = REFERENCE_LENGTH_M * s
        warned = scene.warned_rows()
        if warned.any():  # EBW: a filled amber halo under the vehicle (and inside its tx ring)
            wk = np.flatnonzero(warned[idx])
            radius = (v.length_m[idx[wk]] * s / 2 + max(2.0, 0.2 * car_px)).round().astype(int)
            circle = pg.draw.circle
            for x, y, r in zip(cx[wk].round().astype(int).tolist(),
                               cy[wk].round().astype(int).tolist(), radius.tolist()):
                circle(surface, style.EBW_WARNING, (x, y), r)
        if car_px >= style.TX_RING_MIN_LENGTH_PX and len(scene.tx_vehicle_ids):
            tx = np.flatnonzero(scene.transmitted()[idx])
            radius = (v.length_m[idx[tx]] * s / 2 + max(2.0, 0.3 * car_px)).round().astype(int)
            circle = pg.draw.circle
            for x, y, r in zip(cx[tx].round().astype(int).tolist(),
                               cy[tx].round().astype(int).tolist(), radius.tolist()):
                circle(surface, style.TX_RING, (x, y), r, 1)
        for p, c in zip(pts, cls):
            polygon(surface, palette[c], p)
        if car_px >= style.OUTLINE_MIN_LENGTH_PX:
            for p in pts:
                polygon(surface, style.VEHICLE_OUTLINE, p, 1)
        if car_px >= style.MARKER_MIN_LENGTH_PX:
            self._draw_markers(surface, scene, cx, cy, idx, s)

    def _draw_markers(self, surface: Any, scene: Scene, cx: np.ndarray, cy: np.ndarray,
                      idx: np.ndarray, s: float) -> None:
        """Roof details once a vehicle is big enough: a windscreen bar (which end is the front),
        a dot ahead of the centre for automation L3 (white) / L4 (magenta), a dot behind it for a
        V2X on-board unit. The centre itself stays in the class colour."""
        pg = pygame()
        v = scene.vehicles
        h = v.heading_rad[idx]
        fx, fy = np.cos(h), -np.sin(h)  # heading in screen coordinates (y down)
        rx, ry = -fy, fx
        length = v.length_m[idx] * s
        half_w = v.width_m[idx] * s * 0.38
        r = np.maximum(2, (v.width_m[idx] * s * 0.2).round()).astype(int)

        def at(along: np.ndarray, across: np.ndarray | float = 0.0) -> list[list[int]]:
            return np.column_stack([cx + fx * along + rx * across,
                                    cy + fy * along + ry * across]).round().astype(int).tolist()

        ws = 0.33 * length
        for a, b in zip(at(ws, half_w), at(ws, -half_w)):
            pg.draw.line(surface, style.VEHICLE_OUTLINE, a, b, 2)
        level = v.automation[idx]
        front = at(0.17 * length)
        rear = at(-0.3 * length)
        circle = pg.draw.circle
        for k in np.flatnonzero(level >= 3).tolist():
            colour = style.L4_MARK if level[k] >= 4 else style.L3_MARK
            circle(surface, style.VEHICLE_OUTLINE, front[k], int(r[k]) + 1)
            circle(surface, colour, front[k], int(r[k]))
        for k in np.flatnonzero(v.equipped[idx]).tolist():
            circle(surface, style.VEHICLE_OUTLINE, rear[k], int(r[k]) + 1)
            circle(surface, style.V2X_MARK, rear[k], int(r[k]))

    # ------------------------------------------------------------------ selection
    def draw_links(self, surface: Any, scene: Scene, camera: Camera, sel: Selection) -> None:
        """Lines from the selected node to every receiver of its packets (or, for an RSU, from
        every sender it heard): green decoded, red lost."""
        pg = pygame()
        found = scene.links_of(sel)
        if found is None:
            return
        tx_vid, rx_vid, rx_rsu, ok = found
        if not len(tx_vid):
            return
        v = scene.vehicles
        txr = v.rows_of(tx_vid)
        rxr = v.rows_of(rx_vid)
        has_rsu = (rx_rsu >= 0) & (rx_rsu < len(scene.rsu_xy_m))
        rsu = np.clip(rx_rsu, 0, max(len(scene.rsu_xy_m) - 1, 0))
        keep = (txr >= 0) & ((rxr >= 0) | has_rsu)
        if not keep.any():
            return
        x0 = v.x_m[txr[keep]]
        y0 = v.y_m[txr[keep]]
        rx_x = np.where(rxr >= 0, v.x_m[np.maximum(rxr, 0)],
                        scene.rsu_xy_m[rsu, 0] if len(scene.rsu_xy_m) else 0.0)[keep]
        rx_y = np.where(rxr >= 0, v.y_m[np.maximum(rxr, 0)],
                        scene.rsu_xy_m[rsu, 1] if len(scene.rsu_xy_m) else 0.0)[keep]
        ax, ay = camera.to_screen(x0, y0)
        bx, by = camera.to_screen(rx_x, rx_y)
        good = ok[keep]
        seg = np.column_stack([ax, ay, bx, by]).round().astype(np.int64)
        np.clip(seg, -100_000, 100_000, out=seg)
        # Translucent, on their own layer: a busy node has hundreds of links, and opaque lines
        # would bury the road and the vehicles under them.
        layer = self._layer(surface)
        for colour, mask in ((style.LINK_LOST, ~good), (style.LINK_OK, good)):
            rgba = (*colour, style.LINK_ALPHA)
            for x_0, y_0, x_1, y_1 in seg[mask].tolist():
                pg.draw.line(layer, rgba, (x_0, y_0), (x_1, y_1), 1)
        surface.blit(layer, (0, 0))

    def draw_selection(self, surface: Any, scene: Scene, camera: Camera, sel: Selection) -> None:
        pg = pygame()
        pos = scene.position_of(sel)
        if pos is None:
            return
        x, y = camera.point_to_screen(*pos)
        if sel.kind == "vehicle":
            row = scene.vehicles.row_of(sel.id)
            assert row is not None
            v = scene.vehicles
            s = camera.scale_px_per_m
            if REFERENCE_LENGTH_M * s >= style.OUTLINE_MIN_LENGTH_PX:
                for pad, colour, width in ((8, style.VEHICLE_OUTLINE, 4), (8, style.SELECTED, 2)):
                    c = vehicle_corners_px(np.array([x]), np.array([y]), v.heading_rad[row:row + 1],
                                           v.length_m[row:row + 1] * s + pad,
                                           v.width_m[row:row + 1] * s + pad)
                    pg.draw.polygon(surface, colour, c[0].round().astype(int).tolist(), width)
                return
            radius = max(8, int(v.length_m[row] * s / 2 + 6))
        elif sel.kind == "signal":
            _, offset, head = style.signal_glyph_px(camera.scale_px_per_m)
            radius = int(offset + head + 6)
        else:
            radius = style.rsu_half_px(camera.scale_px_per_m) + 6
        if abs(x) < 100_000 and abs(y) < 100_000:
            pg.draw.circle(surface, style.VEHICLE_OUTLINE, (round(x), round(y)), radius + 1, 4)
            pg.draw.circle(surface, style.SELECTED, (round(x), round(y)), radius, 2)


def label_corners(cx: np.ndarray, cy: np.ndarray, axis_rad: np.ndarray, w: np.ndarray,
                  h: np.ndarray, clear: float) -> tuple[np.ndarray, np.ndarray]:
    """Top-left corners [px] of w x h labels, each put in one of the four corners between the
    axis and cross roads of a junction centred on (cx, cy), at least `clear` px from both road
    lines: the corner where that takes the least distance (ties: the lower-left one)."""
    u = np.stack([np.cos(axis_rad), -np.sin(axis_rad)], axis=-1)[:, None, :]  # (n, 1, 2) screen
    v = np.stack([u[..., 1], -u[..., 0]], axis=-1)
    signs = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], dtype=np.float64)
    uu = signs[None, :, 0, None] * u  # (n, 4, 2): the two road directions bounding each corner
    vv = signs[None, :, 1, None] * v
    b = (uu + vv) / np.sqrt(2.0)  # the diagonal into each corner
    sx, sy = np.where(b[..., 0] >= 0, 1.0, -1.0), np.where(b[..., 1] >= 0, 1.0, -1.0)
    # The label grows away from its anchor corner, away from the centre; its four corners:
    ij = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    off_x = ij[None, None, :, 0] * (sx * w[:, None])[..., None]  # (n, 4, 4)
    off_y = ij[None, None, :, 1] * (sy * h[:, None])[..., None]
    min_u = (off_x * uu[..., 0, None] + off_y * uu[..., 1, None]).min(axis=-1)
    min_v = (off_x * vv[..., 0, None] + off_y * vv[..., 1, None]).min(axis=-1)
    reach = np.sqrt(2.0) * np.maximum(np.maximum(clear - min_u, clear - min_v), 0.0)
    k = np.argmin(np.round(reach, 1) + 0.01 * (b[..., 0] - b[..., 1]), axis=1)
    n = np.arange(len(cx))
    ax = cx + reach[n, k] * b[n, k, 0]
    ay = cy + reach[n, k] * b[n, k, 1]
    x0 = np.where(sx[n, k] > 0, ax, ax - w)
    y0 = np.where(sy[n, k] > 0, ay, ay - h)
    return x0.round().astype(np.int64), y0.round().astype(np.int64)


def vehicle_corners_px(cx: np.ndarray, cy: np.ndarray, heading_rad: np.ndarray,
                       length_px: np.ndarray, width_px: np.ndarray) -> np.ndarray:
    """(N, 4, 2) screen corners of oriented rectangles centred on (cx, cy), y pointing down."""
    c, s = np.cos(heading_rad), np.sin(heading_rad)
    hl, hw = length_px / 2.0, width_px / 2.0
    # Forward (c, -s) and right (s, c) unit vectors in screen space (y flipped).
    fx, fy = c * hl, -s * hl
    rx, ry = s * hw, c * hw
    out = np.empty((len(cx), 4, 2))
    out[:, 0, 0], out[:, 0, 1] = cx + fx + rx, cy + fy + ry
    out[:, 1, 0], out[:, 1, 1] = cx + fx - rx, cy + fy - ry
    out[:, 2, 0], out[:, 2, 1] = cx - fx - rx, cy - fy - ry
    out[:, 3, 0], out[:, 3, 1] = cx - fx + rx, cy - fy + ry
    return out
