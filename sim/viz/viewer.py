"""`Viewer`: the window (or an off-screen surface), a camera, the controls and the renderer.

It owns the pygame side of things and nothing about time: the live observer and the replay player
decide *when* to poll input and draw; the Viewer just does it. Headless exports (`--screenshot`,
`--frames`) use an off-screen Surface, so they need no display at all (and work the same with
`SDL_VIDEODRIVER=dummy`).
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.viz._pygame import pygame
from sim.viz.camera import Camera
from sim.viz.controls import Controls
from sim.viz.render import Renderer
from sim.viz.scene import Scene, Selection

DEFAULT_SIZE = (1280, 800)
#: Frame rate cap of the interactive loop [frames per wall second].
MAX_FPS = 60


@dataclass(frozen=True)
class InitialView:
    """Where the camera starts: the scenario's area of interest (or the whole map) unless a
    centre (point or node) or scale is given."""

    center_m: tuple[float, float] | None = None
    center_on: Selection | None = None  # resolved on the first scene that contains it
    scale_px_per_m: float | None = None
    select: Selection | None = None
    follow: bool = False


class RateMeter:
    """Real-time factor over the last second of wall time (simulated s per wall s)."""

    def __init__(self, window_s: float = 1.0) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, float]] = deque()

    def add(self, sim_s: float, wall_s: float | None = None) -> None:
        wall = time.perf_counter() if wall_s is None else wall_s
        self._samples.append((wall, sim_s))
        while len(self._samples) > 2 and wall - self._samples[0][0] > self.window_s:
            self._samples.popleft()

    def reset(self) -> None:
        self._samples.clear()

    @property
    def rtf(self) -> float | None:
        if len(self._samples) < 2:
            return None
        (w0, s0), (w1, s1) = self._samples[0], self._samples[-1]
        return (s1 - s0) / (w1 - w0) if w1 > w0 else None


class FrameWriter:
    """PNG frames at `fps` frames per *simulated* second: frame k shows the state at k / fps s."""

    def __init__(self, directory: Path, fps: float) -> None:
        self.directory = Path(directory)
        self.fps = fps
        self.next_index = 0
        self.written = 0

    def next_time_s(self) -> float:
        return self.next_index / self.fps

    def due(self, until_s: float) -> int:
        """How many frames fall before `until_s` and have not been written yet."""
        end = math.ceil(until_s * self.fps - 1e-9)
        return max(end - self.next_index, 0)

    def path(self, index: int) -> Path:
        return self.directory / f"frame_{index:06d}.png"


class Viewer:
    def __init__(self, size: tuple[int, int] = DEFAULT_SIZE, *, window: bool = True,
                 title: str = "v2xsim", speed: float = 1.0, paused: bool = False,
                 view: InitialView | None = None, font_size: int = 16) -> None:
        pg = pygame()
        self.window = window
        if window:
            pg.display.init()
            self.surface: Any = pg.display.set_mode(size, pg.RESIZABLE)
            pg.display.set_caption(title)
            pg.key.set_repeat(300, 40)
        else:
            self.surface = pg.Surface(size, 0, 32)
        self.camera = Camera(*self.surface.get_size())
        self.controls = Controls(self.camera, speed=speed, paused=paused)
        self.renderer = Renderer(font_size)
        self.view = view or InitialView()
        self.rate = RateMeter()
        self._placed = False
        self._last_draw = 0.0
        self.frames_drawn = 0

    # ------------------------------------------------------------------ camera
    def _place(self, scene: Scene) -> None:
        """Applies the initial view once, on the first scene (the map's bounds are known then)."""
        v = self.view
        if not self._placed:
            self._placed = True
            self.camera.fit(scene.initial_bounds_m(), margin=0.0 if scene.focus_bounds_m else 0.05)
            if v.select is not None:
                self.controls.select(v.select)
                self.controls.following = v.follow and v.select.kind == "vehicle"
            center = v.center_m
            if center is None and v.center_on is not None:
                center = scene.position_of(v.center_on)
            if center is not None:
                self.camera.look_at(*center)
            if v.scale_px_per_m is not None:
                self.camera.look_at(self.camera.center_x_m, self.camera.center_y_m,
                                    v.scale_px_per_m)
        c = self.controls
        if c.fit_requested:
            c.fit_requested = False
            self.camera.fit(scene.map_bounds_m())
        if c.following and c.selected is not None:
            pos = scene.position_of(c.selected)
            if pos is not None:
                self.camera.look_at(*pos)

    # ------------------------------------------------------------------ loop pieces
    def poll(self, scene: Scene | None) -> None:
        """Feeds pending window events to the controls (no-op off-screen)."""
        if self.window:
            self.controls.handle_all(pygame().event.get(), scene)

    def draw(self, scene: Scene) -> None:
        """Renders `scene` and shows it."""
        if self.window:
            size = self.surface.get_size()
            if size != (self.camera.width_px, self.camera.height_px):
                self.camera.resize(*size)
        self._place(scene)
        self.renderer.draw(self.surface, scene, self.camera, self.controls.hud(self.rate.rtf))
        if self.window:
            pygame().display.flip()
        self._last_draw = time.perf_counter()
        self.frames_drawn += 1

    def draw_due(self) -> bool:
        """True when a frame is due under the frame-rate cap (drawing faster is wasted work)."""
        return time.perf_counter() - self._last_draw >= 1.0 / MAX_FPS

    def wait_frame(self) -> None:
        """Sleeps out the rest of this frame's slot under the frame-rate cap."""
        rest = 1.0 / MAX_FPS - (time.perf_counter() - self._last_draw)
        if rest > 0:
            time.sleep(rest)

    def save(self, path: Path) -> None:
        """Writes what was last drawn as a PNG (parent directories are created)."""
        path = Path(path)
        pg = pygame()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            pg.image.save(self.surface, str(path))
        except pg.error as exc:  # e.g. an unwritable directory: report it as the OS error it is
            raise OSError(f"{path}: cannot write the image ({exc})") from None

    def close(self) -> None:
        if self.window:
            pg = pygame()
            if pg.display.get_init():
                pg.display.quit()
            self.window = False
