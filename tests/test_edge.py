"""Edge server queues (simpy): FIFO over N cores, queue limit, deadline, failure; hop recorder."""

from __future__ import annotations

import numpy as np
import simpy

from roadside.edge import EdgeServer, Task
from sim.metrics.hops import AgeTracker, HopRecorder
from sim.spec.roadside import TaskSpec


def _edge(cores: int, queue_limit: int = 100, service_ms: float = 10.0,
          deadline_ms: float = 1000.0) -> tuple[simpy.Environment, EdgeServer, list]:
    env = simpy.Environment()
    spec = TaskSpec(mean_ms=service_ms, sd_ms=0.0, deadline_ms=deadline_ms)  # deterministic
    edge = EdgeServer(env, 0, "e", np.zeros(2), cores, queue_limit, {"fusion": spec},
                      np.random.default_rng(0))
    done: list[tuple[float, float, float]] = []

    def on_done(task: Task, end: float, queue: float, service: float) -> None:
        done.append((end, queue, service))

    edge._on_done = on_done  # type: ignore[attr-defined]
    return env, edge, done


def _submit(edge: EdgeServer, at_ms: float, n: int = 1) -> None:
    for _ in range(n):
        edge.submit(Task("fusion", 0, at_ms, 0, at_ms, edge._on_done))  # type: ignore[attr-defined]


def test_fifo_over_cores_closed_form() -> None:
    # 6 tasks of 10 ms at t = 0 on 2 cores finish at 10, 10, 20, 20, 30, 30.
    env, edge, done = _edge(cores=2)
    _submit(edge, 0.0, 6)
    env.run(until=100)
    assert sorted(d[0] for d in done) == [10, 10, 20, 20, 30, 30]
    assert sorted(d[1] for d in done) == [0, 0, 10, 10, 20, 20]
    assert edge.stats.busy_ms == 60.0
    s = edge.summary(100.0)
    assert s["utilisation"] == 60.0 / (2 * 100.0)


def test_queue_limit_drops_and_counts() -> None:
    env, edge, done = _edge(cores=1, queue_limit=2)
    _submit(edge, 5.0, 5)  # 1 in service, 2 wait, 2 dropped
    env.run(until=100)
    assert len(done) == 3
    assert edge.stats.dropped_queue_full == 2


def test_late_results_are_dropped() -> None:
    env, edge, done = _edge(cores=1, deadline_ms=25.0)
    _submit(edge, 0.0, 4)  # ends at 10, 20, 30, 40: the last two miss the 25 ms deadline
    env.run(until=100)
    assert [d[0] for d in done] == [10, 20]
    assert edge.stats.dropped_deadline == 2


def test_failure_loses_queued_and_in_service_work_and_arrivals() -> None:
    env, edge, done = _edge(cores=1)
    _submit(edge, 0.0, 3)  # in service 0-10, queued for 10-20 and 20-30
    _submit(edge, 40.0, 1)  # arrives while down
    _submit(edge, 70.0, 1)  # arrives after recovery

    def script():  # type: ignore[no-untyped-def]
        yield env.timeout(15)
        edge.fail()
        yield env.timeout(45)
        edge.recover()

    env.process(script())
    env.run(until=200)
    assert [d[0] for d in done] == [10, 80]
    assert edge.stats.lost_failure == 3  # the task in service at 15, the queued one, the arrival
    assert edge.summary(200.0)["down_s"] == 0.045


def test_hop_recorder_quantiles_and_budgets() -> None:
    rec = HopRecorder()
    rec.record("rsu", "e2e", np.arange(1, 101))  # 1..100 ms
    s = rec.stats("rsu", "e2e")
    assert s["samples"] == 100
    assert s["p50_ms"] == 50.0 and s["p99_ms"] == 99.0
    assert s["within_100ms"] == 0.99 and s["within_20ms"] == 0.19  # [0, 100) and [0, 20)
    rec2 = HopRecorder(warmup_ms=1000)
    rec2.record("rsu", "e2e", [5.0, 7.0], at_ms=[999, 1000])
    assert rec2.stats("rsu", "e2e")["samples"] == 1


def test_age_of_information_keeps_the_freshest_update() -> None:
    aoi = AgeTracker(horizon_ms=1000)
    aoi.update(np.array([1, 1, 2]), np.array([100, 300, 200]))
    aoi.update(np.array([1]), np.array([250]))  # older than what vehicle 1 has: ignored
    aoi.sample(400)
    assert aoi.summary()["samples"] == 2
    assert dict(zip(aoi.key, aoi.origin)) == {1: 300, 2: 200}
    aoi.sample(1250)  # 2's last update is older than the horizon: forgotten
    assert list(aoi.key) == [1]


def test_batched_hop_samples_equal_direct_ones() -> None:
    """Samples collected in `batched()` (one histogram update per hop) give the histograms of
    direct calls, warm-up filter included (scalar and per-sample times)."""
    rng = np.random.default_rng(2)
    calls = [("rsu_edge", "air_up", rng.uniform(0, 50, k), t) for k, t in
             ((3, 5.0), (4, 120.0), (2, rng.uniform(0, 200, 2)), (0, 300.0))]
    calls += [("sensor_edge", "backhaul_up", [7.5], 150.0), ("rsu_edge", "air_up", [1.0], None),
              ("rsu_edge", "air_up", [2.0, 3.0], [150.0]), ("rsu_edge", "air_up", [4.0], np.nan)]
    direct, batched = HopRecorder(warmup_ms=100), HopRecorder(warmup_ms=100)
    for path, hop, d, at in calls:
        direct.record(path, hop, d, at)
    with batched.batched():
        for path, hop, d, at in calls[:3]:
            batched.record(path, hop, d, at)
        with batched.batched():  # nested: the outer context adds everything at its end
            for path, hop, d, at in calls[3:]:
                batched.record(path, hop, d, at)
        assert not batched.hist  # nothing added before the end
    assert direct.hist.keys() == batched.hist.keys()
    for key, h in direct.hist.items():
        assert np.array_equal(h, batched.hist[key]) and h.sum() > 0
