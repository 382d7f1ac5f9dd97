"""`LiveViewer`: the viewer as an engine observer, watching a scenario while it runs.

It only reads: each tick it copies the vehicle columns into a `Scene` and keeps a reference to the
radio batch (whose arrays nobody modifies), and it never calls the world's RNGs, so a run with the
viewer attached writes byte-identical outputs (tested). Pause, single-step and speed control are
applied here, at the tick boundary (`on_step`), by not returning to the engine until the user lets
the simulation go on: a pause is a wait between two ticks, never a change to the timeline.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.metrics.kpi import prr_at, quantile_from_hist
from sim.metrics.radio_recorder import LATENCY_BIN_MS
from sim.viz.buildings import FloatArray, building_rings
from sim.viz.edges import edge_layer_from_world
from sim.viz.roads import RoadLayer, RouteShape, build_road_layer
from sim.viz.scene import Links, Scene, Stats, Vehicles
from sim.viz.signals import SignalLayer, build_signal_layer
from sim.viz.streets import StreetLayer, build_street_layer
from sim.viz.style import DEFAULT_RSU_RADIUS_M
from sim.viz.viewer import FrameWriter, Viewer
from vehicles.table import warned as warned_at

if TYPE_CHECKING:
    from sim.core.engine import Engine
    from sim.core.world import World
    from sim.io.summary_observer import SummaryObserver
    from sim.radio.medium import RadioBatch

#: Behind the requested speed by more than this [s wall], the pacer stops trying to catch up.
MAX_LAG_S = 0.25


def roads_from_world(world: World) -> RoadLayer:
    routes = [RouteShape(r.xy_m, r.lanes, r.lane_width_m) for r in world.geometry.routes]
    return build_road_layer(routes, world.rsus.xy_m)


def streets_from_world(world: World) -> StreetLayer | None:
    return None if world.streets is None else build_street_layer(world.streets)


def stop_colours_at(world: World, now_ms: int) -> np.ndarray | None:
    """The colour each stop bar of the world's streets shows at `now_ms` (what vehicles obey)."""
    st, sig = world.streets, world.signals
    if st is None or sig is None:
        return None
    return sig.colors(now_ms, st.stop_signal, st.stop_group).astype(np.int8)


def signals_from_world(world: World) -> SignalLayer | None:
    """The world's signals and the stop lines the builder placed, for drawing (once per run)."""
    sig = world.signals
    if sig is None:
        return None
    routes = [RouteShape(r.xy_m, r.lanes, r.lane_width_m) for r in world.geometry.routes]
    lines = world.stop_lines
    z = np.zeros(0, np.int64)
    return build_signal_layer(
        sig.ids, sig.xy_m, sig.axis_rad, np.array([s == "synthetic" for s in sig.sources]),
        routes, lines.route if lines is not None else z,
        lines.s_m if lines is not None else np.zeros(0), lines.signal if lines is not None else z,
    )


def stats_from_summary(summary: SummaryObserver) -> Stats:
    """PRR at 300 m and latency p95 so far (after warm-up), mean CBR of the last whole 100 ms."""
    r = summary.radio
    cbr = r.cbr_series[-1][1] if r.cbr_series else None
    return Stats(
        prr_300m=prr_at(300.0, r.bin_m, r.success, r.samples),
        latency_p95_ms=quantile_from_hist(r.latency_hist, LATENCY_BIN_MS, 0.95),
        cbr=cbr,
    )


def links_from_batch(batch: RadioBatch) -> Links:
    """The batch's link table as `Links`, by reference (no per-link work until something is
    selected)."""
    links = batch.result.links
    return Links(link_tx=links.tx, tx_vehicle_id=batch.tx_vehicle_id, link_rx=links.rx,
                 rx_vehicle_id=batch.node_vehicle_id, rx_rsu=batch.node_rsu, reason=links.reason)


def buildings_of(world: World) -> tuple[FloatArray, ...] | None:
    """The footprints the radio tests links against (static), one (K, 2) ring per building."""
    b = getattr(getattr(world.medium, "cfg", None), "buildings", None)
    return None if b is None else building_rings(b.edge_a_m, b.edge_building)


