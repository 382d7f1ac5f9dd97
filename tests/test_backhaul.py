"""Backhaul link: the vectorized FIFO against a plain per-message loop, serialization, loss, drops."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from roadside.backhaul import Backhaul
from sim.spec.roadside import BackhaulSpec, LatencySpec


def _fifo_reference(arrive: list[float], service: list[float], free: float) -> list[float]:
    out = []
    for a, s in zip(arrive, service):
        free = max(a, free) + s
        out.append(free)
    return out


def _link(**kw: object) -> Backhaul:
    spec = BackhaulSpec(latency=LatencySpec(kind="fixed", low_ms=1.0), **kw)  # type: ignore[arg-type]
    return Backhaul(spec, 2, np.random.default_rng(0))


def test_serialization_is_size_over_bandwidth() -> None:
    bh = _link(bandwidth_mbps=1000.0)
    # 1000 B at 1 Gb/s = 8000 bits / 1e6 bits per ms = 0.008 ms.
    assert bh.serialization_ms(np.array([1000]))[0] == 0.008
    d = bh.send(0, "up", np.array([10.0]), np.array([1000.0]), distance_km=20.0)
    # idle link: serialization + 1 ms switching + 20 km of fibre at 5 us/km = 0.1 ms
    assert abs(d.deliver_ms[0] - (10.0 + 0.008 + 1.0 + 0.1)) < 1e-9


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 50), st.integers(1, 20_000)), min_size=1, max_size=40),
       st.floats(0, 30))
def test_fifo_matches_the_scalar_recursion(msgs: list[tuple[float, int]], free: float) -> None:
    msgs.sort()
    arrive = np.array([m[0] for m in msgs])
    size = np.array([float(m[1]) for m in msgs])
    bh = _link(bandwidth_mbps=10.0, buffer_bytes=10**9)  # slow link: real queueing
    bh.free_at_ms["up"][1] = free
    d = bh.send(1, "up", arrive, size)
    ref = _fifo_reference(list(arrive), list(bh.serialization_ms(size)), free)
    np.testing.assert_allclose(d.deliver_ms - 1.0, ref, rtol=0, atol=1e-9)
    assert abs(bh.free_at_ms["up"][1] - ref[-1]) < 1e-9
    # The other direction and the other RSU are untouched.
    assert bh.free_at_ms["down"][1] == 0.0 and bh.free_at_ms["up"][0] == 0.0


def test_loss_rate_and_fault_burst() -> None:
    bh = _link(loss_probability=0.1)
    n = 20_000
    d = bh.send(0, "up", np.zeros(n), np.full(n, 10.0))
    assert abs((~d.ok).mean() - 0.1) < 0.01
    bh.extra_loss[1] = 0.5  # scripted loss burst on RSU 1: 1 - 0.9 * 0.5 = 0.55 lost
    d = bh.send(1, "up", np.zeros(n), np.full(n, 10.0))
    assert abs((~d.ok).mean() - 0.55) < 0.015
    assert bh.stats["up"].sent == 2 * n


def test_latency_spike_adds_to_every_message() -> None:
    bh = _link()
    bh.extra_latency_ms[0] = 20.0
    d = bh.send(0, "down", np.array([0.0, 5.0]), np.array([100.0, 100.0]))
    assert np.all(d.deliver_ms - np.array([0.0, 5.0]) > 21.0)


def test_tail_drop_beyond_queue_limit() -> None:
    bh = _link(bandwidth_mbps=1.0, buffer_bytes=5000)  # 1000 B = 8 ms each
    d = bh.send(0, "up", np.zeros(10), np.full(10, 1000.0))
    # Message k finds k * 1000 B ahead: 0..5 fit the 5000 B buffer, 6..9 do not.
    assert d.ok[:6].all() and not d.ok[6:].any()
    assert bh.stats["up"].tail_dropped == 4
