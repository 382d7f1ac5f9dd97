"""The batched PC5 sidelink step: every transmission of a batch of subframes, at every receiver.

One call evaluates all links of a batch (typically 100 subframes) as flat arrays of
(transmission, receiver) pairs:
  geometry at the exact subframe -> channel loss -> received power -> per-subframe, per-subchannel
  power grid -> SINR over the message's subchannels (interference weighted by overlapping PRBs)
  -> half-duplex -> sensitivity -> decoding (SINR threshold or BLER curve) -> loss reason,
plus each node's channel busy ratio over the batch. No Python loop runs over vehicles or packets;
the one loop runs over subchannel offsets (at most the number of subchannels).

`sim.radio.reference` is the plain per-link version of the same model and the test oracle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.core.rng import hash_uniform
from sim.radio import kernel as fused
from sim.radio.bler import BLER_ABOVE_CURVE, BLER_BELOW_CURVE, BLER_CURVES, bler_from_sinr_db
from sim.radio.channel import ChannelModel, far_link_loss_db, far_loss_table
from sim.radio.neighbours import pairs_within
from sim.radio.phy import noise_power_dbm as noise_dbm

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Loss reasons per link, in the order they are attributed (the first that applies wins).
REASON_OK, REASON_HALF_DUPLEX, REASON_SENSITIVITY, REASON_PROPAGATION, REASON_COLLISION = range(5)
REASON_NAMES = ("ok", "half_duplex", "below_sensitivity", "propagation", "collision")


@dataclass(frozen=True)
class SidelinkConfig:
    n_subchannels: int
    subchannel_size_prb: int
    interference_range_m: float
    decoding_mode: str  # "threshold" | "bler"
    gamma_min_db: float
    bler_curve: str
    sensitivity_dbm: float | None
    cbr_threshold_dbm: float
    channel: ChannelModel
    decode_key: int  # key of the counter-based BLER draws
    min_sci_sinr_db: float = 0.0  # PSCCH (SCI) decoding threshold (WiLab minSCIsinr)
    wrap_m: float | None = None  # periodic x (a ring road unrolled), for calibration layouts
    kernel: str = "auto"  # "numba" (sim.radio.kernel), "numpy" (this module), "auto": numba if installed
    buildings: Any = None  # sim.radio.buildings.Buildings: urban NLOS behind buildings (numpy path)
    #: Links up to this distance are evaluated one by one (draws, SINR, decoding, sensing); longer
    #: ones up to `interference_range_m` get one keyed log-normal draw (`channel.far_link_loss_db`)
    #: that adds to interference and S-RSSI, and an SCI test for sensing; they are never
    #: received. None: every link exact.
    link_range_m: float | None = None


@dataclass(frozen=True)
class Nodes:
    """Radio nodes of one batch (equipped vehicles, then RSUs), as columns."""

    key: NDArray[np.uint64]  # stable identity for the channel draws
    xy_m: FloatArray  # (N, 2) at the batch start
    vel_mps: FloatArray  # (N, 2), to place nodes at each subframe
    height_m: FloatArray
    tx_power_dbm: FloatArray
    gain_dbi: FloatArray
    noise_figure_db: FloatArray
    is_vehicle: NDArray[np.bool_]
    #: Distance each node has travelled [m] at the batch start (vehicles: arc position on their
    #: route; RSUs: 0), for Gudmundson-correlated shadowing; None: all 0.
    odometer_m: FloatArray | None = None

    def __len__(self) -> int:
        return len(self.key)

    def travel_m(self, a: IntArray, b: IntArray, dt_s: FloatArray) -> FloatArray:
        """Travel coordinate u = s_a + s_b of node pairs (a, b), dt_s after the batch start
        (nodes keep their speed within the batch)."""
        speed = np.hypot(self.vel_mps[:, 0], self.vel_mps[:, 1])
        odo = np.zeros(len(self.key)) if self.odometer_m is None else self.odometer_m
        return odo[a] + odo[b] + (speed[a] + speed[b]) * dt_s


@dataclass(frozen=True)
class Transmissions:
    """Transmissions of one batch, as columns; `node` is a row of `Nodes`."""

    node: IntArray
    subframe_ms: IntArray
    subch_start: IntArray
    n_subch: IntArray
    packet_id: NDArray[np.uint64]
    gen_ms: FloatArray

    def __len__(self) -> int:
        return len(self.node)


@dataclass(frozen=True)
class LinkResults:
    """One row per (transmission, receiver) pair within the interference range."""

    tx: IntArray  # index into Transmissions
    rx: IntArray  # row of Nodes
    distance_m: FloatArray
    rx_power_dbm: FloatArray
    sinr_db: FloatArray
    reason: NDArray[np.int8]
    sci_ok: NDArray[np.bool_]  # the SCI was decoded (what sensing-based scheduling learns from)

    @property
    def success(self) -> NDArray[np.bool_]:
        return self.reason == REASON_OK


@dataclass(frozen=True)
class BatchResult:
    links: LinkResults
    cbr: FloatArray  # per node, over the batch's subframes
    power_mw: FloatArray  # (subframe, subchannel, node) received power, for S-RSSI sensing
    transmitting: NDArray[np.bool_]  # (subframe, node): half-duplex, the node could not listen
    #: Far links (beyond `link_range_m`) whose SCI was decoded: sensing learns their reservation
    #: (SPS exclusion), but their PSSCH is never received (sinr NaN, reason propagation).
    sensed: LinkResults | None = None

    def sensing_links(self) -> LinkResults:
        """`links` plus the far SCIs: what sensing-based scheduling hears."""
        if self.sensed is None or len(self.sensed.tx) == 0:
            return self.links
        a, b = self.links, self.sensed
        return LinkResults(*(np.concatenate([getattr(a, f), getattr(b, f)])
                             for f in ("tx", "rx", "distance_m", "rx_power_dbm", "sinr_db",
                                       "reason", "sci_ok")))


def sensed_far_links(tx: IntArray, rx: IntArray, distance_m: FloatArray,
                     rx_power_dbm: FloatArray) -> LinkResults:
    """Far links whose SCI was decoded, as sensing-only link rows."""
    n = len(tx)
    return LinkResults(tx, rx, distance_m, rx_power_dbm, np.full(n, np.nan),
                       np.full(n, REASON_PROPAGATION, np.int8), np.ones(n, bool))


def decode_ok(
    cfg: SidelinkConfig, sinr_db: FloatArray, packet_id: NDArray[np.uint64], rx_key: NDArray[np.uint64]
) -> NDArray[np.bool_]:
    """Threshold mode: SINR >= gamma_min. BLER mode: a keyed uniform draw above BLER(SINR)."""
    if cfg.decoding_mode == "threshold":
        return sinr_db >= cfg.gamma_min_db
    u = hash_uniform(np.uint64(cfg.decode_key), packet_id, rx_key)
    return u >= bler_from_sinr_db(sinr_db, cfg.bler_curve)


def use_numba(cfg: SidelinkConfig) -> bool:
    """Whether `evaluate_batch` runs the fused numba kernel for this configuration.

    Building blockage is a polygon test the fused kernel does not do, so a map with buildings
    always takes the numpy path (results are the same either way; only speed differs)."""
    if cfg.kernel not in ("auto", "numba", "numpy"):
        raise ValueError(f"unknown radio kernel {cfg.kernel!r}; allowed: auto, numba, numpy")
    if cfg.kernel == "numba" and not fused.HAVE_NUMBA:
        raise ValueError("radio kernel 'numba' requested but numba is not installed")
    return cfg.kernel != "numpy" and fused.HAVE_NUMBA and cfg.buildings is None


def evaluate_batch(
    nodes: Nodes, tx: Transmissions, sf0_ms: int, n_subframes: int, cfg: SidelinkConfig
) -> BatchResult:
    """Every link of the batch [sf0_ms, sf0_ms + n_subframes), its SINR and fate, and each node's
    CBR; by the fused numba kernel when available (`cfg.kernel`), else by numpy columns."""
    if len(tx) and len(nodes) and use_numba(cfg):
        return _evaluate_numba(nodes, tx, sf0_ms, n_subframes, cfg)
    n_nodes = len(nodes)
    n_sc = cfg.n_subchannels
    grid = np.zeros(n_subframes * n_sc * n_nodes)
    # Half-duplex: a node transmitting in a subframe hears nothing in it.
    busy = np.zeros(n_subframes * n_nodes, dtype=bool)
    busy[(tx.subframe_ms - sf0_ms) * n_nodes + tx.node] = True

    def result(links: LinkResults, sensed: LinkResults | None = None) -> BatchResult:
        return BatchResult(
            links, _cbr(grid, nodes, cfg, n_subframes),
            grid.reshape(n_subframes, n_sc, n_nodes), busy.reshape(n_subframes, n_nodes),
            sensed,
        )

    if len(tx) == 0 or n_nodes == 0:
        empty_i = np.empty(0, np.int64)
        empty_f = np.empty(0)
        return result(LinkResults(empty_i, empty_i, empty_f, empty_f, empty_f,
                                  np.empty(0, np.int8), np.empty(0, bool)))

    # Geometry at each transmission's own subframe (nodes move linearly within the batch).
    speed_max = float(np.abs(nodes.vel_mps).max(initial=0.0))
    margin_m = 2.0 * speed_max * n_subframes / 1000.0 + 1.0
    tx_xy0 = nodes.xy_m[tx.node]
    i_tx, j_rx = pairs_within(tx_xy0, nodes.xy_m, cfg.interference_range_m + margin_m, cfg.wrap_m)
    node_tx = tx.node[i_tx]
    dt_s = (tx.subframe_ms[i_tx] - sf0_ms) / 1000.0
    p_tx = nodes.xy_m[node_tx] + nodes.vel_mps[node_tx] * dt_s[:, None]
    p_rx = nodes.xy_m[j_rx] + nodes.vel_mps[j_rx] * dt_s[:, None]
    dist = np.hypot(wrapped_dx(p_tx[:, 0] - p_rx[:, 0], cfg.wrap_m), p_tx[:, 1] - p_rx[:, 1])
    keep = (dist <= cfg.interference_range_m) & (j_rx != node_tx)
    # Far links (beyond `link_range_m`): mean received power only, no draws, no outcome.
    far = keep & (dist > (np.inf if cfg.link_range_m is None else cfg.link_range_m))
    far_tx, far_rx, dist_far = i_tx[far], j_rx[far], dist[far]
    far_mw = _far_power_mw(nodes, cfg, node_tx[far], far_rx, dist[far], p_tx[far], p_rx[far],
                           tx.subframe_ms[far_tx])
    keep &= ~far
    i_tx, j_rx, node_tx, dist = i_tx[keep], j_rx[keep], node_tx[keep], dist[keep]

    sf = tx.subframe_ms[i_tx]
    travel = nodes.travel_m(node_tx, j_rx, dt_s[keep]) if cfg.channel.correlated else None
    loss_db, _ = cfg.channel.link_loss_db(
        dist, nodes.height_m[node_tx], nodes.height_m[j_rx], nodes.key[node_tx], nodes.key[j_rx], sf,
        travel,
    )
    if cfg.buildings is not None:  # building-blocked links: urban NLOS (sim/radio/buildings.py)
        loss_db = cfg.buildings.apply(loss_db, p_tx[keep], p_rx[keep], nodes.height_m[node_tx],
                                      nodes.height_m[j_rx], nodes.key[node_tx], nodes.key[j_rx], sf)
    rx_dbm = nodes.tx_power_dbm[node_tx] + nodes.gain_dbi[node_tx] + nodes.gain_dbi[j_rx] - loss_db
    p_mw = 10.0 ** (rx_dbm / 10.0)

    # Power grid [subframe, subchannel, node]: each transmission spreads evenly over its subchannels.
    n_sub = tx.n_subch[i_tx]
    start = tx.subch_start[i_tx]
    row = (sf - sf0_ms) * n_sc
    share = p_mw / n_sub
    for j in range(int(tx.n_subch.max())):
        sel = n_sub > j
        flat = (row[sel] + start[sel] + j) * n_nodes + j_rx[sel]
        grid += np.bincount(flat, weights=share[sel], minlength=grid.size)
    if len(far_tx):
        f_sub = tx.n_subch[far_tx]
        f_row = (tx.subframe_ms[far_tx] - sf0_ms) * n_sc + tx.subch_start[far_tx]
        for j in range(int(f_sub.max())):
            sel = f_sub > j
            grid += np.bincount((f_row[sel] + j) * n_nodes + far_rx[sel],
                                weights=(far_mw / f_sub)[sel], minlength=grid.size)

    band = np.zeros(len(i_tx))
    for j in range(int(tx.n_subch.max())):
        sel = n_sub > j
        band[sel] += grid[(row[sel] + start[sel] + j) * n_nodes + j_rx[sel]]
    interference_mw = np.maximum(band - p_mw, 0.0)
    noise_mw = 10.0 ** (noise_dbm(n_sub * cfg.subchannel_size_prb, nodes.noise_figure_db[j_rx]) / 10.0)
    sinr_db = 10.0 * np.log10(p_mw / (interference_mw + noise_mw))
    snr_db = 10.0 * np.log10(p_mw / noise_mw)
    # SCI (PSCCH) in the first subchannel: the same per-PRB SINR there, against its own threshold.
    sci_noise_mw = 10.0 ** (noise_dbm(cfg.subchannel_size_prb, nodes.noise_figure_db[j_rx]) / 10.0)
    first_i = np.maximum(grid[(row + start) * n_nodes + j_rx] - share, 0.0)
    sci_sinr_ok = 10.0 * np.log10(share / (first_i + sci_noise_mw)) >= cfg.min_sci_sinr_db
    sci_snr_ok = 10.0 * np.log10(share / sci_noise_mw) >= cfg.min_sci_sinr_db

    half_duplex = busy[(sf - sf0_ms) * n_nodes + j_rx]
    packet = tx.packet_id[i_tx]
    rx_key = nodes.key[j_rx]
    reason = np.full(len(i_tx), REASON_OK, dtype=np.int8)
    reason[~(decode_ok(cfg, sinr_db, packet, rx_key) & sci_sinr_ok)] = REASON_COLLISION
    reason[~(decode_ok(cfg, snr_db, packet, rx_key) & sci_snr_ok)] = REASON_PROPAGATION
    audible = ~half_duplex
    if cfg.sensitivity_dbm is not None:
        below = rx_dbm < cfg.sensitivity_dbm
        reason[below] = REASON_SENSITIVITY
        audible &= ~below
    reason[half_duplex] = REASON_HALF_DUPLEX
    links = LinkResults(i_tx, j_rx, dist, rx_dbm, sinr_db, reason, audible & sci_sinr_ok)
    sensed = None
    if cfg.link_range_m is not None:  # far SCIs: the same SCI test, for sensing only
        f_sf = tx.subframe_ms[far_tx] - sf0_ms
        f_share = far_mw / tx.n_subch[far_tx]
        f_first_i = np.maximum(
            grid[(f_sf * n_sc + tx.subch_start[far_tx]) * n_nodes + far_rx] - f_share, 0.0)
        f_sci_noise = 10.0 ** (noise_dbm(cfg.subchannel_size_prb,
                                         nodes.noise_figure_db[far_rx]) / 10.0)
        heard = (10.0 * np.log10(f_share / (f_first_i + f_sci_noise)) >= cfg.min_sci_sinr_db) \
            & ~busy[f_sf * n_nodes + far_rx]
        if cfg.sensitivity_dbm is not None:
            heard &= 10.0 * np.log10(far_mw) >= cfg.sensitivity_dbm
        sensed = sensed_far_links(far_tx[heard], far_rx[heard], dist_far[heard],
                                  10.0 * np.log10(far_mw[heard]))
    return result(links, sensed)


def far_loss_tables(nodes: Nodes, cfg: SidelinkConfig) -> tuple[FloatArray, IntArray]:
    """The far-link loss table for the antenna heights of `nodes`, and each node's class."""
    heights = np.unique(np.asarray(nodes.height_m, dtype=np.float64))
    table = far_loss_table(cfg.channel, tuple(heights.tolist()), cfg.interference_range_m + 1.0)
    return table, np.searchsorted(heights, nodes.height_m).astype(np.int64)