def scene_from_world(world: World, roads: RoadLayer, now_ms: int,
                     batches: Sequence[RadioBatch] = (), stats: Stats | None = None,
                     rsu_radius_m: float = DEFAULT_RSU_RADIUS_M,
                     signals: SignalLayer | None = None,
                     streets: StreetLayer | None = None) -> Scene:
    """A snapshot of the world at `now_ms` and the radio batches of the tick that led to it
    (vehicle columns are copied: the world moves on; batch arrays are never modified).
    `signals` is the run's static signal layer (built from the world when not given)."""
    tx_ids = (np.unique(np.concatenate([b.tx_vehicle_id for b in batches])) if batches
              else np.zeros(0, np.int64))
    if signals is None and world.signals is not None:
        signals = signals_from_world(world)
    state = (world.signals.state_at(now_ms).astype(np.int8) if world.signals is not None
             else None)
    warned = warned_at(world.mobility.table, now_ms)
    if streets is None and world.streets is not None:
        streets = streets_from_world(world)
    alive = getattr(world.medium, "rsu_alive", None)
    return Scene(
        t_s=now_ms / 1000.0, roads=roads, rsu_xy_m=np.array(world.rsus.xy_m).reshape(-1, 2),
        vehicles=Vehicles.from_columns(world.mobility.table.cols), tx_vehicle_ids=tx_ids,
        links=tuple(links_from_batch(b) for b in batches), stats=stats,
        rsu_radius_m=rsu_radius_m, title=world.spec.name, mode="live", signals=signals,
        signal_state=state, warned=warned, edges=edge_layer_from_world(world),
        pedestrian_xy_m=None if world.pedestrians is None else np.column_stack(
            [world.pedestrians["x_m"], world.pedestrians["y_m"]]),
        streets=streets, stop_colours=stop_colours_at(world, now_ms),
        rsu_alive=None if alive is None else np.array(alive, dtype=bool),
        focus_bounds_m=world.view_bounds_m, buildings_xy_m=buildings_of(world),
    )


