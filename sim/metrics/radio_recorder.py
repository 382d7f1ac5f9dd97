"""Streaming radio statistics: histograms and counters updated once per batch, never per packet.

Memory stays constant however long the run: PRR and loss reasons per distance bin, a latency
histogram (0.01 ms bins), CBR sums. Only transmissions in subframes after the warm-up count.
"""

from __future__ import annotations

import numpy as np

from sim.metrics import recorder_kernel
from sim.metrics.kpi import prr_at, prr_curve, quantile_from_hist, range_at_prr
from sim.radio import kernel
from sim.radio import threads as radio_threads
from sim.radio.dcc import STATE_NAMES as DCC_STATE_NAMES
from sim.radio.kernel import HAVE_NUMBA
from sim.radio.medium import RadioBatch
from sim.radio.sidelink import REASON_NAMES

PIR_RANGE_M = 100.0
#: Receptions this close keep a pair's last-reception time: a pair drifting just past PIR_RANGE_M
#: and back still hears its partner, which is no gap (bounded so the pair table stays small).
PIR_TRACK_M = 2.0 * PIR_RANGE_M
PIR_MAX_MS = 10_000
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
        # Packet inter-reception time (TR 36.885): per (transmitter, receiver) vehicle pair, the
        # time between consecutive successful receptions, both within PIR_RANGE_M; a reception
        # up to PIR_TRACK_M still ends a gap. Last time per pair, and whether it was within.
        self._pir_key = np.empty(0, np.int64)
        self._pir_last_ms = np.empty(0, np.int64)
        self._pir_last_in = np.empty(0, bool)  # that reception was within PIR_RANGE_M
        self._pir_horizon_ms = -(1 << 62)  # pairs last heard at or before this are forgotten
        self.pir_hist = np.zeros(PIR_MAX_MS + 1, dtype=np.int64)
        self._cbr_window: tuple[int, float, int] = (-1, 0.0, 0)
        # Congestion control (only when on): vehicle-batches per DCC state, vehicle-ms, BSMs held.
        self.dcc_on = False
        self.dcc_state_count = np.zeros(len(DCC_STATE_NAMES), dtype=np.int64)
        self.dcc_vehicle_ms = 0
        self.dcc_suppressed = 0

    @property
    def success(self) -> np.ndarray:
        return self.reasons[0]

    def on_radio_batch(self, b: RadioBatch) -> None:
        if b.t0_ms + b.n_subframes <= self.warmup_ms:
            return
        tx, links = b.tx, b.result.links
        counted_tx = (tx.subframe_ms >= self.warmup_ms) & (b.tx_vehicle_id >= 0)  # BSMs only
        self.generated += b.generated
        self.dropped += b.dropped
        self.transmitted += int(counted_tx.sum())
        n = len(links.tx)
        near = np.empty(n, np.bool_)
        cols = (links.tx, links.rx, links.distance_m, links.reason, counted_tx,
                b.node_vehicle_id >= 0, tx.subframe_ms, np.asarray(tx.gen_ms, np.float64),
                self.bin_m)
        hists = (self.reasons, self.samples, self.rsu_samples, self.rsu_success,
                 self.latency_hist)
        chunks = (radio_threads.split(n, 4 * kernel.MIN_LINKS_PER_CHUNK) if HAVE_NUMBA
                  else [(0, n)])
        if len(chunks) == 1:
            tally = recorder_kernel.tally_links if HAVE_NUMBA else recorder_kernel.tally_numpy
            self.received += tally(0, n, *cols, *hists, LATENCY_BIN_MS, PIR_TRACK_M, near)
        else:  # each thread its own histograms (integer counts: the sum is exact), added here

            def part(lo: int, hi: int) -> tuple[int, tuple[np.ndarray, ...]]:
                own = tuple(np.zeros_like(h) for h in hists)
                got = recorder_kernel.tally_links(lo, hi, *cols, *own, LATENCY_BIN_MS,
                                                  PIR_TRACK_M, near)
                return got, own

            for got, own in radio_threads.run(part, chunks):
                self.received += got
                for h, o in zip(hists, own):
                    h += o
        self._record_pir(b.tx_vehicle_id[links.tx[near]], b.node_vehicle_id[links.rx[near]],
                         tx.subframe_ms[links.tx[near]] + 1,
                         links.distance_m[near] <= PIR_RANGE_M)
        if b.dcc_state is not None:
            self.dcc_on = True
            self.dcc_state_count += np.bincount(b.dcc_state, minlength=len(DCC_STATE_NAMES))
            self.dcc_vehicle_ms += len(b.dcc_state) * b.n_subframes
            self.dcc_suppressed += b.dcc_suppressed
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

    def _record_pir(self, tx_vid: np.ndarray, rx_vid: np.ndarray, rx_ms: np.ndarray,
                    counted: np.ndarray | None = None) -> None:
        """Receptions (within PIR_TRACK_M) of vehicle pairs; the gap between two consecutive
        receptions of a pair is recorded when both are `counted` (within PIR_RANGE_M; default
        all). A reception beyond PIR_RANGE_M still ends the previous gap (the pair heard each
        other) without starting a counted one."""
        if len(tx_vid) == 0:
            return
        if counted is None:
            counted = np.ones(len(tx_vid), bool)
        key = tx_vid.astype(np.int64) * (1 << 32) + rx_vid.astype(np.int64)
        order = np.lexsort((rx_ms, key))
        key, rx_ms, counted = key[order], rx_ms[order], counted[order]
        # Consecutive receptions of one pair inside this batch, then against the last batch's.
        same = key[1:] == key[:-1]
        inner = same & counted[1:] & counted[:-1]
        gaps = [rx_ms[1:][inner] - rx_ms[:-1][inner]]
        first = np.ones(len(key), bool)
        first[1:] = ~same
        k0, t0 = key[first], rx_ms[first]
        pos = np.minimum(np.searchsorted(self._pir_key, k0), max(len(self._pir_key) - 1, 0))
        # A pair whose last reception is PIR_MAX_MS older than the latest one is forgotten.
        known = ((self._pir_key[pos] == k0) & (self._pir_last_ms[pos] > self._pir_horizon_ms)
                 & self._pir_last_in[pos] & counted[first]
                 if len(self._pir_key) else np.zeros(len(k0), bool))
        gaps.append(t0[known] - self._pir_last_ms[pos[known]])
        gap = np.minimum(np.concatenate(gaps), PIR_MAX_MS)
        counts = np.bincount(gap)  # up to the longest gap seen (gap <= PIR_MAX_MS: fits)
        self.pir_hist[:len(counts)] += counts
        # The table stays sorted by pair: known pairs update in place, new ones are inserted
        # (a few per batch), forgotten ones are dropped now and then (no re-sort per batch).
        last = np.ones(len(key), bool)
        last[:-1] = ~same
        # The batch's latest reception per pair (later than all in the table), and if counted.
        k1, t1, in1 = key[last], rx_ms[last], counted[last]
        at = np.searchsorted(self._pir_key, k1)
        at_c = np.minimum(at, max(len(self._pir_key) - 1, 0))
        hit = (self._pir_key[at_c] == k1) if len(self._pir_key) else np.zeros(len(k1), bool)
        self._pir_last_ms[at_c[hit]] = t1[hit]
        self._pir_last_in[at_c[hit]] = in1[hit]
        new = ~hit
        self._pir_key = np.insert(self._pir_key, at[new], k1[new])
        self._pir_last_ms = np.insert(self._pir_last_ms, at[new], t1[new])
        self._pir_last_in = np.insert(self._pir_last_in, at[new], in1[new])
        self._pir_horizon_ms = max(self._pir_horizon_ms, int(t1.max()) - PIR_MAX_MS)
        stale = self._pir_last_ms <= self._pir_horizon_ms
        if 4 * int(stale.sum()) > len(stale):
            self._pir_key, self._pir_last_ms, self._pir_last_in = (
                self._pir_key[~stale], self._pir_last_ms[~stale], self._pir_last_in[~stale])

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

    def congestion_summary(self) -> dict[str, object]:
        """Reactive DCC outputs: mean BSM rate per vehicle (BSMs sent after the warm-up over
        vehicle-seconds), share of vehicle-batches in each state, BSMs not generated."""
        seen = int(self.dcc_state_count.sum())
        return {
            "kind": "etsi-reactive",
            "mean_bsm_rate_hz": _round(self.transmitted / (self.dcc_vehicle_ms / 1000.0)
                                       if self.dcc_vehicle_ms else None),
            "state_share": {name: _round(self.dcc_state_count[i] / seen if seen else None)
                            for i, name in enumerate(DCC_STATE_NAMES)},
            "bsm_suppressed": self.dcc_suppressed,
        }

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
                # Ranges equal to this are lower bounds: the upper edge of the last bin measured
                # (the histogram's end, or less, e.g. with radio.link_range_m).
                "range_limit_m": float((np.flatnonzero(n > 0)[-1] + 1) * self.bin_m)
                if total else self.n_bins * self.bin_m,
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
            "pir": {
                "range_m": PIR_RANGE_M,
                "samples": int(self.pir_hist.sum()),
                **{f"p{int(p * 100)}_ms": quantile_from_hist(self.pir_hist, 1.0, p)
                   for p in (0.5, 0.95, 0.99)},
                "max_ms": int(np.flatnonzero(self.pir_hist)[-1]) if self.pir_hist.any() else None,
            },
            "cbr": {
                "mean": _round(self.cbr_sum / self.cbr_batches if self.cbr_batches else None),
                "max_node": _round(self.cbr_max if self.cbr_batches else None),
            },
        } | ({"congestion": self.congestion_summary()} if self.dcc_on else {})


def _round(x: float | None, digits: int = 6) -> float | None:
    return None if x is None else round(float(x), digits)
