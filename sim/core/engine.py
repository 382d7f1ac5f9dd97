"""The engine: one simpy environment, one tick process, batch participants, observers.

Time is integer milliseconds (the sidelink subframe), so no float drift ever reorders events. Each
tick, in this fixed order:
  1. the radio evaluates the subframes [t, t + step) in batches of `batch_ms` (vehicles move
     linearly from their positions at t), including the BSMs generated in them; short batches
     keep the sensing of SPS fresh (a selection sees every SCI older than its batch). Around
     each batch, simpy first runs to the batch start (queues and faults scheduled before it act),
     every participant's `before_batch` runs, the medium evaluates the batch, every
     participant's `after_batch` runs (`World.participants` order: roadside, then applications,
     so applications act on what was received before observers see it), then observers see it;
  2. every participant's `on_step`, then observers see the state at t;
  3. simpy advances to t + step (other processes scheduled in between run here, in time order);
  4. mobility moves every vehicle to t + step.
Sparse processes (signals, RSU backhaul, edge queues, scripted faults) join the same environment.
A stop request (first Ctrl-C or SIGTERM) ends the run cleanly at the next step boundary.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any

import simpy

from sim.core.world import Observer, World

__all__ = ["Engine", "Observer", "RunResult"]


@dataclass
class RunResult:
    sim_time_ms: int
    interrupted: bool
    ticks: int


class Engine:
    def __init__(self, world: World, observers: Sequence[Observer] = ()) -> None:
        self.world = world
        self.observers = list(observers)
        self.env = simpy.Environment()
        self.ticks = 0
        self.now_ms = 0
        self._stop = False

    def request_stop(self) -> None:
        self._stop = True

    def _tick(self) -> Generator[simpy.Event, Any, None]:
        w = self.world
        step = w.step_ms
        w.mobility.place_initial()
        w.mobility.update_positions()
        batch_ms = w.radio_batch_ms
        parts = list(w.participants)
        for p in parts:
            p.start(self.env, w)
        while True:
            now = int(self.env.now)
            for t0 in range(now, now + step, batch_ms):
                if t0 > self.env.now:
                    yield self.env.timeout(t0 - self.env.now)
                for p in parts:
                    p.before_batch(w, t0, batch_ms)
                batch = w.medium.batch(t0, batch_ms, state_ms=now)
                for p in parts:
                    p.after_batch(w, batch)
                for o in self.observers:
                    o.on_radio_batch(w, batch)
            for p in parts:
                p.on_step(w, now)
            for o in self.observers:
                o.on_step(w, now)
            self.ticks += 1
            yield self.env.timeout(now + step - self.env.now)
            w.mobility.step(int(self.env.now))

    def run(
        self, until_ms: int | None = None, on_progress: Callable[[int], None] | None = None,
        progress_every_ms: int | None = None,
    ) -> RunResult:
        """Runs to `until_ms` (default: the scenario duration) or until a stop request, which is
        honoured at the next chunk boundary (default: every mobility step)."""
        until = self.world.duration_ms if until_ms is None else until_ms
        progress_every_ms = progress_every_ms or self.world.step_ms
        for o in self.observers:
            o.on_start(self.world)
        self.env.process(self._tick())
        interrupted = False
        try:
            t = 0
            while t < until and not self._stop:
                t = min(t + progress_every_ms, until)
                self.env.run(until=t)
                self.now_ms = t
                if on_progress:
                    on_progress(t)
        except KeyboardInterrupt:
            interrupted = True
            self.now_ms = int(self.env.now)
        interrupted = interrupted or self._stop
        for o in self.observers:
            o.on_end(self.world, self.now_ms, interrupted)
        return RunResult(self.now_ms, interrupted, self.ticks)