class LiveViewer:
    """Engine observer that draws each tick, in a window or off-screen for exports.

    `attach` (pass it as `run_scenario(engine_hook=...)`) gives it the engine, so that quitting
    the window can request a clean stop, and finds the run's SummaryObserver for the HUD KPIs.
    """

    def __init__(self, viewer: Viewer, *, summary: SummaryObserver | None = None,
                 rsu_radius_m: float = DEFAULT_RSU_RADIUS_M,
                 screenshot: tuple[Path, float] | None = None,
                 frames: FrameWriter | None = None) -> None:
        self.viewer = viewer
        self.summary = summary
        self.rsu_radius_m = rsu_radius_m
        self.screenshot = screenshot
        self.screenshot_taken = False
        self.frames = frames
        self.engine: Engine | None = None
        self.roads: RoadLayer | None = None
        self.signals: SignalLayer | None = None
        self.streets: StreetLayer | None = None
        self.scene: Scene | None = None
        self.quit = False
        self.passive = False  # an export is complete: skip the per-tick work
        self.finished = False
        self._batches: list[RadioBatch] = []  # the radio batches of the current tick
        self._anchor: tuple[float, float] | None = None  # (wall s, sim s) of the pacing origin

    def attach(self, engine: Engine) -> None:
        from sim.io.summary_observer import SummaryObserver

        self.engine = engine
        if self.summary is None:
            self.summary = next((o for o in engine.observers if isinstance(o, SummaryObserver)),
                                None)

    # ------------------------------------------------------------------ observer protocol
    def on_start(self, world: World) -> None:
        self.roads = roads_from_world(world)
        self.signals = signals_from_world(world)
        self.streets = streets_from_world(world)

    def on_radio_batch(self, world: World, batch: RadioBatch) -> None:
        if self.quit or self.passive:
            return
        if self._batches and batch.t0_ms <= self._batches[-1].t0_ms:
            self._batches = []
        self._batches.append(batch)

    def on_step(self, world: World, now_ms: int) -> None:
        if self.quit or self.passive:
            return
        batches, self._batches = self._batches, []
        self.viewer.rate.add(now_ms / 1000.0)
        shot = self._screenshot_due(now_ms, world.step_ms)
        n_frames = self.frames.due((now_ms + world.step_ms) / 1000.0) if self.frames else 0
        if not (self.viewer.window or shot or n_frames):
            return  # off-screen with nothing due: no snapshot needed
        if self.roads is None:
            self.on_start(world)
        assert self.roads is not None
        stats = stats_from_summary(self.summary) if self.summary is not None else None
        self.scene = scene_from_world(world, self.roads, now_ms, batches, stats,
                                      self.rsu_radius_m, self.signals, self.streets)
        if shot:
            assert self.screenshot is not None
            self.viewer.draw(self.scene)
            self.viewer.save(self.screenshot[0])
            self.screenshot_taken = True
            # Nothing more to draw; the caller sizes the run to end here (a stop request would
            # mark the run directory as interrupted).
            self.passive = self.frames is None and not self.viewer.window
        if n_frames:
            assert self.frames is not None
            self.viewer.draw(self.scene)
            for _ in range(n_frames):  # frames closer together than a tick show the same state
                self.viewer.save(self.frames.path(self.frames.next_index))
                self.frames.next_index += 1
                self.frames.written += 1
        if self.viewer.window:
            self._interact(self.scene, now_ms / 1000.0)

    def on_end(self, world: World, now_ms: int, interrupted: bool) -> None:
        self.finished = True
        if self.scene is not None:
            self.scene = dataclasses.replace(self.scene, finished=True)

    def _screenshot_due(self, now_ms: int, step_ms: int) -> bool:
        """The screenshot shows the tick at or just before `at` (state between ticks is not
        defined)."""
        if self.screenshot is None or self.screenshot_taken:
            return False
        at_ms = self.screenshot[1] * 1000.0
        return now_ms <= at_ms + 1e-6 < now_ms + step_ms

    # ------------------------------------------------------------------ interactive pacing
    def _interact(self, scene: Scene, sim_s: float) -> None:
        """Draws and handles input until the simulation may take its next step."""
        v = self.viewer
        c = v.controls
        if self._anchor is None:
            self._anchor = (time.perf_counter(), sim_s)
        while True:
            v.poll(scene)
            if c.quit:
                self._stop()
                return
            if c.timing_changed:
                c.timing_changed = False
                self._anchor = (time.perf_counter(), sim_s)
                v.rate.reset()
            if c.paused:
                if c.step_requests > 0:
                    c.step_requests -= 1
                    v.draw(scene)
                    self._anchor = None
                    return
                c.step_requests = 0
                v.draw(scene)
                v.wait_frame()
                continue
            c.step_requests = 0
            speed = c.speed
            if speed <= 0:  # as fast as possible: draw at most MAX_FPS times per wall second
                if v.draw_due():
                    v.draw(scene)
                return
            remaining = self._anchor[0] + (sim_s - self._anchor[1]) / speed - time.perf_counter()
            if remaining < -MAX_LAG_S:  # the simulation is slower than asked: do not sprint later
                self._anchor = (time.perf_counter(), sim_s)
                remaining = 0.0
            if remaining <= 0:
                if v.draw_due():
                    v.draw(scene)
                return
            if v.draw_due():
                v.draw(scene)
            time.sleep(min(remaining, 1.0 / 60))

    def _stop(self) -> None:
        """Quit: ask the engine for a clean stop and go passive (the run ends at its next check)."""
        self.quit = True
        if self.engine is not None:
            self.engine.request_stop()
        if self.viewer.window:
            self.viewer.close()

    def hold(self) -> None:
        """After the run: keep showing the last instant until the user quits the window."""
        v = self.viewer
        if not v.window or self.quit or self.scene is None:
            return
        while not v.controls.quit:
            v.poll(self.scene)
            v.controls.step_requests = 0
            v.draw(self.scene)
            v.wait_frame()
        v.close()
