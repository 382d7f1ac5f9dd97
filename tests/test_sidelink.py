"""The vectorized sidelink step against the plain per-link reference on random small worlds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.radio.channel import ChannelModel
from sim.radio.sidelink import (
    REASON_COLLISION,
    REASON_HALF_DUPLEX,
    REASON_OK,
    Nodes,
    Transmissions,
    evaluate_batch,
)
from tests.helpers.radio import compare, config, random_world


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n_nodes=st.integers(2, 14),
    n_tx=st.integers(1, 24),
    n_sf=st.integers(1, 6),
    pathloss=st.sampled_from(["tr37885-highway", "tr37885-urban", "winner-b1", "winner-b1-gm2019"]),
    mode=st.sampled_from(["threshold", "bler"]),
    sensitivity=st.sampled_from([None, -95.0]),
    wrap=st.sampled_from([None, 1700.0]),
)
def test_vectorized_step_matches_scalar_reference(seed, n_nodes, n_tx, n_sf, pathloss, mode,
                                                  sensitivity, wrap) -> None:  # type: ignore[no-untyped-def]
    nodes, tx = random_world(seed, n_nodes, n_tx, n_sf, 5)
    compare(nodes, tx, n_sf, config(pathloss, mode, 5, sensitivity, wrap_m=wrap))


def test_dense_world_exercises_every_loss_reason() -> None:
    nodes, tx = random_world(42, 30, 120, 4, 3)
    n = compare(nodes, tx, 4, config(n_sc=3))
    reasons = evaluate_batch(nodes, tx, 1000, 4, config(n_sc=3)).links.reason
    assert n > 100
    assert {REASON_OK, REASON_HALF_DUPLEX, REASON_COLLISION} <= set(reasons.tolist())


def two_cars(distance_m: float) -> Nodes:
    return Nodes(
        key=np.array([1, 2, 3], dtype=np.uint64),
        xy_m=np.array([[0.0, 0.0], [distance_m, 0.0], [distance_m / 2, 3.0]]),
        vel_mps=np.zeros((3, 2)), height_m=np.full(3, 1.5), tx_power_dbm=np.full(3, 23.0),
        gain_dbi=np.full(3, 3.0), noise_figure_db=np.full(3, 9.0), is_vehicle=np.ones(3, bool),
    )


def tx_of(nodes_sf_sc: list[tuple[int, int, int]]) -> Transmissions:
    a = np.array(nodes_sf_sc)
    return Transmissions(node=a[:, 0], subframe_ms=a[:, 1], subch_start=a[:, 2],
                         n_subch=np.full(len(a), 2), packet_id=np.arange(len(a), dtype=np.uint64),
                         gen_ms=a[:, 1] - 10.0)


def test_half_duplex_blocks_reception() -> None:
    nodes = two_cars(50.0)
    res = evaluate_batch(nodes, tx_of([(0, 5, 0), (1, 5, 2)]), 0, 10, config())
    reasons = {(int(t), int(r)): int(c) for t, r, c in zip(res.links.tx, res.links.rx, res.links.reason)}
    assert reasons[(0, 1)] == REASON_HALF_DUPLEX and reasons[(1, 0)] == REASON_HALF_DUPLEX
    assert reasons[(0, 2)] == REASON_OK  # the idle node hears both (different subchannels)


def test_same_resource_collides_and_different_subframes_do_not() -> None:
    nodes = two_cars(400.0)
    # Nodes 0 and 1 use the same subchannels in the same subframe: node 2 in the middle hears
    # two equal powers (no shadowing: SINR ~ 0 dB < 3 dB) and decodes neither.
    cfg = config("winner-b1", shadowing_db=0.0)
    res = evaluate_batch(nodes, tx_of([(0, 5, 0), (1, 5, 0)]), 0, 10, cfg)
    at2 = res.links.reason[res.links.rx == 2]
    assert len(at2) == 2 and np.all(at2 == REASON_COLLISION)
    sinr = res.links.sinr_db[res.links.rx == 2]
    assert np.all((sinr < 0.0) & (sinr > -0.2))  # P / (P + noise), noise 13 dB below P
    res = evaluate_batch(nodes, tx_of([(0, 5, 0), (1, 6, 0)]), 0, 10, cfg)
    assert np.all(res.links.reason[res.links.rx == 2] == REASON_OK)


def test_channel_is_reciprocal() -> None:
    ch = ChannelModel("tr37885-highway", 5.9, None, 1000, 1.6, key=99)
    d = np.array([150.0, 420.0])
    h = np.array([1.5, 1.5])
    a, b = np.array([3, 8], dtype=np.uint64), np.array([17, 2], dtype=np.uint64)
    sf = np.array([1234, 1234])
    assert np.array_equal(ch.link_loss_db(d, h, h, a, b, sf)[0], ch.link_loss_db(d, h, h, b, a, sf)[0])


def test_shadowing_statistics() -> None:
    """LOS-only B1 with 3 dB shadowing: loss - path loss is N(0, 3 dB) across links."""
    ch = ChannelModel("winner-b1", 5.9, 3.0, 1000, 1.6, key=5)
    n = 20000
    d = np.full(n, 100.0)
    loss, _ = ch.link_loss_db(d, np.full(n, 1.5), np.full(n, 1.5), np.arange(n, dtype=np.uint64),
                              np.full(n, 10**6, dtype=np.uint64), np.zeros(n, dtype=np.int64))
    from sim.radio.pathloss import winner_b1_los_db
    shadow = loss - winner_b1_los_db(d, 5.9)
    assert abs(shadow.mean()) < 0.1 and shadow.std() == pytest.approx(3.0, rel=0.03)


def test_cbr_counts_busy_cells() -> None:
    nodes = two_cars(50.0)
    # One 2-subchannel transmission in 1 of 10 subframes, 5 subchannels: node 2 sees 2 of 50 busy.
    res = evaluate_batch(nodes, tx_of([(0, 3, 0)]), 0, 10, config())
    assert res.cbr[2] == pytest.approx(2 / 50)
