"""RSU downlink over PC5: SPAT/MAP from RSUs serving signals, segmentation, RadioBatch columns."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from roadside.network import roadside_of
from sim.core.engine import Engine
from sim.core.world import World
from sim.radio.medium import PATH_RSU, RadioBatch
from sim.radio.messages import MsgType
from sim.scenario.build import build_world
from sim.scenario.loader import load_scenario


class _Collect:
    def __init__(self) -> None:
        self.batches: list[RadioBatch] = []

    def on_start(self, world: World) -> None: ...
    def on_radio_batch(self, world: World, batch: RadioBatch) -> None:
        self.batches.append(batch)
    def on_step(self, world: World, now_ms: int) -> None: ...
    def on_end(self, world: World, now_ms: int, interrupted: bool) -> None: ...


@pytest.fixture(scope="module")
def city() -> tuple[World, list[RadioBatch]]:
    loaded = load_scenario("auto-city-loop", ["output.trace.states=false"], duration_s=3.0)
    world = build_world(loaded)
    col = _Collect()
    Engine(world, [col]).run()
    return world, col.batches


def _cat(batches: list[RadioBatch], name: str) -> np.ndarray:
    return np.concatenate([getattr(b, name) for b in batches])


def test_rsus_serving_signals_send_spat_at_10_hz_and_map_at_1_hz(city: Any) -> None:
    world, batches = city
    serving = np.flatnonzero(world.rsus.signal_idx >= 0)
    assert len(serving) > 0 and roadside_of(world) is not None
    mt, rsu = _cat(batches, "tx_msg_type"), _cat(batches, "tx_rsu")
    vid = _cat(batches, "tx_vehicle_id")
    spat = (mt == MsgType.SPAT) & (rsu >= 0)
    assert (vid[rsu >= 0] == -1).all() and (rsu[vid >= 0] == -1).all()
    # 3 s at 10 Hz (the first and last 100 ms may straddle the run edges).
    per_rsu = np.bincount(rsu[spat], minlength=len(world.rsus))[serving]
    assert per_rsu.min() >= 28 and per_rsu.max() <= 30
    # MAP: 1000 B does not fit 5 subchannels at MCS 7, so each MAP is 2 segments of 500 B.
    assert world.medium.segments(1000) == (2, 4)
    m = (mt == MsgType.MAP) & (rsu >= 0)
    assert np.bincount(rsu[m], minlength=len(world.rsus))[serving].min() >= 4
    assert (_cat(batches, "tx_size_bytes")[m] == 500).all()
    ref = _cat(batches, "tx_ref")
    np.testing.assert_array_equal(ref[spat], world.rsus.signal_idx[rsu[spat]])
    assert (_cat(batches, "tx_path")[spat] == PATH_RSU).all()


def test_vehicles_receive_spat_from_the_rsus(city: Any) -> None:
    _, batches = city
    heard = 0
    for b in batches:
        links = b.result.links
        from_rsu = b.tx_rsu[links.tx] >= 0
        heard += int((links.success & from_rsu & (b.node_vehicle_id[links.rx] >= 0)
                      & (b.tx_msg_type[links.tx] == MsgType.SPAT)).sum())
    assert heard > 1000


def test_sibling_streams_of_an_rsu_avoid_each_others_subframes(city: Any) -> None:
    _, batches = city
    rsu, sf = _cat(batches, "tx_rsu"), np.concatenate([b.tx.subframe_ms for b in batches])
    key = rsu[rsu >= 0] * 10**7 + sf[rsu >= 0]
    _, counts = np.unique(key, return_counts=True)
    # Half-duplex sensing keeps an RSU's streams in different subframes (almost always).
    assert (counts > 1).sum() <= 0.02 * len(counts)


def test_scenarios_without_roadside_traffic_keep_rsus_listening_only() -> None:
    world = build_world(load_scenario("airport-expressway", [], duration_s=1.0))
    assert roadside_of(world) is None and not world.medium.downlink


def test_periodic_times_follow_each_phase() -> None:
    from roadside.downlink import periodic_times
    i, t = periodic_times(np.array([5, 50]), 100, 0, 250)
    assert list(zip(i.tolist(), t.tolist())) == [(0, 5), (1, 50), (0, 105), (1, 150), (0, 205)]


def test_rsi_alert_is_sent_at_once_repeated_while_valid_and_refreshed() -> None:
    from roadside.downlink import RsiTable
    rsi = RsiTable()
    ev = rsi.add_event("collision-risk", (0.0, 0.0), 300.0)
    rsi.add_rows(ev, np.array([3]), start_ms=1010, until_ms=1300, period_ms=100, origin_ms=950,
                 path=2, key=7)
    _, _, gen, origin, path, hold = rsi.due(1020, repeat_path=4)
    assert gen.tolist() == [1010] and origin.tolist() == [950] and path.tolist() == [2]
    assert hold.tolist() == [0]
    _, _, gen, origin, path, hold = rsi.due(1120, repeat_path=4)
    assert gen.tolist() == [1110] and path.tolist() == [4]  # nothing new: a repetition
    assert rsi.confirm(7, 3, at_ms=1150, valid_ms=300, origin_ms=1100)
    _, _, gen, origin, path, hold = rsi.due(1220, repeat_path=4)
    # newer information is sent at once, not at the old repeat time (1210)
    assert gen.tolist() == [1150] and origin.tolist() == [1100] and path.tolist() == [2]
    assert hold.tolist() == [0]
    assert not rsi.confirm(8, 3, 1200, 300, 1100)  # unknown key: the caller adds a row
    e, *_ = rsi.due(1500, repeat_path=4)
    assert len(e) == 3  # 1250, 1350, 1450 (valid until 1450)
    assert len(rsi.due(2000, repeat_path=4)[0]) == 0


def test_uu_path_reports_its_hops(tmp_path: Any) -> None:
    from sim.runner import run_scenario
    loaded = load_scenario("airport-expressway-edge-failover",
                           ["output.trace.states=false", "edge.uu.enabled=true",
                            "edge.uu.technology=lte"], duration_s=3.5)
    s = run_scenario(loaded, tmp_path / "run").summary
    hops = s["messages"]["latency"]["hops"]["uu_edge"]
    assert 10.0 <= hops["uu_up"]["p50_ms"] <= 20.0  # LTE Uu one way: 10-20 ms (§5.3)
    assert 0 < hops["uu_up"]["samples"] <= s["edge"]["uu"]["bsms"]  # after the warm-up only
    e2e = s["messages"]["latency"]["e2e"]["uu_edge"]
    assert e2e["samples"] > 0 and e2e["p50_ms"] >= 20.0  # at least up + down


@pytest.mark.slow
def test_same_seed_gives_byte_identical_roadside_outputs(tmp_path: Any) -> None:
    from sim.runner import run_scenario
    outs = []
    for k in range(2):
        loaded = load_scenario("airport-expressway-edge-failover", ["output.trace.states=false"],
                               duration_s=3.0)
        run_scenario(loaded, tmp_path / f"r{k}")
        outs.append([(tmp_path / f"r{k}" / f).read_bytes() for f in
                     ("summary.json", "latency_per_hop.csv", "edge_nodes.csv", "trace.msgpack")])
    assert outs[0] == outs[1]


def test_roadside_sensors_list_pedestrians_when_the_world_has_them(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from roadside.network import _pedestrian_xy
    from vehicles.mobility import Mobility
    from vehicles.pedestrians import PedestrianTable
    world = build_world(load_scenario("airport-expressway-edge-failover", [], duration_s=1.0))
    assert _pedestrian_xy(world).shape == (0, 2)
    rsu_xy = world.rsus.xy_m[4]
    peds = PedestrianTable()
    peds.append(1, x_m=np.array([rsu_xy[0] + 5.0]), y_m=np.array([rsu_xy[1]]))
    monkeypatch.setattr(Mobility, "pedestrians", property(lambda self: peds))
    np.testing.assert_allclose(_pedestrian_xy(world), [[rsu_xy[0] + 5.0, rsu_xy[1]]])
    rs = roadside_of(world)
    assert rs is not None
    import simpy
    rs.start(simpy.Environment(), world)  # the edges exist once the engine starts
    frames = rs._perceive(world, np.ones(len(world.rsus), bool), 0, 100)
    k = np.flatnonzero(frames.rsu == 4)
    assert len(k) == 1 and frames.participants[k[0]] >= 1
