"""Plain, per-link reference of the sidelink step: the oracle for `sim.radio.sidelink`.

Written for obviousness, not speed: one Python loop over transmissions, one over receivers, and the
interference of every other co-subframe transmission summed explicitly with its PRB overlap. The
benchmarks also use it as the baseline for the vectorized kernel's speedup.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from sim.core.rng import hash_keys, hash_normal
from sim.radio.channel import (
    _TAG_GUDMUNDSON,
    GUDMUNDSON_CELLS_PER_DCORR,
    GUDMUNDSON_TERMS,
    far_link_loss_db,
)
from sim.radio.sidelink import (
    REASON_COLLISION,
    REASON_HALF_DUPLEX,
    REASON_OK,
    REASON_PROPAGATION,
    REASON_SENSITIVITY,
    Nodes,
    SidelinkConfig,
    Transmissions,
    decode_ok,
    far_loss_tables,
    noise_dbm,
    wrapped_dx,
)


def _position(nodes: Nodes, row: int, subframe_ms: int, sf0_ms: int) -> tuple[float, float]:
    dt = (subframe_ms - sf0_ms) / 1000.0
    return (
        float(nodes.xy_m[row, 0] + nodes.vel_mps[row, 0] * dt),
        float(nodes.xy_m[row, 1] + nodes.vel_mps[row, 1] * dt),
    )


def is_far(cfg: SidelinkConfig, distance_m: float) -> bool:
    """Beyond `link_range_m`: the link interferes (one log-normal draw) but is not received."""
    return cfg.link_range_m is not None and distance_m > cfg.link_range_m


def reference_gudmundson_normal(key: int, key_a: int, key_b: int, travel_m: float,
                                decorrelation_m: float) -> float:
    """Unit-variance Gudmundson shadowing of one link, written out: the stationary AR(1) process
    X_k = rho X_(k-1) + sqrt(1 - rho^2) Z_k over cells of D_corr / 5 of the pair's travel
    coordinate, run from its last J = 25 innovations (older ones weigh rho^50 = e^-10: dropped and
    renormalised), read at the cell holding travel_m."""
    lo, hi = min(key_a, key_b), max(key_a, key_b)
    g = decorrelation_m / GUDMUNDSON_CELLS_PER_DCORR
    rho = math.exp(-g / decorrelation_m)
    cell = math.floor(travel_m / g)
    pair = hash_keys(np.uint64(key), np.uint64(_TAG_GUDMUNDSON), np.uint64(lo), np.uint64(hi))
    x = 0.0  # the recursion from the oldest kept innovation, starting at 0
    for k in range(cell - GUDMUNDSON_TERMS + 1, cell + 1):
        z = float(hash_normal(pair, np.int64(k).astype(np.uint64)))
        x = rho * x + math.sqrt(1.0 - rho * rho) * z
    return x / math.sqrt(1.0 - rho ** (2 * GUDMUNDSON_TERMS))


def _rx_power_mw(
    nodes: Nodes, t: int, r: int, tx: Transmissions, sf0_ms: int, cfg: SidelinkConfig
) -> tuple[float, float] | None:
    """(distance, received power in mW) of transmission t at node r, or None if out of range."""
    a = int(tx.node[t])
    sf = int(tx.subframe_ms[t])
    xa, ya = _position(nodes, a, sf, sf0_ms)
    xr, yr = _position(nodes, r, sf, sf0_ms)
    d = math.hypot(float(wrapped_dx(np.array(xa - xr), cfg.wrap_m)), ya - yr)
    if d > cfg.interference_range_m or a == r:
        return None
    ch = cfg.channel
    if is_far(cfg, d):  # beyond link_range_m: one log-normal draw, no outcome
        table, hclass = far_loss_tables(nodes, cfg)
        loss_far = float(far_link_loss_db(ch, table, hclass[[a]], hclass[[r]], np.array([d]),
                                          nodes.key[[a]], nodes.key[[r]], np.array([sf]))[0])
        dbm = nodes.tx_power_dbm[a] + nodes.gain_dbi[a] + nodes.gain_dbi[r] - loss_far
        return d, 10.0 ** (dbm / 10.0)
    sigma_db = 3.0 if ch.shadowing_sigma_db is None else ch.shadowing_sigma_db
    loss, _ = (replace(ch, shadowing_sigma_db=0.0) if ch.correlated else ch).link_loss_db(
        np.array([d]),
        np.array([nodes.height_m[a]]),
        np.array([nodes.height_m[r]]),
        np.array([nodes.key[a]]),
        np.array([nodes.key[r]]),
        np.array([sf]),
    )
    shadow_db = 0.0
    if ch.correlated and sigma_db > 0.0:
        dt = (sf - sf0_ms) / 1000.0
        odo = np.zeros(len(nodes)) if nodes.odometer_m is None else nodes.odometer_m
        speed_a = float(np.hypot(*nodes.vel_mps[a]))
        speed_r = float(np.hypot(*nodes.vel_mps[r]))
        travel = float(odo[a]) + float(odo[r]) + (speed_a + speed_r) * dt
        shadow_db = sigma_db * reference_gudmundson_normal(
            ch.key, int(nodes.key[a]), int(nodes.key[r]), travel, ch.dcorr_m)
    dbm = nodes.tx_power_dbm[a] + nodes.gain_dbi[a] + nodes.gain_dbi[r] - float(loss[0]) - shadow_db
    return d, 10.0 ** (dbm / 10.0)


def reference_links(
    nodes: Nodes, tx: Transmissions, sf0_ms: int, n_subframes: int, cfg: SidelinkConfig
) -> dict[tuple[int, int], tuple[float, float, float, int, bool]]:
    """(tx index, rx row) -> (distance, rx power dBm, SINR dB, reason, SCI decoded) per link."""
    out = {}
    for t in range(len(tx)):
        sf = int(tx.subframe_ms[t])
        lo, hi = int(tx.subch_start[t]), int(tx.subch_start[t] + tx.n_subch[t])
        for r in range(len(nodes)):
            link = _rx_power_mw(nodes, t, r, tx, sf0_ms, cfg)
            if link is None or is_far(cfg, link[0]):
                continue  # far links interfere (below) but are not received
            d, p = link
            interference = 0.0
            sci_interference = 0.0  # in the first subchannel, where the SCI is
            for u in range(len(tx)):
                if u == t or int(tx.subframe_ms[u]) != sf:
                    continue
                ulo, uhi = int(tx.subch_start[u]), int(tx.subch_start[u] + tx.n_subch[u])
                overlap = max(0, min(hi, uhi) - max(lo, ulo))
                if overlap == 0:
                    continue
                other = _rx_power_mw(nodes, u, r, tx, sf0_ms, cfg)
                if other is not None:
                    interference += other[1] * overlap / int(tx.n_subch[u])
                    if ulo <= lo < uhi:
                        sci_interference += other[1] / int(tx.n_subch[u])
            n_prb = int(tx.n_subch[t]) * cfg.subchannel_size_prb
            noise = 10.0 ** (float(noise_dbm(n_prb, nodes.noise_figure_db[r])) / 10.0)
            sinr_db = 10.0 * math.log10(p / (interference + noise))
            snr_db = 10.0 * math.log10(p / noise)
            sci_p = p / int(tx.n_subch[t])
            sci_noise = 10.0 ** (float(noise_dbm(cfg.subchannel_size_prb, nodes.noise_figure_db[r])) / 10.0)
            sci_sinr_ok = 10.0 * math.log10(sci_p / (sci_interference + sci_noise)) >= cfg.min_sci_sinr_db
            sci_snr_ok = 10.0 * math.log10(sci_p / sci_noise) >= cfg.min_sci_sinr_db
            rx_dbm = 10.0 * math.log10(p)
            own_tx = any(
                int(tx.node[u]) == r and int(tx.subframe_ms[u]) == sf for u in range(len(tx))
            )
            pid = np.array([tx.packet_id[t]], dtype=np.uint64)
            key = np.array([nodes.key[r]], dtype=np.uint64)
            if own_tx:
                reason = REASON_HALF_DUPLEX
            elif cfg.sensitivity_dbm is not None and rx_dbm < cfg.sensitivity_dbm:
                reason = REASON_SENSITIVITY
            elif not (decode_ok(cfg, np.array([snr_db]), pid, key)[0] and sci_snr_ok):
                reason = REASON_PROPAGATION
            elif not (decode_ok(cfg, np.array([sinr_db]), pid, key)[0] and sci_sinr_ok):
                reason = REASON_COLLISION
            else:
                reason = REASON_OK
            audible = not own_tx and not (
                cfg.sensitivity_dbm is not None and rx_dbm < cfg.sensitivity_dbm
            )
            out[(t, r)] = (d, rx_dbm, sinr_db, reason, audible and sci_sinr_ok)
    return out


def reference_cbr(
    nodes: Nodes, tx: Transmissions, sf0_ms: int, n_subframes: int, cfg: SidelinkConfig
) -> np.ndarray:
    """Per-node share of busy (subframe, subchannel) cells, summed transmission by transmission."""
    cbr = np.zeros(len(nodes))
    threshold_mw = 10.0 ** (cfg.cbr_threshold_dbm / 10.0)
    for r in range(len(nodes)):
        noise = 10.0 ** (float(noise_dbm(cfg.subchannel_size_prb, nodes.noise_figure_db[r])) / 10.0)
        busy = 0
        for s in range(sf0_ms, sf0_ms + n_subframes):
            for c in range(cfg.n_subchannels):
                rssi = noise
                for t in range(len(tx)):
                    lo = int(tx.subch_start[t])
                    if int(tx.subframe_ms[t]) != s or not lo <= c < lo + int(tx.n_subch[t]):
                        continue
                    link = _rx_power_mw(nodes, t, r, tx, sf0_ms, cfg)
                    if link is not None:
                        rssi += link[1] / int(tx.n_subch[t])
                busy += rssi > threshold_mw
        cbr[r] = busy / (n_subframes * cfg.n_subchannels)
    return cbr