def _far_power_mw(nodes: Nodes, cfg: SidelinkConfig, node_tx: IntArray, rx: IntArray,
                  dist_m: FloatArray, p_tx_m: FloatArray, p_rx_m: FloatArray,
                  subframe_ms: IntArray) -> FloatArray:
    """Received power of far links [mW]: `channel.far_link_loss_db` (the LOS state, then one keyed
    log-normal draw with that state's mean and variance of linear gain), or behind a building
    the urban NLOS loss with its own 4 dB shadowing draw (sim/radio/buildings.py)."""
    if len(rx) == 0:
        return np.empty(0)
    h_tx, h_rx = nodes.height_m[node_tx], nodes.height_m[rx]
    table, hclass = far_loss_tables(nodes, cfg)
    loss = far_link_loss_db(cfg.channel, table, hclass[node_tx], hclass[rx], dist_m,
                            nodes.key[node_tx], nodes.key[rx], subframe_ms)
    if cfg.buildings is not None:
        loss = cfg.buildings.apply(loss, p_tx_m, p_rx_m, h_tx, h_rx, nodes.key[node_tx],
                                   nodes.key[rx], subframe_ms)
    dbm = nodes.tx_power_dbm[node_tx] + nodes.gain_dbi[node_tx] + nodes.gain_dbi[rx] - loss
    return 10.0 ** (dbm / 10.0)


