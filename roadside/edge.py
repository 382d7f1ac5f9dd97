"""Edge (MEC) servers as simpy queues: N cores, a waiting-room limit, deadlines, failures.

One simpy process per *task*, never per message: a task is a bundle (all BSMs one RSU forwarded in
one radio batch, or one roadside sensor frame), so a few hundred tasks per second reach an edge
however many BSMs there are. A task arrives, is dropped if `queue_limit` tasks already wait, waits
for a core (`simpy.Resource` with `cores` servers, FIFO), is served for a lognormal service time
(mean/sd per task type, plus a per-item cost), and its result is dropped and counted if it is
later than the task's deadline, counted from its arrival at the edge (a processing deadline:
the inputs' own age is reported per hop, not charged to the server). When the edge fails, every task
queued or in service is lost (an epoch counter invalidates them) and arrivals are lost until the
RSUs fail over (`roadside.network`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from roadside.latency import lognormal_ms
from sim.spec.roadside import TaskSpec


@dataclass
class EdgeStats:
    arrived: int = 0
    served: int = 0
    dropped_queue_full: int = 0
    dropped_deadline: int = 0
    lost_failure: int = 0
    rerouted: int = 0  # tasks served here for an RSU whose home edge is another
    busy_ms: float = 0.0
    down_ms: float = 0.0
    queue_samples: int = 0
    queue_sum: int = 0
    queue_max: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


@dataclass
class Task:
    kind: str  # "fusion" | "collision_risk"
    rsu: int  # requesting RSU (-1 for Uu tasks)
    arrive_ms: float  # at the edge
    items: int
    origin_ms: float  # oldest input (information age; the deadline counts from arrive_ms)
    on_done: Callable[[Task, float, float, float], None]  # (task, end_ms, queue_ms, service_ms)
    payload: object = None


class EdgeServer:
    def __init__(self, env: simpy.Environment, index: int, name: str, xy_m: np.ndarray,
                 cores: int, queue_limit: int, tasks: dict[str, TaskSpec],
                 rng: np.random.Generator) -> None:
        self.env = env
        self.index = index
        self.name = name
        self.xy_m = xy_m
        self.cores = cores
        self.queue_limit = queue_limit
        self.tasks = tasks
        self.rng = rng
        self.res = simpy.Resource(env, capacity=cores)
        self.alive = True
        self.epoch = 0
        self.failed_at_ms: float | None = None
        self.stats = EdgeStats()

    # ------------------------------------------------------------------ faults
    def fail(self) -> None:
        if self.alive:
            self.alive = False
            self.epoch += 1
            self.failed_at_ms = float(self.env.now)

    def recover(self) -> None:
        if not self.alive:
            assert self.failed_at_ms is not None
            self.stats.down_ms += float(self.env.now) - self.failed_at_ms
            self.alive = True
            self.failed_at_ms = None

    # ------------------------------------------------------------------ tasks
    def service_ms(self, kind: str, items: int) -> float:
        s = self.tasks[kind]
        return float(lognormal_ms(self.rng, s.mean_ms, s.sd_ms, 1)[0]) + s.per_item_ms * items

    def submit(self, task: Task, rerouted: bool = False) -> None:
        self.stats.arrived += 1
        self.stats.by_kind[task.kind] = self.stats.by_kind.get(task.kind, 0) + 1
        if rerouted:
            self.stats.rerouted += 1
        self.env.process(self._run(task, self.service_ms(task.kind, task.items)))

    def _run(self, task: Task, service_ms: float):  # type: ignore[no-untyped-def]
        env, st = self.env, self.stats
        if task.arrive_ms > env.now:
            yield env.timeout(task.arrive_ms - env.now)
        if not self.alive:
            st.lost_failure += 1
            return
        if len(self.res.queue) >= self.queue_limit:
            st.dropped_queue_full += 1
            return
        epoch = self.epoch
        t_in = float(env.now)
        with self.res.request() as req:
            yield req
            if self.epoch != epoch:
                st.lost_failure += 1
                return
            t_start = float(env.now)
            yield env.timeout(service_ms)
            st.busy_ms += service_ms
            if self.epoch != epoch:
                st.lost_failure += 1
                return
        end = float(env.now)
        if end - task.arrive_ms > self.tasks[task.kind].deadline_ms:
            st.dropped_deadline += 1
            return
        st.served += 1
        task.on_done(task, end, t_start - t_in, service_ms)

    def sample_queue(self) -> None:
        q = len(self.res.queue)
        self.stats.queue_samples += 1
        self.stats.queue_sum += q
        self.stats.queue_max = max(self.stats.queue_max, q)

    def summary(self, sim_ms: float) -> dict[str, Any]:
        st = self.stats
        down = st.down_ms + (sim_ms - self.failed_at_ms if self.failed_at_ms is not None else 0.0)
        up_ms = max(sim_ms - down, 0.0)
        return {
            "cores": self.cores,
            "tasks": st.arrived,
            "served": st.served,
            "dropped_queue_full": st.dropped_queue_full,
            "dropped_deadline": st.dropped_deadline,
            "lost_failure": st.lost_failure,
            "rerouted_in": st.rerouted,
            "utilisation": round(st.busy_ms / (self.cores * up_ms), 6) if up_ms > 0 else None,
            "queue_mean": round(st.queue_sum / st.queue_samples, 4) if st.queue_samples else None,
            "queue_max": st.queue_max,
            "down_s": round(down / 1000.0, 3),
        }
