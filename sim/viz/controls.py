"""`Controls`: turns pygame input events into viewer state and requests.

It is a small state machine (paused, speed, selection, follow, help, drag) that never touches the
simulation: the loop that owns the simulation (the live observer or the replay player) reads the
requests (`step_requests`, `seek_fraction`, `quit`) at a point of its choosing - the live viewer at
a tick boundary - which is how user input stays out of the model's timeline. The camera is the one
thing it moves directly, since the camera is viewer state too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sim.viz import style
from sim.viz._pygame import pygame
from sim.viz.camera import ZOOM_STEP, Camera
from sim.viz.overlay import PROGRESS_BAR_PX, HudState
from sim.viz.scene import Scene, Selection

#: Speed factors (simulated s per wall s) stepped through by +/-; 0 = as fast as possible.
SPEEDS: tuple[float, ...] = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 0.0)
PAN_STEP_PX = 120
PICK_RADIUS_PX = 12
CLICK_SLOP_PX = 4


def speed_index(speed: float) -> int:
    """Index of the closest entry of SPEEDS (0 means max)."""
    if speed <= 0:
        return len(SPEEDS) - 1
    finite = [abs(s - speed) if s > 0 else float("inf") for s in SPEEDS]
    return finite.index(min(finite))


class Controls:
    def __init__(self, camera: Camera, speed: float = 1.0, paused: bool = False) -> None:
        self.camera = camera
        self.speed_index = speed_index(speed)
        self.paused = paused
        self.step_requests = 0  # > 0: frames forward, < 0: back (replay only)
        self.can_step_back = False
        self.has_timeline = False  # replay: the bottom bar seeks
        self.seek_fraction: float | None = None
        self.selected: Selection | None = None
        self.following = False
        self.show_help = False
        self.quit = False
        self.fit_requested = False
        self.timing_changed = False  # pause/speed changed: the pacer re-anchors its clocks
        self._drag_last: tuple[int, int] | None = None
        self._drag_moved = 0.0

    # ------------------------------------------------------------------ derived state
    @property
    def speed(self) -> float:
        return SPEEDS[self.speed_index]

    def hud(self, rtf: float | None = None) -> HudState:
        return HudState(paused=self.paused, speed=self.speed, rtf=rtf, selected=self.selected,
                        following=self.following, show_help=self.show_help)

    # ------------------------------------------------------------------ commands
    def toggle_pause(self) -> None:
        self.paused = not self.paused
        self.timing_changed = True

    def faster(self) -> None:
        self.speed_index = min(self.speed_index + 1, len(SPEEDS) - 1)
        self.timing_changed = True

    def slower(self) -> None:
        self.speed_index = max(self.speed_index - 1, 0)
        self.timing_changed = True

    def select(self, sel: Selection | None) -> None:
        self.selected = sel
        if sel is None or sel.kind != "vehicle":
            self.following = False

    def click(self, pos: tuple[int, int], scene: Scene | None) -> None:
        if self.has_timeline and pos[1] >= self.camera.height_px - PROGRESS_BAR_PX - 2:
            self.seek_fraction = min(max(pos[0] / max(self.camera.width_px, 1), 0.0), 1.0)
            return
        if scene is None:
            return
        x, y = self.camera.point_to_world(*pos)
        s = self.camera.scale_px_per_m
        box, offset, head = style.signal_glyph_px(s)
        self.select(scene.pick(x, y, PICK_RADIUS_PX / s, rsu_size_m=style.rsu_half_px(s) / s,
                               signal_glyph_m=(box / s, offset / s, (head + 2) / s)))

    # ------------------------------------------------------------------ events
    def handle_all(self, events: Iterable[Any], scene: Scene | None = None) -> None:
        for event in events:
            self.handle(event, scene)

    def handle(self, event: Any, scene: Scene | None = None) -> None:
        """Applies one pygame event; `scene` is what is on screen (for click picking)."""
        pg = pygame()
        if event.type == pg.QUIT:
            self.quit = True
        elif event.type == pg.KEYDOWN:
            self._key(event, pg)
        elif event.type == pg.MOUSEWHEEL:
            anchor = pg.mouse.get_pos() if pg.mouse.get_focused() else None
            self.camera.zoom(ZOOM_STEP ** (1 if event.y > 0 else -1) if event.y else 1.0, anchor)
        elif event.type == pg.MOUSEBUTTONDOWN and event.button == 1:
            self._drag_last = tuple(event.pos)
            self._drag_moved = 0.0
        elif event.type == pg.MOUSEMOTION and self._drag_last is not None:
            x, y = event.pos
            dx, dy = x - self._drag_last[0], y - self._drag_last[1]
            self._drag_moved += abs(dx) + abs(dy)
            self._drag_last = (x, y)
            if self._drag_moved > CLICK_SLOP_PX:
                self.camera.pan_px(dx, dy)
                self.following = False
        elif event.type == pg.MOUSEBUTTONUP and event.button == 1:
            if self._drag_last is not None and self._drag_moved <= CLICK_SLOP_PX:
                self.click(tuple(event.pos), scene)
            self._drag_last = None

    def _key(self, event: Any, pg: Any) -> None:
        k = event.key
        shift = bool(getattr(event, "mod", 0) & pg.KMOD_SHIFT)
        if k in (pg.K_q, pg.K_ESCAPE):
            if k == pg.K_ESCAPE and self.show_help:
                self.show_help = False
            else:
                self.quit = True
        elif k == pg.K_SPACE:
            self.toggle_pause()
        elif k in (pg.K_PLUS, pg.K_EQUALS, pg.K_KP_PLUS):
            self.faster()
        elif k in (pg.K_MINUS, pg.K_KP_MINUS, pg.K_UNDERSCORE):
            self.slower()
        elif k == pg.K_n or (k == pg.K_RIGHT and self.paused and not shift):
            self.step_requests += 1
        elif k == pg.K_LEFT and self.paused and not shift and self.can_step_back:
            self.step_requests -= 1
        elif k in (pg.K_LEFT, pg.K_RIGHT, pg.K_UP, pg.K_DOWN):
            dx = {pg.K_LEFT: 1, pg.K_RIGHT: -1}.get(k, 0) * PAN_STEP_PX
            dy = {pg.K_UP: 1, pg.K_DOWN: -1}.get(k, 0) * PAN_STEP_PX
            self.camera.pan_px(dx, dy)
            self.following = False
        elif k in (pg.K_RIGHTBRACKET, pg.K_KP_MULTIPLY):
            self.camera.zoom(ZOOM_STEP)
        elif k in (pg.K_LEFTBRACKET, pg.K_KP_DIVIDE):
            self.camera.zoom(1 / ZOOM_STEP)
        elif k == pg.K_f:
            self.following = (not self.following and self.selected is not None
                              and self.selected.kind == "vehicle")
        elif k == pg.K_h:
            self.show_help = not self.show_help
        elif k == pg.K_0:
            self.fit_requested = True
            self.following = False