def _movement_margin_m(nodes: Nodes, n_subframes: int) -> float:
    """How much closer two nodes can get within the batch (both at the top speed), plus 1 m."""
    speed_max = float(np.abs(nodes.vel_mps).max(initial=0.0))
    return 2.0 * speed_max * n_subframes / 1000.0 + 1.0


def _evaluate_numba(
    nodes: Nodes, tx: Transmissions, sf0_ms: int, n_subframes: int, cfg: SidelinkConfig
) -> BatchResult:
    nf = np.asarray(nodes.noise_figure_db, dtype=np.float64)
    n_prb = np.arange(1, cfg.n_subchannels + 1)[:, None] * cfg.subchannel_size_prb
    noise_mw = np.ones((cfg.n_subchannels + 1, len(nodes)))
    noise_mw[1:] = 10.0 ** (noise_dbm(n_prb, nf[None, :]) / 10.0)
    if cfg.decoding_mode == "bler":
        xs, ys = BLER_CURVES[cfg.bler_curve]
    else:
        xs, ys = np.zeros(1), np.zeros(1)
    t, r, d, dbm, sinr, reason, sci, grid, busy, sensed = fused.fused_links(
        nodes, tx, sf0_ms, n_subframes, cfg, _movement_margin_m(nodes, n_subframes),
        noise_mw, noise_mw[1], (np.ascontiguousarray(xs), np.ascontiguousarray(ys)),
        (BLER_BELOW_CURVE, BLER_ABOVE_CURVE),
    )
    links = LinkResults(t, r, d, dbm, sinr, reason, sci)
    cbr = fused.cbr(grid, noise_mw[1], 10.0 ** (cfg.cbr_threshold_dbm / 10.0))
    return BatchResult(links, cbr, grid, busy,
                       sensed_far_links(*sensed) if cfg.link_range_m is not None else None)


def wrapped_dx(dx_m: FloatArray, wrap_m: float | None) -> FloatArray:
    """x difference on a ring of circumference wrap_m (the nearest image), or as is."""
    if wrap_m is None:
        return dx_m
    return (dx_m + 0.5 * wrap_m) % wrap_m - 0.5 * wrap_m


def _cbr(grid: FloatArray, nodes: Nodes, cfg: SidelinkConfig, n_subframes: int) -> FloatArray:
    """Share of (subframe, subchannel) cells whose S-RSSI exceeds the CBR threshold, per node."""
    n_nodes = len(nodes)
    if n_nodes == 0:
        return np.empty(0)
    noise_mw = np.asarray(10.0 ** (noise_dbm(cfg.subchannel_size_prb, nodes.noise_figure_db) / 10.0))
    rssi = grid.reshape(n_subframes * cfg.n_subchannels, n_nodes) + noise_mw[None, :]
    threshold_mw = 10.0 ** (cfg.cbr_threshold_dbm / 10.0)
    return (rssi > threshold_mw).mean(axis=0)
