"""Screen-space overlays: HUD, inspection panel, legend, scale bar, help and the OSM attribution.

Kept apart from the world drawing because it changes for different reasons (wording, layout) and
because it is the only part that renders text. Text surfaces are cached by (text, colour, size):
most HUD lines are identical from one frame to the next, and rendering glyphs is the slow part.
The OpenStreetMap attribution is drawn on every frame, whatever else is hidden, because the road
geometry is ODbL data.

Why one long module: the HUD, the inspection panel, the legend and the help share the cached
text renderer and the layout constants; each is a short function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.viz import style
from sim.viz._pygame import pygame
from sim.viz.camera import Camera
from sim.viz.scene import Scene, Selection
from sim.viz.signals import COLOUR_NAMES
from sim.viz.text import legible
from vehicles.classes import AUTOMATION_LEVELS, CLASS_BY_CODE

FONT_SIZES = {"small": 15, "body": 18, "large": 24}
MARGIN_PX = 8
#: Height of the replay time bar along the bottom edge (clicking it seeks).
PROGRESS_BAR_PX = 8

HELP_LINES = (
    ("space", "pause / resume"),
    ("+  /  -", "speed x0.1 ... x100, then max (as fast as possible)"),
    ("n  /  right arrow", "step one frame (while paused)"),
    ("left arrow", "step back (replay, while paused)"),
    ("arrows, drag", "pan (shift + arrows while paused)"),
    ("wheel  /  [  ]", "zoom"),
    ("click", "select a vehicle, RSU or signal (shows its state and links)"),
    ("f", "follow the selected vehicle"),
    ("0", "fit the whole map"),
    ("h", "this help"),
    ("q  /  Esc", "quit"),
)


@dataclass
class HudState:
    """The viewer-side state the overlay shows (none of it is simulation state)."""

    paused: bool = False
    speed: float = 1.0  # simulated seconds per wall second; 0 = as fast as possible
    rtf: float | None = None  # measured real-time factor
    selected: Selection | None = None
    following: bool = False
    show_help: bool = False


def speed_label(speed: float) -> str:
    return "max" if speed == 0 else f"x{speed:g}"


def _fmt(value: float | None, fmt: str, unit: str = "") -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:{fmt}}{unit}"


def nice_length_m(target_m: float) -> float:
    """The largest 1-2-5 x 10^k length not above `target_m` (for the scale bar)."""
    if target_m <= 0:
        return 1.0
    k = math.floor(math.log10(target_m))
    for m in (5, 2, 1):
        if m * 10**k <= target_m:
            return float(m * 10**k)
    return float(10**k)


class Overlay:
    def __init__(self, font_size: int = 16) -> None:
        self._scale = font_size / 16.0
        self._fonts: dict[str, Any] = {}
        self._cache: dict[tuple[str, tuple[int, int, int], str], Any] = {}
        self._panels: dict[tuple[int, int], Any] = {}

    # ------------------------------------------------------------------ text helpers
    def font(self, size: str) -> Any:
        if size not in self._fonts:
            self._fonts[size] = pygame().font.Font(None, round(FONT_SIZES[size] * self._scale))
        return self._fonts[size]

    def render_text(self, text: str, colour: tuple[int, int, int], size: str = "body") -> Any:
        key = (text, colour, size)
        surf = self._cache.get(key)
        if surf is None:
            if len(self._cache) > 1024:
                self._cache.clear()
            font = self.font(size)
            surf = font.render(legible(text, font) if not text.isascii() else text, True, colour)
            self._cache[key] = surf
        return surf

    def text(self, surface: Any, text: str, pos: tuple[int, int],
             colour: tuple[int, int, int] = style.TEXT, size: str = "body") -> Any:
        """Blits `text` with its top-left at `pos`; returns its rect."""
        return surface.blit(self.render_text(text, colour, size), pos)

    def panel(self, surface: Any, rect: Any) -> None:
        """A translucent dark box behind text, so it stays readable over any map."""
        pg = pygame()
        key = (rect.width, rect.height)
        bg = self._panels.get(key)
        if bg is None:
            if len(self._panels) > 64:
                self._panels.clear()
            bg = pg.Surface(key, pg.SRCALPHA)
            bg.fill(style.PANEL_BG)
            self._panels[key] = bg
        surface.blit(bg, rect.topleft)

    def lines_box(self, surface: Any, lines: list[tuple[str, tuple[int, int, int], str]],
                  anchor: tuple[int, int], align_right: bool = False) -> Any:
        """Draws lines of (text, colour, size) in a panel whose top corner is `anchor`."""
        pg = pygame()
        surfs = [self.render_text(t, c, s) for t, c, s in lines]
        w = max(s.get_width() for s in surfs) + 2 * MARGIN_PX
        h = sum(s.get_height() + 2 for s in surfs) + 2 * MARGIN_PX - 2
        x = anchor[0] - w if align_right else anchor[0]
        rect = pg.Rect(x, anchor[1], w, h)
        self.panel(surface, rect)
        y = rect.top + MARGIN_PX
        for s in surfs:
            surface.blit(s, (rect.left + MARGIN_PX, y))
            y += s.get_height() + 2
        return rect

    # ------------------------------------------------------------------ the frame
    def draw(self, surface: Any, scene: Scene, camera: Camera, hud: HudState | None) -> None:
        w, h = surface.get_size()
        bottom = h - (PROGRESS_BAR_PX + 2 if scene.mode == "replay" else 0)
        attribution = self.render_text(style.ATTRIBUTION, style.TEXT, "small")
        a_rect = attribution.get_rect(bottomright=(w - MARGIN_PX, bottom - 4))
        self.panel(surface, a_rect.inflate(8, 4))
        surface.blit(attribution, a_rect)
        if hud is None:
            return
        self.draw_hud(surface, scene, hud)
        self.draw_scale_bar(surface, camera, (MARGIN_PX, bottom - 6))
        self.draw_legend(surface, (MARGIN_PX, bottom - 34),
                         edges=scene.edges is not None and len(scene.edges) > 0,
                         pedestrians=scene.pedestrian_xy_m is not None)
        if scene.signals is not None and len(scene.signals):
            self.draw_signal_legend(surface, (MARGIN_PX, bottom - 60))
        if scene.edges is not None and len(scene.edges):
            self.draw_edge_gauges(surface, scene.edges, (w - MARGIN_PX, MARGIN_PX))
        if scene.mode == "replay":
            self.draw_progress(surface, scene)
        if hud.selected is not None:
            self.draw_inspector(surface, scene, hud.selected, hud.following)
        if hud.show_help:
            self.draw_help(surface)

    def draw_hud(self, surface: Any, scene: Scene, hud: HudState) -> None:
        title = scene.title or "v2xsim"
        mode = "live" if scene.mode == "live" else "replay"
        t = f"t = {scene.t_s:.2f} s"
        if scene.t_end_s is not None:
            t += f" / {scene.t_end_s:.1f} s"
        n_tx = int(np.count_nonzero(scene.transmitted())) if len(scene.tx_vehicle_ids) else 0
        lines = [
            (f"{title}   [{mode}]", style.TEXT, "large"),
            (f"{t}    speed {speed_label(hud.speed)}    RTF {_fmt(hud.rtf, '.2f', 'x')}",
             style.TEXT, "body"),
            (f"vehicles {len(scene.vehicles)}    transmitting {n_tx}    "
             + f"RSUs {len(scene.rsu_xy_m)}" + _signal_summary(scene), style.TEXT, "body"),
        ]
        n_warned = int(np.count_nonzero(scene.warned_rows()))
        if n_warned:
            lines.append((f"warned (braking): {n_warned} vehicle{'s' if n_warned != 1 else ''}",
                          style.EBW_WARNING, "body"))
        st = scene.stats
        if st is not None:
            label = f"  ({st.label})" if st.label else ""
            kpis = (f"PRR@300 m {_fmt(st.prr_300m, '.3f')}    latency p95 "
                    f"{_fmt(st.latency_p95_ms, '.1f', ' ms')}    CBR {_fmt(st.cbr, '.3f')}{label}")
            lines.append((kpis, style.TEXT, "body"))
        state = []
        if scene.finished:
            state.append("FINISHED")
        if hud.paused:
            state.append("PAUSED  (space: resume, n: step)")
        if state:
            lines.append(("   ".join(state), style.TEXT_WARN, "body"))
        lines.append(("h: help    q: quit", style.TEXT_DIM, "small"))
        self.lines_box(surface, lines, (MARGIN_PX, MARGIN_PX))

    def draw_edge_gauges(self, surface: Any, edges: Any, top_right: tuple[int, int]) -> None:
        """Per edge server: a bar of busy cores (green) and one of waiting tasks (amber, scaled
        to the core count), with the numbers, in a panel at the top right."""
        pg = pygame()
        bar_w, row_h = 80, 16
        rows = [(f"{n}{'' if a else ' DOWN'}  {b}/{c} busy  q {q}", a, b, c, q)
                for n, a, b, c, q in zip(edges.names, edges.alive.tolist(), edges.busy.tolist(),
                                         edges.cores.tolist(), edges.queue.tolist())]
        texts = [self.render_text(t, style.TEXT if a else style.EDGE_DOWN, "small")
                 for t, a, *_ in rows]
        width = max(t.get_width() for t in texts) + bar_w + 3 * MARGIN_PX
        rect = pg.Rect(top_right[0] - width, top_right[1], width, row_h * len(rows) + 2 * MARGIN_PX)
        self.panel(surface, rect)
        y = rect.top + MARGIN_PX
        for text, (_, _alive, busy, cores, queue) in zip(texts, rows):
            x = rect.left + MARGIN_PX
            pg.draw.rect(surface, style.TEXT_DIM, pg.Rect(x, y + 2, bar_w, 5), 1)
            pg.draw.rect(surface, style.GAUGE_BUSY,
                         pg.Rect(x, y + 2, round(bar_w * min(busy / max(cores, 1), 1.0)), 5))
            pg.draw.rect(surface, style.GAUGE_QUEUE,
                         pg.Rect(x, y + 8, round(bar_w * min(queue / max(cores, 1), 1.0)), 4))
            surface.blit(text, (x + bar_w + MARGIN_PX, y))
            y += row_h

    def draw_scale_bar(self, surface: Any, camera: Camera, bottom_left: tuple[int, int]) -> None:
        pg = pygame()
        length_m = nice_length_m(150.0 / camera.scale_px_per_m)
        length_px = round(length_m * camera.scale_px_per_m)
        x, y = bottom_left
        label = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
        text = self.render_text(label, style.TEXT, "small")
        box = pg.Rect(x, y - 22, length_px + text.get_width() + 3 * MARGIN_PX, 22)
        self.panel(surface, box)
        y0 = y - 8
        pg.draw.line(surface, style.TEXT, (x + MARGIN_PX, y0), (x + MARGIN_PX + length_px, y0), 2)
        for xx in (x + MARGIN_PX, x + MARGIN_PX + length_px):
            pg.draw.line(surface, style.TEXT, (xx, y0 - 5), (xx, y0), 2)
        surface.blit(text, (x + 2 * MARGIN_PX + length_px, y0 - text.get_height() + 3))

    def draw_legend(self, surface: Any, bottom_left: tuple[int, int], edges: bool = False,
                    pedestrians: bool = False) -> None:
        pg = pygame()
        items: list[tuple[str, tuple[int, int, int], str]] = [
            (CLASS_BY_CODE[c].name, style.CLASS_COLOUR_BY_CODE[c], "box")
            for c in range(len(CLASS_BY_CODE))
        ]
        items += [("L3", style.L3_MARK, "dot"), ("L4", style.L4_MARK, "dot"),
                  ("V2X", style.V2X_MARK, "dot"), ("transmitting", style.TX_RING, "ring"),
                  ("warned", style.EBW_WARNING, "halo"), ("RSU", style.RSU_FILL, "box")]
        if pedestrians:
            items += [("pedestrian/cyclist", style.PEDESTRIAN, "dot")]
        if edges:
            items += [("edge", style.EDGE_FILL, "diamond"), ("edge down", style.EDGE_DOWN, "diamond")]
        surfs = [self.render_text(name, style.TEXT, "small") for name, _, _ in items]
        width = sum(s.get_width() + 26 for s in surfs) + MARGIN_PX
        x, y = bottom_left
        box = pg.Rect(x, y - 22, width, 22)
        self.panel(surface, box)
        cx = x + MARGIN_PX
        cy = y - 11
        for (_name, colour, kind), s in zip(items, surfs):
            if kind == "box":
                pg.draw.rect(surface, colour, (cx, cy - 5, 12, 10))
            elif kind == "dot":
                pg.draw.circle(surface, colour, (cx + 6, cy), 4)
            elif kind == "diamond":
                pg.draw.polygon(surface, colour, [(cx + 6, cy - 6), (cx + 12, cy), (cx + 6, cy + 6),
                                                  (cx, cy)])
            elif kind == "halo":
                pg.draw.circle(surface, colour, (cx + 6, cy), 6)
                pg.draw.rect(surface, style.CLASS_COLOUR_BY_CODE[0], (cx + 3, cy - 2, 7, 4))
            else:
                pg.draw.circle(surface, colour, (cx + 6, cy), 6, 1)
            surface.blit(s, (cx + 16, cy - s.get_height() // 2))
            cx += s.get_width() + 26

    def draw_signal_legend(self, surface: Any, bottom_left: tuple[int, int]) -> None:
        """A second legend row when the map has signals: head colours and box outlines."""
        pg = pygame()
        items = [(f"signal {name}", colour) for name, colour in
                 zip(("green", "yellow", "red"), style.SIGNAL_COLOURS)]
        boxes = [("evidenced junction", False), ("synthetic junction", True),
                 ("stop line", None)]
        surfs = [self.render_text(name, style.TEXT, "small") for name, _ in items]
        surfs += [self.render_text(name, style.TEXT, "small") for name, _ in boxes]
        width = sum(s.get_width() + 26 for s in surfs) + MARGIN_PX
        x, y = bottom_left
        self.panel(surface, pg.Rect(x, y - 22, width, 22))
        cx = x + MARGIN_PX
        cy = y - 11
        for (_, colour), s in zip(items, surfs):
            pg.draw.rect(surface, style.SIGNAL_HOUSING, (cx, cy - 6, 13, 13), border_radius=3)
            pg.draw.circle(surface, colour, (cx + 6, cy), 4)
            surface.blit(s, (cx + 16, cy - s.get_height() // 2))
            cx += s.get_width() + 26
        for (_, synthetic), s in zip(boxes, surfs[len(items):]):
            if synthetic is None:
                pg.draw.line(surface, style.STOP_LINE, (cx + 6, cy - 6), (cx + 6, cy + 6), 3)
            elif synthetic:
                for px, py, dx, dy in ((cx, cy - 6, 1, 1), (cx + 12, cy - 6, -1, 1),
                                       (cx, cy + 6, 1, -1), (cx + 12, cy + 6, -1, -1)):
                    pg.draw.line(surface, style.SIGNAL_SYNTHETIC, (px, py), (px + 4 * dx, py), 2)
                    pg.draw.line(surface, style.SIGNAL_SYNTHETIC, (px, py), (px, py + 4 * dy), 2)
            else:
                pg.draw.rect(surface, style.SIGNAL_EVIDENCED, (cx, cy - 6, 13, 13), 2)
            surface.blit(s, (cx + 16, cy - s.get_height() // 2))
            cx += s.get_width() + 26

    def draw_progress(self, surface: Any, scene: Scene) -> None:
        pg = pygame()
        w, h = surface.get_size()
        rect = progress_rect(w, h)
        pg.draw.rect(surface, (50, 55, 60), rect)
        if scene.t_end_s:
            frac = min(max(scene.t_s / scene.t_end_s, 0.0), 1.0)
            pg.draw.rect(surface, style.TX_RING, (rect.left, rect.top, round(rect.width * frac),
                                                  rect.height))

    def draw_inspector(self, surface: Any, scene: Scene, sel: Selection, following: bool) -> None:
        lines = inspector_lines(scene, sel, following)
        w = surface.get_width()
        self.lines_box(surface, [(t, c, "body") for t, c in lines], (w - MARGIN_PX, MARGIN_PX),
                       align_right=True)

    def draw_help(self, surface: Any) -> None:
        pg = pygame()
        keys = [self.render_text(k, style.TEXT_WARN, "body") for k, _ in HELP_LINES]
        descs = [self.render_text(d, style.TEXT, "body") for _, d in HELP_LINES]
        title = self.render_text("Controls", style.TEXT, "large")
        kw = max(s.get_width() for s in keys)
        width = kw + max(s.get_width() for s in descs) + 4 * MARGIN_PX
        height = title.get_height() + sum(s.get_height() + 4 for s in keys) + 3 * MARGIN_PX
        rect = pg.Rect(0, 0, width, height)
        rect.center = (surface.get_width() // 2, surface.get_height() // 2)
        self.panel(surface, rect)
        self.panel(surface, rect)  # twice: darker, it covers the map on purpose
        surface.blit(title, (rect.left + 2 * MARGIN_PX, rect.top + MARGIN_PX))
        y = rect.top + 2 * MARGIN_PX + title.get_height()
        for k, d in zip(keys, descs):
            surface.blit(k, (rect.left + 2 * MARGIN_PX, y))
            surface.blit(d, (rect.left + 3 * MARGIN_PX + kw, y))
            y += k.get_height() + 4


def progress_rect(width_px: int, height_px: int) -> Any:
    """The replay time bar (shared with `Controls`, which seeks when it is clicked)."""
    return pygame().Rect(0, height_px - PROGRESS_BAR_PX, width_px, PROGRESS_BAR_PX)


def inspector_lines(scene: Scene, sel: Selection,
                    following: bool = False) -> list[tuple[str, tuple[int, int, int]]]:
    """The inspection panel's text: the selected node's state in this scene (pygame-free)."""
    t = style.TEXT
    if sel.kind == "signal":
        return _signal_lines(scene, sel.id)
    if sel.kind == "rsu":
        if not 0 <= sel.id < len(scene.rsu_xy_m):
            return [(f"RSU {sel.id}: not in this scene", style.TEXT_DIM)]
        x, y = scene.rsu_xy_m[sel.id]
        v = scene.vehicles
        inside = int(np.count_nonzero(np.hypot(v.x_m - x, v.y_m - y) <= scene.rsu_radius_m))
        out = [(f"RSU {sel.id}", style.RSU_FILL), (f"position ({x:.0f}, {y:.0f}) m", t),
               (f"planning radius {scene.rsu_radius_m:.0f} m", t),
               (f"vehicles within radius {inside}", t)]
        out += _link_lines(scene, sel, "heard")
        return out
    row = scene.vehicles.row_of(sel.id)
    if row is None:
        return [(f"vehicle #{sel.id}: left the road", style.TEXT_DIM)]
    v = scene.vehicles
    cls = CLASS_BY_CODE.get(int(v.cls[row]))
    name = cls.name if cls else f"class {int(v.cls[row])}"
    level = int(v.automation[row])
    lvl = AUTOMATION_LEVELS[level] if 0 <= level < len(AUTOMATION_LEVELS) else f"L{level}"
    sent = bool(scene.transmitted()[row])
    route = int(v.route[row])
    out = [
        (f"vehicle #{sel.id}  {name}" + ("  (following)" if following else ""),
         style.CLASS_COLOUR_BY_CODE[int(v.cls[row])] if cls else t),
        (f"automation {lvl}    V2X {'yes' if v.equipped[row] else 'no'}", t),
        (f"route {route}    lane {int(v.lane[row])}", t),
        (f"speed {v.v_mps[row] * 3.6:.1f} km/h    "
         + f"accel {round(float(v.a_mps2[row]), 2) + 0.0:+.2f} m/s\u00b2", t),
        (f"position ({v.x_m[row]:.0f}, {v.y_m[row]:.0f}) m    "
         + f"heading {math.degrees(v.heading_rad[row]) % 360:.0f}\u00b0", t),
        (f"size {v.length_m[row]:.1f} x {v.width_m[row]:.1f} m", t),
        (f"transmitted this step: {'yes' if sent else 'no'}", t),
    ]
    if scene.warned is None:
        out.append(("warned: not recorded", style.TEXT_DIM))
    else:
        warned = bool(scene.warned_rows()[row])
        out.append((f"warned: {'yes' if warned else 'no'}", style.EBW_WARNING if warned else t))
    out += _link_lines(scene, sel, "sent")
    return out


def _signal_summary(scene: Scene) -> str:
    sig = scene.signals
    if sig is None or not len(sig):
        return ""
    n_ev = int(np.count_nonzero(~sig.synthetic))
    return f"    signals {len(sig)} ({n_ev} evidenced)"


#: Within this distance [m] of a junction, stopped vehicles count as its queue in the inspector.
QUEUE_RADIUS_M = 150.0
STOPPED_MPS = 1.0


def _signal_lines(scene: Scene, index: int) -> list[tuple[str, tuple[int, int, int]]]:
    t = style.TEXT
    sig = scene.signals
    if sig is None or not 0 <= index < len(sig):
        return [(f"signal {index}: not in this scene", style.TEXT_DIM)]
    x, y = sig.xy_m[index]
    synthetic = bool(sig.synthetic[index])
    bearing = (90.0 - math.degrees(float(sig.axis_rad[index]))) % 180.0
    out = [(f"signal {sig.ids[index]}", style.SIGNAL_SYNTHETIC if synthetic
            else style.SIGNAL_EVIDENCED),
           ("synthetic (assumed junction)" if synthetic else "evidenced (in the source data)", t),
           (f"position ({x:.0f}, {y:.0f}) m    axis bearing {bearing:.0f}\u00b0", t)]
    st = scene.streets
    if st is not None and index < len(st.signal_names) and st.signal_names[index]:
        out.insert(1, (st.signal_names[index], t))
    bars = np.flatnonzero(st.stop_signal == index) if st is not None else np.zeros(0, np.int64)
    if len(bars):  # a per-link program (SUMO): how many controlled links show which colour
        colours = scene.stop_bar_colours()
        if colours is None:
            out.append((f"{len(bars)} controlled links: colours not recorded", style.TEXT_DIM))
        else:
            c = colours[bars]
            out.append((f"{len(bars)} controlled links: " + ", ".join(
                f"{int(np.count_nonzero(c == code))} {name}"
                for code, name in sorted(COLOUR_NAMES.items())), t))
        out += _queue_lines(scene, x, y)
        return out
    state = scene.signal_colours()
    for g, name in enumerate(("axis ", "cross")):
        if state is None:
            out.append((f"{name} group: unknown (not recorded)", style.TEXT_DIM))
        else:
            code = int(state[index, g])
            colour = (style.SIGNAL_COLOURS[code] if 0 <= code < len(style.SIGNAL_COLOURS)
                      else style.SIGNAL_UNKNOWN)
            out.append((f"{name} group: {COLOUR_NAMES.get(code, '?').upper()}", colour))
    n_lines = int(np.count_nonzero(sig.stop_signal == index))
    out.append((f"stop lines {n_lines}", t))
    return out + _queue_lines(scene, x, y)


def _queue_lines(scene: Scene, x: float, y: float) -> list[tuple[str, tuple[int, int, int]]]:
    v = scene.vehicles
    if not len(v):
        return []
    near = np.hypot(v.x_m - x, v.y_m - y) <= QUEUE_RADIUS_M
    stopped = int(np.count_nonzero(near & (v.v_mps < STOPPED_MPS)))
    return [(f"within {QUEUE_RADIUS_M:.0f} m: {int(near.sum())} vehicles, {stopped} stopped",
             style.TEXT)]


def _link_lines(scene: Scene, sel: Selection, verb: str) -> list[tuple[str, tuple[int, int, int]]]:
    found = scene.links_of(sel)
    if found is None:
        return [("links: not recorded", style.TEXT_DIM)]
    ok = found[3]
    n_ok = int(ok.sum())
    return [(f"links {verb}: {n_ok} decoded, {len(ok) - n_ok} lost", style.TEXT)]
