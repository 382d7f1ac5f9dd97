"""numba loops behind `SpsScheduler.observe`: S-RSSI averaging and SCI memory updates.

The numpy versions (kept in `sim.radio.sps` as the fallback and the test oracle) gather and
scatter (slot, offset, subchannel) cells through index arrays as large as the batch's links; at
10,000 vehicles that is ~2.7 M links and 1 M cells per 20 ms batch. These loops write each cell in
place, in the same order and with the same float32/float64 arithmetic, so the sensing memory is
bit-for-bit the numpy one (tests/test_radio_kernel.py).
"""

from __future__ import annotations

import numpy as np

from sim.radio.kernel import _njit


@_njit()
def record_rssi(state_mw, slots, t0_ms, p_step_ms, power_mw, noise_mw, transmitted,
                alpha):  # type: ignore[no-untyped-def]
    """state_mw[slot, (t0 + s) % P_step, :] <- exponential average of grid + noise, except where
    the UE transmitted (half-duplex); the first sample of a cell replaces the empty cell.

    Subframe-major, so the batch's power grid (subframe, subch, node) is read in memory order.
    """
    n_sf, n_sc = power_mw.shape[0], power_mw.shape[1]
    keep = np.float32(1.0 - alpha)
    gain = np.float32(alpha)
    for s in range(n_sf):
        off = (t0_ms + s) % p_step_ms
        for i in range(len(slots)):
            if transmitted[s, i]:
                continue
            sl = slots[i]
            total = np.float32(0.0)
            for c in range(n_sc):
                total += state_mw[sl, off, c]
            first = total == np.float32(0.0)
            for c in range(n_sc):
                new = np.float32(power_mw[s, c, i] + noise_mw[i])
                if first:
                    state_mw[sl, off, c] = new
                else:
                    state_mw[sl, off, c] = keep * state_mw[sl, off, c] + gain * new


@_njit()
def record_sci(sci_key, rx_slots, subframe_ms, start, n_subch, rsrp_dbm, p_step_ms,
               rri_ms):  # type: ignore[no-untyped-def]
    """Keeps, per sci_key[offset, subchannel, slot], the max of time_ms * 1000 + (rsrp + 500): the latest
    SCI and, within a subframe, the strongest (`SpsScheduler.record_sci`)."""
    reps = p_step_ms // rri_ms
    for k in range(len(rx_slots)):
        packed = subframe_ms[k] * 1000.0 + (min(max(rsrp_dbm[k], -499.0), 499.0) + 500.0)
        for j in range(n_subch[k]):
            for r in range(reps):
                off = (subframe_ms[k] + r * rri_ms) % p_step_ms
                c = start[k] + j
                if packed > sci_key[off, c, rx_slots[k]]:
                    sci_key[off, c, rx_slots[k]] = packed


@_njit()
def observe_sci(r_lo, r_hi, sci_key, slots, n_v, link_tx, link_rx, link_dbm, link_sci_ok, tx_node,
                tx_sf, tx_start, tx_nsub, rsrp_offset_db, p_step_ms, rri_ms):  # type: ignore[no-untyped-def]
    """`SpsScheduler.observe`'s SCI part in one pass over the links: every SCI a vehicle decoded
    from another vehicle goes into its memory, RSRP = rx power - rsrp_offset_db[n_subch]. Only
    receivers r_lo <= r < r_hi (a thread's share: their memory is written by no other thread;
    each cell keeps a maximum, so the result does not depend on the split)."""
    reps = p_step_ms // rri_ms
    hi = min(r_hi, n_v)
    for k in range(len(link_tx)):
        t = link_tx[k]
        r = link_rx[k]
        if not link_sci_ok[k] or r < r_lo or r >= hi or tx_node[t] >= n_v:
            continue
        rsrp = link_dbm[k] - rsrp_offset_db[tx_nsub[t]]
        packed = tx_sf[t] * 1000.0 + (min(max(rsrp, -499.0), 499.0) + 500.0)
        sl = slots[r]
        for j in range(tx_nsub[t]):
            c = tx_start[t] + j
            for q in range(reps):
                off = (tx_sf[t] + q * rri_ms) % p_step_ms
                if packed > sci_key[off, c, sl]:
                    sci_key[off, c, sl] = packed
