"""numba pass behind `RadioRecorder.on_radio_batch`: one walk over a batch's links.

Why: the numpy version (`tally_numpy`, kept as the fallback and the test oracle) builds about ten
link-sized temporaries (masks, bins, flat indices, latencies) per batch; on the peak expressway
that was ~8 % of a run. This loop reads each link once and adds it to the same histograms, with
the same integer bins, so the counts are identical.
"""

from __future__ import annotations

import numpy as np

from sim.radio.kernel import _njit


@_njit()
def tally_links(lo, hi, link_tx, link_rx, distance_m, reason, counted_tx, rx_is_vehicle, tx_sf,
                tx_gen_ms, bin_m, reasons, samples, rsu_samples, rsu_success, latency_hist,
                latency_bin_ms, pir_range_m, pir_near):  # type: ignore[no-untyped-def]
    """Adds the counted links lo .. hi - 1 to the per-bin histograms and returns the vehicle
    receptions; pir_near[k] marks the receptions within `pir_range_m` (the PIR pairs)."""
    n_bins = len(samples)
    last = len(latency_hist) - 1
    received = 0
    for k in range(lo, hi):
        pir_near[k] = False
        t = link_tx[k]
        if not counted_tx[t]:
            continue
        b = int(distance_m[k] // bin_m)
        ok = reason[k] == 0
        vehicle = rx_is_vehicle[link_rx[k]]
        if b < n_bins:
            if vehicle:
                reasons[reason[k], b] += 1
                samples[b] += 1
            else:
                rsu_samples[b] += 1
                if ok:
                    rsu_success[b] += 1
        if ok and vehicle:
            received += 1
            latency_ms = tx_sf[t] + 1.0 - tx_gen_ms[t]
            latency_hist[min(int(latency_ms / latency_bin_ms), last)] += 1
            pir_near[k] = distance_m[k] <= pir_range_m
    return received


def tally_numpy(lo, hi, link_tx, link_rx, distance_m, reason, counted_tx, rx_is_vehicle,  # type: ignore[no-untyped-def]
                tx_sf, tx_gen_ms, bin_m, reasons, samples, rsu_samples, rsu_success, latency_hist,
                latency_bin_ms, pir_range_m, pir_near):
    """`tally_links` in numpy columns (no numba)."""
    rows = slice(lo, hi)
    link_tx, link_rx, distance_m, reason = (link_tx[rows], link_rx[rows], distance_m[rows],
                                            reason[rows])
    n_bins = len(samples)
    keep = counted_tx[link_tx]
    vehicle = rx_is_vehicle[link_rx]
    ok = reason == 0
    bins = (distance_m // bin_m).astype(np.int64)
    in_range = bins < n_bins
    v = keep & vehicle & in_range
    flat = reason[v].astype(np.int64) * n_bins + bins[v]
    reasons += np.bincount(flat, minlength=reasons.size).reshape(reasons.shape)
    samples += np.bincount(bins[v], minlength=n_bins)
    r = keep & ~vehicle & in_range
    rsu_samples += np.bincount(bins[r], minlength=n_bins)
    rsu_success += np.bincount(bins[r & ok], minlength=n_bins)
    got = keep & ok & vehicle
    latency_ms = tx_sf[link_tx[got]] + 1.0 - tx_gen_ms[link_tx[got]]
    idx = np.minimum((latency_ms / latency_bin_ms).astype(np.int64), latency_hist.size - 1)
    latency_hist += np.bincount(idx, minlength=latency_hist.size)
    pir_near[rows] = got & (distance_m <= pir_range_m)
    return int(got.sum())
