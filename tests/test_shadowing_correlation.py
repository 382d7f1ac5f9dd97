"""Gudmundson spatially correlated, reciprocal shadowing (sim/radio/channel.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sim.radio.channel import ChannelModel, gudmundson_normal
from sim.radio.kernel import HAVE_NUMBA
from sim.radio.pathloss import winner_b1_los_db
from sim.radio.reference import reference_gudmundson_normal
from sim.radio.sidelink import Nodes, Transmissions, evaluate_batch, use_numba
from sim.runner import run_scenario
from sim.scenario.loader import load_scenario
from tests.helpers.radio import compare, config, random_world
from tests.helpers.scenarios import tiny_scenario

N_PAIRS = 20_000


def _shadow_db(ch: ChannelModel, a: np.ndarray, b: np.ndarray, travel_m: np.ndarray) -> np.ndarray:
    """Shadowing alone: LOS-only WINNER+ B1 loss minus its path loss."""
    n = len(a)
    d = np.full(n, 100.0)
    h = np.full(n, 1.5)
    loss, _ = ch.link_loss_db(d, h, h, a, b, np.zeros(n, np.int64), travel_m)
    return loss - winner_b1_los_db(d, 5.9, 0.5, 0.5)


def _channel(dcorr_m: float = 25.0, sigma_db: float = 3.0, key: int = 5) -> ChannelModel:
    return ChannelModel("winner-b1", 5.9, sigma_db, 1000, 1.6, key=key,
                        shadowing_correlation="gudmundson", decorrelation_m=dcorr_m)


@pytest.mark.parametrize("dcorr_m", [10.0, 25.0])
def test_autocorrelation_at_the_decorrelation_distance_is_one_over_e(dcorr_m: float) -> None:
    """20,000 independent pairs, each seen at u0 and u0 + lag. The sample correlation of n pairs
    has standard error (1 - r^2) / sqrt(n): 0.0061 at r = e^-1, 0.0069 at e^-2, 0.0045 at
    e^-0.5; the tolerances are 4 standard errors. At lag D_corr the model is e^-1 exactly (up to
    the e^-10 truncation); at D_corr / 2 = 2.5 cells it is the mean of rho^2 and rho^3 (0.6096
    against e^-0.5 = 0.6065, the piecewise-constant grid), inside the tolerance."""
    ch = _channel(dcorr_m)
    rng = np.random.default_rng(0)
    a = np.arange(N_PAIRS, dtype=np.uint64)
    b = a + np.uint64(N_PAIRS)
    u0 = rng.uniform(0.0, 5000.0, N_PAIRS)
    s0 = _shadow_db(ch, a, b, u0)
    assert abs(s0.mean()) < 4 * 3.0 / np.sqrt(N_PAIRS)
    assert s0.std() == pytest.approx(3.0, rel=0.03)
    for lag, expected, tol in ((1.0, np.exp(-1.0), 0.025), (2.0, np.exp(-2.0), 0.028),
                               (0.5, np.exp(-0.5), 0.018)):
        s1 = _shadow_db(ch, a, b, u0 + lag * dcorr_m)
        r = np.corrcoef(s0, s1)[0, 1]
        assert r == pytest.approx(expected, abs=tol), (lag, r)
    # Far apart, and different pairs at the same place: uncorrelated.
    far = np.corrcoef(s0, _shadow_db(ch, a, b, u0 + 10 * dcorr_m))[0, 1]
    other = np.corrcoef(s0, _shadow_db(ch, a, b + np.uint64(1), u0))[0, 1]
    assert abs(far) < 0.03 and abs(other) < 0.03


def test_shadowing_is_reciprocal_and_still_without_movement() -> None:
    ch = _channel()
    a = np.array([3, 8, 1 << 40], dtype=np.uint64)
    b = np.array([17, 2, 5], dtype=np.uint64)
    u = np.array([0.0, 123.4, 987.6])
    assert np.array_equal(_shadow_db(ch, a, b, u), _shadow_db(ch, b, a, u))
    # Same travel coordinate at another time (another coherence epoch): the same shadowing.
    n = len(a)
    d, h = np.full(n, 100.0), np.full(n, 1.5)
    at0, _ = ch.link_loss_db(d, h, h, a, b, np.zeros(n, np.int64), u)
    at9s, _ = ch.link_loss_db(d, h, h, a, b, np.full(n, 9000, np.int64), u)
    assert np.array_equal(at0, at9s)
    # In a batch: A -> B and B -> A in the same subframe see the same received power.
    nodes = Nodes(
        key=np.array([10, 20], dtype=np.uint64), xy_m=np.array([[0.0, 0.0], [180.0, 4.0]]),
        vel_mps=np.array([[30.0, 0.0], [-25.0, 0.0]]), height_m=np.full(2, 1.5),
        tx_power_dbm=np.full(2, 23.0), gain_dbi=np.full(2, 3.0), noise_figure_db=np.full(2, 9.0),
        is_vehicle=np.ones(2, bool), odometer_m=np.array([1234.5, 77.0]),
    )
    tx = Transmissions(node=np.array([0, 1]), subframe_ms=np.array([7, 7]),
                       subch_start=np.array([0, 2]), n_subch=np.array([2, 2]),
                       packet_id=np.array([1, 2], dtype=np.uint64), gen_ms=np.array([0.0, 0.0]))
    cfg = replace(config("winner-b1"), channel=_channel())
    links = evaluate_batch(nodes, tx, 0, 10, cfg).links
    assert len(links.tx) == 2
    assert links.rx_power_dbm[0] == links.rx_power_dbm[1]


def test_vectorized_matches_the_written_out_recursion() -> None:
    rng = np.random.default_rng(3)
    n = 300
    a = rng.integers(0, 1 << 41, n).astype(np.uint64)
    b = rng.integers(0, 1 << 41, n).astype(np.uint64)
    u = rng.uniform(-40.0, 4000.0, n)
    for dcorr in (10.0, 13.0, 25.0):
        fast = gudmundson_normal(77, a, b, u, dcorr)
        slow = [reference_gudmundson_normal(77, int(a[i]), int(b[i]), float(u[i]), dcorr)
                for i in range(n)]
        assert fast == pytest.approx(np.array(slow), abs=1e-12)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("pathloss", ["tr37885-highway", "tr37885-urban", "winner-b1"])
def test_batch_with_gudmundson_matches_scalar_reference(seed: int, pathloss: str) -> None:
    nodes, tx = random_world(seed, 10, 18, 5, 5)
    odo = np.random.default_rng(seed).uniform(0.0, 3000.0, len(nodes))
    nodes = replace(nodes, odometer_m=np.where(nodes.is_vehicle, odo, 0.0))
    cfg = config(pathloss)
    cfg = replace(cfg, channel=replace(cfg.channel, shadowing_correlation="gudmundson",
                                       decorrelation_m=13.0 if seed % 2 else None))
    for kernel in ("numpy", "numba"):  # both paths against the oracle
        assert compare(nodes, tx, 5, replace(cfg, kernel=kernel)) > 0


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
@pytest.mark.parametrize("seed", range(6))
def test_numba_kernel_gudmundson_matches_numpy_path(seed: int) -> None:
    nodes, tx = random_world(seed, 40, 60, 10, 5)
    odo = np.random.default_rng(seed).uniform(0.0, 3000.0, len(nodes))
    nodes = replace(nodes, odometer_m=np.where(nodes.is_vehicle, odo, 0.0))
    cfg = config("tr37885-highway", wrap_m=1700.0 if seed % 2 else None)
    cfg = replace(cfg, channel=replace(cfg.channel, shadowing_correlation="gudmundson"))
    assert use_numba(replace(cfg, kernel="numba"))
    fast = evaluate_batch(nodes, tx, 1000, 10, replace(cfg, kernel="numba")).links
    slow = evaluate_batch(nodes, tx, 1000, 10, replace(cfg, kernel="numpy")).links
    of, os_ = np.lexsort((fast.rx, fast.tx)), np.lexsort((slow.rx, slow.tx))
    assert np.array_equal(fast.tx[of], slow.tx[os_]) and np.array_equal(fast.rx[of], slow.rx[os_])
    assert np.allclose(fast.rx_power_dbm[of], slow.rx_power_dbm[os_], rtol=0.0, atol=1e-9)
    assert np.array_equal(fast.reason[of], slow.reason[os_])


def test_scenario_key_turns_it_on_and_default_is_off(tmp_path: Path) -> None:
    off = load_scenario(str(tiny_scenario(tmp_path)))
    assert off.spec.radio.shadowing_correlation == "none"
    assert off.spec.radio.shadowing_decorrelation_m is None
    (tmp_path / "on").mkdir()
    path = tiny_scenario(tmp_path / "on", duration_s=2,
                         radio={"shadowing_correlation": "gudmundson",
                                "shadowing_decorrelation_m": 20.0})
    out = run_scenario(load_scenario(str(path)), tmp_path / "run")
    ch = out.world.medium.cfg.channel
    assert ch.correlated and ch.dcorr_m == 20.0
    assert out.summary["messages"]["bsm_receptions"] > 0
    again = run_scenario(load_scenario(str(path)), tmp_path / "run2")
    summary = "summary.json"
    assert (out.out_dir / summary).read_bytes() == (again.out_dir / summary).read_bytes()


def test_hash_normal_is_the_as241_quantile_of_the_hashed_uniform() -> None:
    """Keyed normals: AS 241 of one hashed uniform, equal to CPython's `NormalDist.inv_cdf` (the
    same algorithm), standard normal over many keys, and the same in the numba kernel."""
    import statistics

    from sim.core.normal_quantile import ppnd16
    from sim.core.rng import hash_keys, hash_normal
    from sim.radio import kernel

    nd = statistics.NormalDist()
    p = np.concatenate([np.linspace(1e-9, 1 - 1e-9, 2001), [2.0**-54, 1e-300, 0.075, 0.925]])
    # Same algorithm; numpy's SIMD log may differ from libm's in the last bit in the tails.
    np.testing.assert_allclose(ppnd16(p), [nd.inv_cdf(float(x)) for x in p], rtol=1e-14,
                               atol=1e-15)
    assert np.isfinite(hash_normal(np.uint64(0), np.arange(1000, dtype=np.uint64))).all()
    assert np.isfinite(ppnd16(np.nextafter(1.0, 0.0))) and kernel._normal(
        np.uint64(2**64 - 1)) == pytest.approx(float(ppnd16(np.nextafter(1.0, 0.0))))
    keys = np.arange(200_000, dtype=np.uint64)
    z = hash_normal(np.uint64(5), keys)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1.0) < 0.01
    assert abs(np.mean(z > 1.959964) - 0.025) < 0.002  # the tail is there too
    h = hash_keys(np.uint64(5), keys[:500])
    fast = np.array([kernel._normal(x) for x in h])
    assert np.allclose(fast, z[:500], rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("pathloss", ["tr37885-highway", "tr37885-urban", "winner-b1",
                                      "winner-b1-gm2019"])
@pytest.mark.parametrize("distance_m", [120.0, 600.0, 1400.0])
def test_mean_link_loss_is_the_mean_linear_gain_of_the_drawn_channel(pathloss: str,
                                                                     distance_m: float) -> None:
    """Far links (`radio.link_range_m`) add the closed-form mean of what the per-link draws
    average to: LOS/NLOSv mix, E[10^(-A/10)] of the clipped normal blockage, e^((a sigma)^2/2) of
    the shadowing; checked against 400,000 keyed draws and the numba kernel's scalar form."""
    from sim.core.rng import hash_keys, hash_normal, hash_uniform
    from sim.radio.channel import ChannelModel, far_link_loss_db, far_loss_table

    ch = ChannelModel(pathloss, 5.9, None, 1000, 1.6, key=7)
    n = 400_000
    d, h = np.full(n, distance_m), np.full(n, 1.5)
    keys = np.arange(n, dtype=np.uint64)
    loss, _ = ch.link_loss_db(d, h, h, keys, keys + np.uint64(n), np.zeros(n, np.int64))
    drawn = -10.0 * np.log10(np.mean(10.0 ** (-loss / 10.0)))
    mean = float(ch.mean_link_loss_db(d[:1], h[:1], h[:1])[0])
    assert mean == pytest.approx(drawn, abs=0.03)
    # Far links: the LOS state as drawn, then one log-normal with that state's mean and variance
    # of linear gain, so both moments of the mixture match too.
    table = far_loss_table(ch, (1.5, 5.0), 1500.0)
    zeros = np.zeros(n, np.int64)
    far = far_link_loss_db(ch, table, zeros, zeros, d + 0.1, keys, keys + np.uint64(n),
                           np.zeros(n, np.int64))
    g = 10.0 ** (-far / 10.0)
    for k in (1.0, 2.0):
        closed = float(ch.link_gain_moment(d[:1] + 0.1, h[:1], h[:1], k)[0])
        drawn_k = np.mean(10.0 ** (-k * loss / 10.0))
        assert closed == pytest.approx(drawn_k, rel=0.05 * k)
        assert np.mean(g**k) == pytest.approx(closed, rel=0.05 * k)
    # The RSU class (5 m) reads its own row of the table, the LOS state from the link's draw.
    rsu = far_link_loss_db(ch, table, np.array([1]), np.array([0]), np.array([distance_m]),
                           keys[:1], keys[:1] + np.uint64(n), np.zeros(1, np.int64))
    col = ch.far_link_model_db(d[:1], np.array([5.0]), h[:1])[0]
    link = hash_keys(np.uint64(ch.key), keys[:1], keys[:1] + np.uint64(n), np.zeros(1, np.uint64))
    los = hash_uniform(link, np.uint64(0x4C4F53))[0] < col[0]
    z = hash_normal(link, np.uint64(0x464152))[0]
    expected = col[1] + col[2] * z if los else col[3] + col[4] * z
    assert rsu[0] == pytest.approx(expected, abs=1e-3)
