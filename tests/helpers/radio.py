"""Random small sidelink worlds and the check of the vectorized step against the per-link reference."""

from __future__ import annotations

import numpy as np
import pytest

from sim.radio.channel import ChannelModel
from sim.radio.reference import reference_cbr, reference_links
from sim.radio.sidelink import Nodes, SidelinkConfig, Transmissions, evaluate_batch


def config(pathloss: str = "tr37885-highway", mode: str = "threshold", n_sc: int = 5,
           sensitivity: float | None = None, rng_key: int = 7,
           shadowing_db: float | None = None, wrap_m: float | None = None) -> SidelinkConfig:
    return SidelinkConfig(
        n_subchannels=n_sc, subchannel_size_prb=10, interference_range_m=800.0,
        decoding_mode=mode, gamma_min_db=3.0, bler_curve="gm2019-coding1",
        sensitivity_dbm=sensitivity, cbr_threshold_dbm=-94.0,
        channel=ChannelModel(pathloss, 5.9, shadowing_db, 1000, 1.6, key=rng_key), decode_key=11,
        wrap_m=wrap_m,
    )


def random_world(seed: int, n_nodes: int, n_tx: int, n_sf: int, n_sc: int) -> tuple[Nodes, Transmissions]:
    rng = np.random.default_rng(seed)
    n_rsu = max(1, n_nodes // 6)
    is_vehicle = np.arange(n_nodes) >= n_rsu
    nodes = Nodes(
        key=np.concatenate([(1 << 40) + np.arange(n_rsu), np.arange(n_nodes - n_rsu)]).astype(np.uint64),
        xy_m=rng.uniform(0, 1500, (n_nodes, 2)),
        vel_mps=np.where(is_vehicle[:, None], rng.uniform(-35, 35, (n_nodes, 2)), 0.0),
        height_m=np.where(is_vehicle, 1.5, 5.0),
        tx_power_dbm=np.where(is_vehicle, 23.0, 26.0),
        gain_dbi=np.where(is_vehicle, 3.0, 8.0),
        noise_figure_db=np.where(is_vehicle, 9.0, 5.0),
        is_vehicle=is_vehicle,
    )
    n_sub = rng.integers(1, min(3, n_sc) + 1, n_tx)
    order = np.argsort(rng.integers(0, n_sf, n_tx), kind="stable")
    sf = np.sort(rng.integers(0, n_sf, n_tx)) + 1000
    tx = Transmissions(
        node=rng.integers(0, n_nodes, n_tx)[order],
        subframe_ms=sf,
        subch_start=np.array([rng.integers(0, n_sc - k + 1) for k in n_sub]),
        n_subch=n_sub,
        packet_id=np.arange(n_tx, dtype=np.uint64) + 500,
        gen_ms=sf - rng.integers(1, 100, n_tx).astype(float),
    )
    return nodes, tx


def compare(nodes: Nodes, tx: Transmissions, n_sf: int, cfg: SidelinkConfig) -> int:
    fast = evaluate_batch(nodes, tx, 1000, n_sf, cfg)
    ref = reference_links(nodes, tx, 1000, n_sf, cfg)
    links = fast.links
    got = {(int(t), int(r)): i for i, (t, r) in enumerate(zip(links.tx, links.rx))}
    assert set(got) == set(ref)
    for key, (d, rx_dbm, sinr_db, reason, sci_ok) in ref.items():
        i = got[key]
        assert bool(links.sci_ok[i]) == sci_ok
        assert links.distance_m[i] == pytest.approx(d, abs=1e-9)
        assert links.rx_power_dbm[i] == pytest.approx(rx_dbm, abs=1e-9)
        assert links.sinr_db[i] == pytest.approx(sinr_db, abs=1e-6)
        assert links.reason[i] == reason
    assert np.allclose(fast.cbr, reference_cbr(nodes, tx, 1000, n_sf, cfg))
    return len(ref)
