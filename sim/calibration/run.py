"""Runs a calibration world and compares its PRR curve with the analytical model.

The loop is the engine's radio half only (no roads, no IDM): vehicles move at constant speed on
the ring, every 100 ms batch goes through the same `SidelinkMedium` and `RadioRecorder` as a
scenario run, so what is calibrated here is exactly what scenarios use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.calibration.layouts import CalibrationWorld
from sim.io.rundir import write_csv, write_json
from sim.metrics.radio_recorder import RadioRecorder
from sim.radio.analytical import Gm2019Config, pdr_vs_distance
from sim.radio.sidelink import REASON_NAMES

BIN_M = 20.0
MAX_DISTANCE_M = 500.0


@dataclass
class CalibrationResult:
    distance_m: np.ndarray  # bin centres
    prr: np.ndarray
    samples: np.ndarray
    loss: dict[str, np.ndarray]  # per reason, share of samples per bin
    recorder: RadioRecorder


def simulate(world: CalibrationWorld, duration_s: float, warmup_s: float = 2.0,
             batch_ms: int = 20) -> CalibrationResult:
    rec = RadioRecorder(BIN_M, MAX_DISTANCE_M, int(warmup_s * 1000), [100.0, 300.0])
    t = world.table
    for t0 in range(0, int(duration_s * 1000), batch_ms):
        rec.on_radio_batch(world.medium.batch(t0, batch_ms))
        dx = t["v_mps"] * np.cos(t["heading_rad"]) * batch_ms / 1000.0
        t["x_m"] = (t["x_m"] + dx) % world.ring_m
    with np.errstate(invalid="ignore", divide="ignore"):
        prr = np.where(rec.samples > 0, rec.success / np.maximum(rec.samples, 1), np.nan)
        loss = {name: rec.reasons[i] / np.maximum(rec.samples, 1)
                for i, name in enumerate(REASON_NAMES) if i > 0}
    centres = (np.arange(rec.n_bins) + 0.5) * BIN_M
    return CalibrationResult(centres, prr, rec.samples, loss, rec)


def write_outputs(out: Path, result: CalibrationResult, analytical: np.ndarray | None,
                  title: str, extra: dict[str, Any]) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    lo = result.distance_m - BIN_M / 2
    rows = [
        (float(d), None if np.isnan(p) else float(p),
         None if analytical is None else float(a), int(n))
        for d, p, a, n in zip(lo, result.prr, analytical if analytical is not None else lo,
                              result.samples)
    ]
    write_csv(out / "prr_vs_distance.csv", ["distance_m", "prr", "prr_analytical", "samples"], rows)
    summary: dict[str, Any] = {"setup": title, **extra}
    if analytical is not None:
        ok = ~np.isnan(result.prr)
        dev = np.abs(result.prr[ok] - analytical[ok])
        summary["max_abs_deviation"] = round(float(dev.max()), 4)
        summary["mean_abs_deviation"] = round(float(dev.mean()), 4)
    summary["half_duplex_loss"] = round(float(np.nanmean(result.loss["half_duplex"])), 5)
    summary["prr_at_300m"] = round(float(result.prr[int(300 // BIN_M)]), 4)
    cbr: dict[str, Any] = result.recorder.summary()["cbr"]  # type: ignore[assignment]
    summary["cbr_mean"] = cbr["mean"]
    write_json(out / "summary.json", summary)
    _plot(out / "prr_vs_distance.png", result, analytical, title)
    return summary


def _plot(path: Path, result: CalibrationResult, analytical: np.ndarray | None, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    ax.plot(result.distance_m, result.prr, "o-", ms=3, label="v2xsim (packet level)")
    if analytical is not None:
        ax.plot(result.distance_m, analytical, "--", label="GM-2019 analytical model")
    for name, style in (("propagation", "-."), ("collision", ":"), ("below_sensitivity", "-."),
                        ("half_duplex", ":")):
        ax.plot(result.distance_m, result.loss[name], style, lw=1, label=f"loss: {name}")
    ax.set_xlabel("Tx-Rx distance (m)")
    ax.set_ylabel("packet reception ratio")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, MAX_DISTANCE_M)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, loc="center left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def gm2019_analytical(beta: float, rate_hz: float, tx_power_dbm: float, subchannels: int,
                      distance_m: np.ndarray) -> np.ndarray:
    cfg = Gm2019Config(beta_veh_per_m=beta, rate_hz=rate_hz, tx_power_dbm=tx_power_dbm,
                       subchannels=subchannels)
    return pdr_vs_distance(cfg, distance_m).pdr
