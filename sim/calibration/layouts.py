"""Calibration layouts: the published evaluation set-ups, built directly as radio worlds.

Both are rings unrolled on x (`SidelinkConfig.wrap_m`), so there are no road ends to bias PRR:
- GM-2019 (Gonzalez-Martin et al., IEEE TVT 2019): one line of vehicles spaced 1/beta, static,
  WINNER+ B1 with h' = 1.5 m, 190 B, 10 MHz, noise -95 dBm per 10 MHz, sensing threshold -90.5 dBm
  (decoding floor, sensing floor and the start of RSRP exclusion), P_keep = 0, BLER curves of
  R1-160284, no antenna gain;
- TR 36.885 freeway: 3 + 3 lanes of 4 m on a 2 km wrap-around, exponential spacing with mean
  2.5 s x 140 km/h, vehicles moving at 140 km/h, WINNER+ B1 (h' = h - 1 m), 23 dBm, 3 dBi,
  NF 9 dB, 190 B at MCS 7 in 10-PRB subchannels, SPS with -110 dBm RSRP, P_keep 0.4 (WiLab's
  Highway3GPP.cfg).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from roadside.rsu import RsuTable
from sim.core.rng import RngTree
from sim.radio.channel import ChannelModel
from sim.radio.medium import SidelinkMedium
from sim.radio.nodes import VehicleRadio
from sim.radio.phy import (
    PRB_BANDWIDTH_HZ,
    THERMAL_NOISE_DBM_PER_HZ,
    gamma_min_db,
    pssch_prbs_for_payload,
    subchannels_for_payload,
)
from sim.radio.sidelink import SidelinkConfig
from sim.radio.sps import SpsParams, SpsScheduler
from vehicles.obu import ObuFleet
from vehicles.table import VehicleTable


@dataclass
class CalibrationWorld:
    """What the calibration loop needs: vehicles on a ring, no RSUs, a medium, the ring length."""

    table: VehicleTable
    rsus: RsuTable
    medium: SidelinkMedium
    ring_m: float
    description: str


#: The calibration fleets drive at constant speed: the BSM event flag never fires.
HARD_BRAKING_EVENT_MPS2 = 4.0


def _empty_rsus() -> RsuTable:
    return RsuTable(np.zeros((0, 2)), np.zeros((0, 2)), 5.0, 23.0, 8.0, 5.0)


def _vehicles(x_m: np.ndarray, y_m: np.ndarray, v_mps: np.ndarray, heading_rad: np.ndarray,
              period_ms: int, rng: np.random.Generator) -> VehicleTable:
    t = VehicleTable()
    n = len(x_m)
    t.append(n, equipped=True, x_m=x_m, y_m=y_m, v_mps=v_mps, heading_rad=heading_rad,
             bsm_phase_ms=rng.integers(0, period_ms, n), spawn_ms=-10_000, length_m=5.0)
    return t


def gm2019_world(beta_veh_per_m: float, rate_hz: float, tx_power_dbm: float, subchannels: int,
                 seed: int = 1, ring_m: float = 4000.0) -> CalibrationWorld:
    if subchannels not in (2, 4):
        raise ValueError("GM-2019 uses S = 2 or S = 4 subchannels")
    if rate_hz not in (10.0, 20.0):
        raise ValueError("GM-2019 uses 10 or 20 Hz")
    rng = RngTree(seed)
    n = int(round(ring_m * beta_veh_per_m))
    period_ms = int(round(1000 / rate_hz))
    # S = 4: four 12-PRB resources (10 data RB + 2 SCI); S = 2: two 25-PRB resources (12 data RB).
    size_prb, data_rb, curve = (12, 10, "gm2019-coding1") if subchannels == 4 else (25, 12, "gm2019-coding2")
    # GM-2019 counts noise on the data RBs: -95 dBm per 10 MHz - 10 log10(50 / data RB). The step
    # puts noise on the whole subchannel, so the noise figure absorbs the ratio.
    noise_data_dbm = -95.0 - 10 * math.log10(50 / data_rb)
    nf_db = noise_data_dbm - (THERMAL_NOISE_DBM_PER_HZ + 10 * math.log10(size_prb * PRB_BANDWIDTH_HZ))
    cfg = SidelinkConfig(
        # Interferers out to +-1000 m, as the paper's code (docs/radio-model.md §3.1): a 1500 m range adds
        # ~1.5 co-resource transmitters at 1000-1500 m (~-107 dBm each, noise -102 dBm on 10 RB)
        # at beta 0.3 / 20 Hz. Sensing is unaffected: -90.5 dBm is reached at ~500 m.
        n_subchannels=50 // size_prb, subchannel_size_prb=size_prb, interference_range_m=1000.0,
        decoding_mode="bler", gamma_min_db=0.0, bler_curve=curve, sensitivity_dbm=-90.5,
        cbr_threshold_dbm=-94.0,
        channel=ChannelModel("winner-b1-gm2019", 5.91, 3.0, period_ms, 1.6, key=rng.key("channel")),
        decode_key=rng.key("decoding"), min_sci_sinr_db=-100.0, wrap_m=ring_m,
    )
    sps = SpsScheduler(
        SpsParams(n_subchannels=cfg.n_subchannels, t1_ms=1, t2_ms=period_ms, rri_ms=period_ms,
                  p_keep=0.0, rsrp_threshold_dbm=-90.5, rsrp_per_re=False,
                  subchannel_size_prb=size_prb, latency_budget_ms=period_ms),
        rng.generator("scheduling"),
    )
    x = np.arange(n) / beta_veh_per_m
    table = _vehicles(x, np.zeros(n), np.zeros(n), np.zeros(n), period_ms, rng.generator("traffic"))
    medium = SidelinkMedium(cfg, sps, VehicleRadio(tx_power_dbm, 0.0, 1.5, nf_db), period_ms, 1)
    rsus = _empty_rsus()
    medium.attach(ObuFleet(lambda: table, HARD_BRAKING_EVENT_MPS2), rsus)
    return CalibrationWorld(
        table, rsus, medium, ring_m,
        f"GM-2019: beta={beta_veh_per_m} veh/m, {rate_hz:g} Hz, {tx_power_dbm:g} dBm, S={subchannels}",
    )


def tr36885_highway_world(speed_kmh: float = 140.0, seed: int = 1, ring_m: float = 2000.0,
                          size_bytes: int = 190, mcs: int = 7) -> CalibrationWorld:
    rng = RngTree(seed)
    traffic = rng.generator("traffic")
    speed = speed_kmh / 3.6
    mean_spacing = 2.5 * speed
    xs, ys, hs = [], [], []
    for lane in range(6):
        gaps = traffic.exponential(mean_spacing, int(ring_m / mean_spacing * 2) + 20)
        x = np.cumsum(gaps)
        x = x[x < ring_m]
        forward = lane < 3
        xs.append(x)
        ys.append(np.full(len(x), (lane + 0.5) * 4.0 * (1 if forward else -1)))
        hs.append(np.full(len(x), 0.0 if forward else math.pi))
    x, y, h = np.concatenate(xs), np.concatenate(ys), np.concatenate(hs)
    size_prb = 10
    n_prb = pssch_prbs_for_payload(size_bytes, mcs)
    l_sub = subchannels_for_payload(size_bytes, mcs, size_prb)
    cfg = SidelinkConfig(
        n_subchannels=5, subchannel_size_prb=size_prb, interference_range_m=0.49 * ring_m,
        decoding_mode="threshold", gamma_min_db=float(gamma_min_db(size_bytes, n_prb)),
        bler_curve="gm2019-coding1", sensitivity_dbm=None, cbr_threshold_dbm=-94.0,
        channel=ChannelModel("winner-b1", 6.0, 3.0, 100, 1.6, key=rng.key("channel")),
        decode_key=rng.key("decoding"), wrap_m=ring_m,
    )
    sps = SpsScheduler(
        SpsParams(n_subchannels=5, p_keep=0.4, rsrp_threshold_dbm=-110.0, subchannel_size_prb=size_prb),
        rng.generator("scheduling"),
    )
    table = _vehicles(x, y, np.full(len(x), speed), h, 100, traffic)
    medium = SidelinkMedium(cfg, sps, VehicleRadio(23.0, 3.0, 1.5, 9.0), 100, l_sub)
    rsus = _empty_rsus()
    medium.attach(ObuFleet(lambda: table, HARD_BRAKING_EVENT_MPS2), rsus)
    return CalibrationWorld(
        table, rsus, medium, ring_m,
        f"TR 36.885 freeway: 3+3 lanes, {ring_m:g} m wrap-around, {speed_kmh:g} km/h, "
        f"{len(x)} vehicles",
    )
