"""Streaming radio statistics: histograms and counters updated once per batch, never per packet.

Memory stays constant however long the run: PRR and loss reasons per distance bin, a latency
histogram (0.01 ms bins), CBR sums. Only transmissions in subframes after the warm-up count.
"""

from __future__ import annotations

import numpy as np

from sim.metrics.kpi import prr_at, prr_curve, quantile_from_hist, range_at_prr
from sim.radio.medium import RadioBatch
from sim.radio.sidelink import REASON_NAMES

LATENCY_BIN_MS = 0.01
LATENCY_MAX_MS = 1000.0


class RadioRecorder:
    def __init__(self, bin_m: float, max_distance_m: float, warmup_ms: int,
                 report_distances_m: list[float]) -> None:
        self.bin_m = bin_m
        self.n_bins = int(np.ceil(max_distance_m / bin_m))
        self.warmup_ms = warmup_ms
        self.report_distances_m = report_distances_m
        self.samples = np.zeros(self.n_bins, dtype=np.int64)
        self.reasons = np.zeros((len(REASON_NAMES), self.n_bins), dtype=np.int64)
        self.rsu_samples = np.zeros(self.n_bins, dtype=np.int64)
        self.rsu_success = np.zeros(self.n_bins, dtype=np.int64)
        self.latency_hist = np.zeros(int(LATENCY_MAX_MS / LATENCY_BIN_MS), dtype=np.int64)
        self.generated = 0
        self.transmitted = 0
        self.dropped = 0
        self.received = 0
        self.cbr_sum = 0.0
        self.cbr_max = 0.0
        self.cbr_batches = 0
        self.cbr_series: list[tuple[float, float]] = []  # (window start s, mean CBR), 100 ms windows
        self._cbr_window: tuple[int, float, int] = (-1, 0.0, 0)

    @property
    def success(self) -> np.ndarray:
        return self.reasons[0]

    def on_radio_batch(self, b: RadioBatch) -> None:
        if b.t0_ms + b.n_subframes <= self.warmup_ms:
            return
        tx, links = b.tx, b.result.links
        counted_tx = tx.subframe_ms >= self.warmup_ms
        self.generated += b.generated
        self.dropped += b.dropped
        self.transmitted += int(counted_tx.sum())
        keep = counted_tx[links.tx]
        rx_vehicle = b.node_vehicle_id[links.rx] >= 0
        ok = links.success
        bins = (links.distance_m // self.bin_m).astype(np.int64)
        in_range = bins < self.n_bins
        v = keep & rx_vehicle & in_range
        flat = links.reason[v].astype(np.int64) * self.n_bins + bins[v]
        self.reasons += np.bincount(flat, minlength=self.reasons.size).reshape(self.reasons.shape)
        self.samples += np.bincount(bins[v], minlength=self.n_bins)
        r = keep & ~rx_vehicle & in_range
        self.rsu_samples += np.bincount(bins[r], minlength=self.n_bins)
        self.rsu_success += np.bincount(bins[r & ok], minlength=self.n_bins)
        got = keep & ok & rx_vehicle
        self.received += int(got.sum())
        # Latency = end of the transmission subframe - generation time (access + 1 ms TTI).
        latency_ms = tx.subframe_ms[links.tx[got]] + 1.0 - tx.gen_ms[links.tx[got]]
        idx = np.minimum((latency_ms / LATENCY_BIN_MS).astype(np.int64), self.latency_hist.size - 1)
        self.latency_hist += np.bincount(idx, minlength=self.latency_hist.size)
        cbr = b.result.cbr[b.node_vehicle_id >= 0]
        if len(cbr):
            mean = float(cbr.mean())
            self.cbr_sum += mean
            self.cbr_max = max(self.cbr_max, float(cbr.max()))
            self.cbr_batches += 1
            window = b.t0_ms // 100
            w, total, count = self._cbr_window
            if w != window and count:
                self.cbr_series.append((w / 10.0, round(total / count, 6)))
                total, count = 0.0, 0
            self._cbr_window = (window, total + mean, count + 1)

    def cbr_rows(self) -> list[tuple[float, float]]:
        """Mean CBR per 100 ms window, including the window still open."""
        w, total, count = self._cbr_window
        tail = [(w / 10.0, round(total / count, 6))] if count else []
        return self.cbr_series + tail

    def prr_table(self) -> list[tuple[float, float | None, int]]:
        prr = prr_curve(self.success, self.samples)
        return [
            (i * self.bin_m, None if np.isnan(prr[i]) else float(prr[i]), int(self.samples[i]))
            for i in range(self.n_bins)
        ]

    def summary(self) -> dict[str, object]:
        s, n = self.success, self.samples
        q = {f"p{int(p * 100)}_ms": quantile_from_hist(self.latency_hist, LATENCY_BIN_MS, p)
             for p in (0.5, 0.95, 0.99)}
        lat = {k: (None if v is None else round(v, 3)) for k, v in q.items()}
        total = int(n.sum())
        return {
            "bsm_generated": self.generated,
            "bsm_transmitted": self.transmitted,
            "bsm_dropped_vehicle_left": self.dropped,
            "bsm_receptions": self.received,
            "prr": {
                f"at_{int(d)}m": _round(prr_at(d, self.bin_m, s, n)) for d in self.report_distances_m
            }
            | {
                "range_at_0.9_m": range_at_prr(0.9, self.bin_m, s, n),
                "range_at_0.95_m": range_at_prr(0.95, self.bin_m, s, n),
                "range_limit_m": self.n_bins * self.bin_m,  # ranges equal to this are lower bounds
            },
            "rsu_uplink_prr": {
                f"at_{int(d)}m": _round(prr_at(d, self.bin_m, self.rsu_success, self.rsu_samples))
                for d in self.report_distances_m
            },
            "loss_breakdown": {
                name: (round(float(self.reasons[i].sum()) / total, 6) if total else None)
                for i, name in enumerate(REASON_NAMES)
                if i > 0
            },
            "latency": {"bsm": lat},
            "cbr": {
                "mean": _round(self.cbr_sum / self.cbr_batches if self.cbr_batches else None),
                "max_node": _round(self.cbr_max if self.cbr_batches else None),
            },
        }


def _round(x: float | None, digits: int = 6) -> float | None:
    return None if x is None else round(float(x), digits)
