"""Mode 4 SPS, one step at a time, on hand-built tiny cases (TS 36.213 §14.1.1.6, TS 36.321)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.radio.sps import P_STEP_MS, SpsParams, SpsScheduler, counter_range


def sched(seed: int = 0, **kw) -> SpsScheduler:  # type: ignore[no-untyped-def]
    params = dict(n_subchannels=4, t1_ms=1, t2_ms=100, p_keep=0.0, rsrp_threshold_dbm=-110.0)
    params.update(kw)
    s = SpsScheduler(SpsParams(**params), np.random.default_rng(seed))
    s.sync(np.arange(3))
    return s


def sci(s: SpsScheduler, slot: int, sf: int, start: int, L: int, rsrp: float) -> None:
    s.record_sci(np.array([slot]), np.array([sf]), np.array([start]), np.array([L]), np.array([rsrp]))


def picks(s: SpsScheduler, n: int = 400, at: int = 2000, L: int = 1) -> np.ndarray:
    sf, x = s.select(np.zeros(n, np.int64), np.full(n, at), np.full(n, L))
    return np.column_stack([sf, x])


def test_counter_ranges_follow_the_rri() -> None:
    assert counter_range(100) == (5, 15) and counter_range(50) == (10, 30) and counter_range(20) == (25, 75)


def test_selection_window_is_n_plus_t1_to_n_plus_t2() -> None:
    p = picks(sched(t1_ms=2, t2_ms=50))
    assert p[:, 0].min() >= 2002 and p[:, 0].max() <= 2050


def test_reserved_resource_above_threshold_is_excluded() -> None:
    s = sched()
    # Another UE's SCI at offset 37, subchannel 2, strong: that resource is reserved every 100 ms.
    sci(s, 0, 1937, 2, 1, -80.0)
    p = picks(s)
    assert not np.any((p[:, 0] % P_STEP_MS == 37) & (p[:, 1] == 2))


def test_weak_reservation_below_threshold_is_not_excluded_but_ranked() -> None:
    s = sched(rssi_ranking=False)
    sci(s, 0, 1937, 2, 1, -120.0)  # below -110 dBm: the resource stays a candidate
    p = picks(s, n=4000)
    assert np.any((p[:, 0] % P_STEP_MS == 37) & (p[:, 1] == 2))


def test_sci_older_than_the_sensing_window_is_forgotten() -> None:
    s = sched(rssi_ranking=False)
    sci(s, 0, 937, 2, 1, -80.0)  # 1063 ms before n = 2000
    p = picks(s, n=4000)
    assert np.any((p[:, 0] % P_STEP_MS == 37) & (p[:, 1] == 2))


def test_multi_subchannel_candidates_overlapping_a_reservation_are_excluded() -> None:
    s = sched()
    sci(s, 0, 1937, 1, 1, -80.0)  # subchannel 1 only
    p = picks(s, L=2)  # non-overlapping starts 0 and 2: start 0 covers subchannels 0-1
    assert set(np.unique(p[:, 1])) <= {0, 2}
    assert not np.any((p[:, 0] % P_STEP_MS == 37) & (p[:, 1] == 0))


def test_threshold_rises_3_db_until_20_percent_remain() -> None:
    s = sched(n_subchannels=1)
    # Every resource reserved at -100 dBm except offsets 0..9 at -95 dBm: at -110 nothing is left;
    # at -98 dBm (4 steps of +3 dB) 90 % remain, so the first raise that frees >= 20 % stops.
    for off in range(100):
        sci(s, 0, 1900 + off, 0, 1, -95.0 if off < 10 else -100.0)
    before = s.threshold_raises
    p = picks(s, n=200)
    raises_per_ue = (s.threshold_raises - before) / 200
    assert raises_per_ue == 4  # -110 -> -107 -> -104 -> -101 -> -98
    assert not np.any(p[:, 0] % P_STEP_MS < 10)


def test_rssi_ranking_keeps_the_quietest_20_percent() -> None:
    s = sched(n_subchannels=1)
    rssi = np.full((100, 1, 3), 1e-9)
    quiet = np.arange(100) % 5 == 0  # 20 quiet offsets out of 100
    rssi[quiet, 0, 0] = 1e-12
    s.record_rssi(np.array([0, 1, 2]), 2000, rssi, np.zeros((100, 3), bool))
    p = picks(s, n=300, at=2100)
    assert np.all((p[:, 0] % P_STEP_MS) % 5 == 0)
    assert len(np.unique(p[:, 0])) > 10  # a uniform pick among them, not always the same


def test_nr_mode_2_does_not_rank_by_rssi() -> None:
    s = sched(n_subchannels=1, rssi_ranking=False)
    rssi = np.full((100, 1, 3), 1e-9)
    rssi[np.arange(100) % 5 == 0, 0, 0] = 1e-12
    s.record_rssi(np.array([0, 1, 2]), 2000, rssi, np.zeros((100, 3), bool))
    p = picks(s, n=300, at=2100)
    assert np.any((p[:, 0] % P_STEP_MS) % 5 != 0)


def test_half_duplex_subframes_are_excluded() -> None:
    s = sched()
    s.record_own(np.array([0]), np.array([1950]))  # the UE transmitted at offset 50: not sensed
    p = picks(s)
    assert not np.any(p[:, 0] % P_STEP_MS == 50)


def test_counter_decrements_per_transmission_and_reselects_at_zero() -> None:
    s = sched(seed=3, p_keep=0.0)
    slot = np.array([1])
    sf, x = s.assign(slot, np.array([5000]), np.array([1]))
    counter = int(s.counter[1])
    assert 4 <= counter <= 14  # drawn in [5, 15], one transmission already done
    reselections = s.reselections
    for k in range(1, counter + 1):
        sf_k, x_k = s.assign(slot, np.array([5000 + 100 * k]), np.array([1]))
        assert sf_k[0] == sf[0] + 100 * k and x_k[0] == x[0]  # the same resource every RRI
    assert s.counter[1] == 0 and s.reselections == reselections
    s.assign(slot, np.array([5000 + 100 * (counter + 1)]), np.array([1]))
    assert s.reselections == reselections + 1


def test_p_keep_keeps_the_resource_when_the_counter_expires() -> None:
    """Counters last 5-15 transmissions (mean 10); with P_keep = 0.8 only 20 % of expiries reselect."""
    rates = {}
    for p_keep in (0.0, 0.8):
        s = sched(seed=4, p_keep=p_keep)
        for k in range(4000):
            s.assign(np.array([2]), np.array([100 * k]), np.array([1]))
        rates[p_keep] = s.reselections / 4000
    assert rates[0.0] == pytest.approx(1 / 10, rel=0.15)
    assert rates[0.8] == pytest.approx(0.2 / 10, rel=0.35)


def test_latency_budget_triggers_reselection() -> None:
    s = sched(seed=5, t2_ms=20, latency_budget_ms=20)
    slot = np.array([0])
    sf, _ = s.assign(slot, np.array([1000]), np.array([1]))
    before = s.reselections
    # A packet generated 30 ms later would wait ~70 ms for the reservation: over a 20 ms budget.
    s.assign(slot, np.array([1030]), np.array([1]))
    assert s.reselections == before + 1


def test_bigger_packet_triggers_reselection() -> None:
    s = sched(seed=6)
    slot = np.array([0])
    s.assign(slot, np.array([1000]), np.array([1]))
    before = s.reselections
    s.assign(slot, np.array([1100]), np.array([2]))
    assert s.reselections == before + 1 and s.res_len[0] == 2


def test_slots_are_reused_and_reset_when_vehicles_leave() -> None:
    s = SpsScheduler(SpsParams(n_subchannels=4), np.random.default_rng(0), capacity=2)
    a = s.sync(np.array([10, 11]))
    s.record_own(a[:1], np.array([1234]))
    b = s.sync(np.array([11, 12, 13]))  # 10 left: its slot goes to a newcomer, reset; capacity grows
    assert b[0] == a[1] and s.capacity >= 3
    reused = b[1] if b[1] == a[0] else b[2]
    assert np.all(s.own_tx_ms[reused] < 0)


def test_sci_older_than_one_reservation_period_no_longer_excludes() -> None:
    """Step 6: an SCI reserves its sender's next period only; if the next SCI was not heard (the
    sender reselected), the resource is free again. The legacy 'window' memory keeps it out."""
    hit = lambda p: np.any((p[:, 0] % P_STEP_MS == 37) & (p[:, 1] == 2))  # noqa: E731
    s = sched(rssi_ranking=False)
    sci(s, 0, 1837, 2, 1, -80.0)  # 163 ms before n = 2000; nothing heard there at 1937
    assert hit(picks(s, n=4000))
    s = sched(rssi_ranking=False, sci_memory="window")
    sci(s, 0, 1837, 2, 1, -80.0)
    assert not hit(picks(s, n=4000))


def test_reservation_period_counts_back_from_the_last_observed_subframe() -> None:
    """Batches: memory complete up to 1980 when selecting at 2000, so an SCI at 1890 is the
    latest one heard of a live reservation (its 1990 repetition is not observed yet)."""
    hit = lambda p: np.any((p[:, 0] % P_STEP_MS == 90) & (p[:, 1] == 2))  # noqa: E731
    s = sched(rssi_ranking=False)
    sci(s, 0, 1890, 2, 1, -80.0)
    assert hit(picks(s, n=4000))  # complete memory: 110 ms old, the sender has moved
    s.sensed_until_ms = 1980
    assert not hit(picks(s, n=4000))


def test_rri_50_reservations_exclude_both_halves_of_the_100_ms_grid() -> None:
    s = sched(rssi_ranking=False, rri_ms=50, t2_ms=50, latency_budget_ms=50)
    sci(s, 0, 1960, 1, 1, -80.0)  # reserved at 2010, 2060, ...: offsets 10 and 60
    p = picks(s, n=4000)
    assert not np.any((p[:, 0] % 50 == 10) & (p[:, 1] == 1))
    assert p[:, 0].max() <= 2050


def test_nr_per_priority_x_sets_how_many_candidates_must_remain() -> None:
    """NR Mode 2, sl-TxPercentageList: 70 of 100 resources are reserved at -80 dBm. A priority
    with X = 20 % finds 30 % free at the initial threshold and never picks a reserved one; a
    priority with X = 50 % must raise the threshold past -80 dBm (10 steps of 3 dB), after which
    reserved resources are candidates again."""
    by_prio = (0.2, 0.2, 0.35, 0.35, 0.5, 0.5, 0.5, 0.5)
    s = sched(n_subchannels=1, rssi_ranking=False, candidate_fraction_by_priority=by_prio)
    reserved = np.arange(100) % 10 < 7
    for off in np.flatnonzero(reserved):
        sci(s, 0, 1900 + int(off), 0, 1, -80.0)
    n = 400
    ue, at, L = np.zeros(n, np.int64), np.full(n, 2000), np.ones(n, np.int64)
    raises = s.threshold_raises
    sf_hi, _ = s.select(ue, at, L, np.full(n, 1))  # priority 1: X = 20 %
    assert s.threshold_raises == raises
    assert not reserved[sf_hi % P_STEP_MS].any()
    sf_lo, _ = s.select(ue, at, L, np.full(n, 8))  # priority 8: X = 50 %
    assert s.threshold_raises - raises == n * 10  # -110 -> -80 dBm
    assert reserved[sf_lo % P_STEP_MS].mean() == pytest.approx(0.7, abs=0.1)
    # Mixed priorities in one call get their own X.
    mixed = np.where(np.arange(n) % 2 == 0, 2, 7)
    sf_mix, _ = s.select(ue, at, L, mixed)
    assert not reserved[sf_mix[mixed == 2] % P_STEP_MS].any()
    assert reserved[sf_mix[mixed == 7] % P_STEP_MS].any()
    with pytest.raises(ValueError, match="priority"):
        s.select(ue[:1], at[:1], L[:1], np.array([9]))


def test_packets_carry_the_priority_of_their_message_type(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from sim.radio.messages import MsgType
    from sim.scenario.build import build_world
    from sim.scenario.loader import load_scenario

    world = build_world(load_scenario("auto-city-loop", [
        "radio.scheduler.kind=sps-nr", "radio.scheduler.priorities.bsm=7",
        "radio.scheduler.priorities.spat=1"]))
    assert world.medium.priority_by_type[MsgType.BSM] == 7
    assert world.medium.priority_by_type[MsgType.SPAT] == 1
    seen: list[np.ndarray] = []
    original = world.medium.scheduler.assign

    def spy(slots, gen_ms, n_subch, priority=None):  # type: ignore[no-untyped-def]
        seen.append(np.asarray(priority))
        return original(slots, gen_ms, n_subch, priority)

    monkeypatch.setattr(world.medium.scheduler, "assign", spy)
    world.medium.submit_downlink(0, int(MsgType.SPAT), 0, 280, 0, 0, 1)
    world.medium.downlink = True
    from vehicles.table import VehicleTable

    t = VehicleTable()
    t.append(3, equipped=True, x_m=np.array([0.0, 50.0, 100.0]), y_m=np.zeros(3),
             heading_rad=np.zeros(3), v_mps=np.full(3, 10.0), bsm_phase_ms=np.array([1, 5, 9]),
             spawn_ms=-10_000)
    from vehicles.obu import ObuFleet
    world.medium.attach(ObuFleet(lambda: t, 4.0), world.rsus)
    world.medium.batch(0, 20, state_ms=0)
    prios = np.concatenate(seen)
    assert set(prios.tolist()) == {7, 1}
