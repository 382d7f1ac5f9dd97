"""Decentralized congestion control: a CBR-adaptive BSM rate (ETSI TS 102 687 reactive DCC).

Scheme (`radio.congestion.kind: etsi-reactive`): the reactive approach of ETSI TS 102 687
V1.2.1 (2018-04), Annex A, table for packets of air time T_on <= 1 ms (an LTE-V2X transmission
lasts one 1 ms subframe). Each vehicle maps its own channel busy ratio to a state and the state to
a minimum time between its packets, T_off:

    state         CBR            T_off (min. BSM interval)   max. rate
    relaxed       < 0.30         100 ms                      10 Hz
    active 1      [0.30, 0.40)   200 ms                       5 Hz
    active 2      [0.40, 0.50)   400 ms                     2.5 Hz
    active 3      [0.50, 0.65)   500 ms                       2 Hz
    restrictive   >= 0.65        1000 ms                      1 Hz

[K] These figures are the standard's Annex A table as recalled here (docs/radio-model.md §6):
none of its sources lists them, so check them against the primary text before relying on them
quantitatively (they are kept in `CBR_THRESHOLDS` / `T_OFF_MS` below, one place to change).
Cross-check: ms-van3t (an ns-3 V2X simulator) ships the same states and T_off values for
T_on = 1 ms (100/200/400/500/1000 ms at CBR 0.3/0.4/0.5), with 0.6 instead of 0.65 as the
restrictive threshold.

Choices (the simplest faithful ones):
- CBR input: each vehicle's own CBR over its last 100 ms, i.e. the mean of the per-batch CBRs the
  medium computes over the last ceil(100 / batch_ms) batches (3GPP CBR is measured over 100 ms).
  A vehicle seen for the first time starts relaxed.
- No hysteresis and no smoothing beyond the 100 ms window: the state is a pure function of that
  CBR, re-evaluated after every radio batch. Any dwell times or CBR smoothing the standard's state
  machine may prescribe are not modelled (not checked against the primary text).
- Rate control acts at the facilities layer: a BSM generated less than T_off after the vehicle's
  last sent BSM is not generated (it never reaches the MAC). BSMs stay on the vehicle's 10 Hz
  phase grid, and every T_off is a multiple of 100 ms, so the effective interval is exactly T_off.
- In LTE-V2X SPS terms the vehicle keeps its 100 ms reservation (RRI unchanged) and skips the
  reserved transmissions it has no packet for. The reselection counter only counts transmissions
  (as `SpsScheduler.assign` does), and the `sl-ReselectAfter` trigger (reselect after N skipped
  reservations in a row) is not modelled. Other vehicles' sensing only keeps a resource excluded
  for one reservation period after the last SCI heard on it (`sci_memory: reservation`).
- Not modelled: SAE J2945/1 (density-based inter-transmit time and power adaptation), transmit
  power or MCS adaptation, and the adaptive (LIMERIC) DCC approach.

Everything is vectorized over vehicles; the only loop runs over BSMs of one vehicle inside a batch
(at most batch_ms / 100 rounds) and is deterministic (no random draws).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

CONGESTION_KINDS = ("none", "etsi-reactive")

#: Lower CBR bounds of the states after `relaxed` (a CBR equal to a bound is in the upper state).
CBR_THRESHOLDS = np.array([0.30, 0.40, 0.50, 0.65])
#: Minimum inter-packet time T_off per state [ms], TS 102 687 V1.2.1 Annex A (T_on <= 1 ms) [K].
T_OFF_MS = np.array([100, 200, 400, 500, 1000], dtype=np.int64)
STATE_NAMES = ("relaxed", "active_1", "active_2", "active_3", "restrictive")
#: CBR averaging window [ms] (3GPP CBR: the last 100 ms).
CBR_WINDOW_MS = 100


def dcc_state(cbr: FloatArray) -> NDArray[np.int8]:
    """Reactive DCC state (index into `STATE_NAMES`) of each CBR in [0, 1]."""
    return np.searchsorted(CBR_THRESHOLDS, np.asarray(cbr, dtype=np.float64),
                           side="right").astype(np.int8)


def min_interval_ms(cbr: FloatArray) -> IntArray:
    """T_off [ms] for each CBR: the minimum time between two BSMs of a vehicle."""
    return T_OFF_MS[dcc_state(cbr)]


class ReactiveDcc:
    """Per-vehicle reactive DCC state, as columns keyed by vehicle id (sorted)."""

    def __init__(self, batch_ms: int) -> None:
        #: Batches averaged into the 100 ms CBR.
        self.window = max(1, -(-CBR_WINDOW_MS // batch_ms))
        self.vid = np.empty(0, np.int64)
        self.cbr_hist = np.zeros((0, self.window))  # last `window` batch CBRs, newest last
        self.n_hist = np.zeros(0, np.int64)  # how many of them are filled
        self.last_sent_ms = np.empty(0, np.int64)
        self.state = np.empty(0, np.int8)

    def _rows(self, vids: IntArray) -> tuple[IntArray, NDArray[np.bool_]]:
        pos = np.minimum(np.searchsorted(self.vid, vids), max(len(self.vid) - 1, 0))
        known = (self.vid[pos] == vids) if len(self.vid) else np.zeros(len(vids), bool)
        return pos, known

    def sync(self, vids: IntArray) -> None:
        """Keeps the vehicles `vids` (ascending), adding new ones as relaxed with no history."""
        pos, known = self._rows(vids)
        n = len(vids)
        hist = np.zeros((n, self.window))
        n_hist = np.zeros(n, np.int64)
        last = np.full(n, np.iinfo(np.int64).min // 2, np.int64)
        state = np.zeros(n, np.int8)
        hist[known] = self.cbr_hist[pos[known]]
        n_hist[known] = self.n_hist[pos[known]]
        last[known] = self.last_sent_ms[pos[known]]
        state[known] = self.state[pos[known]]
        self.vid, self.cbr_hist, self.n_hist, self.last_sent_ms, self.state = (
            np.asarray(vids, np.int64).copy(), hist, n_hist, last, state)

    def gate(self, gen_vid: IntArray, gen_ms: IntArray) -> NDArray[np.bool_]:
        """Which of the BSMs (vehicle, generation time), sorted by time, are sent; updates the
        last-sent times. Vehicles not synced are not limited."""
        keep = np.ones(len(gen_vid), bool)
        if len(gen_vid) == 0:
            return keep
        pos, known = self._rows(gen_vid)
        idx = np.flatnonzero(known)
        # Rounds by packet rank within a vehicle (rank r = the vehicle's r-th BSM of the batch).
        order = idx[np.lexsort((gen_ms[idx], gen_vid[idx]))]
        v = gen_vid[order]
        first = np.ones(len(order), bool)
        first[1:] = v[1:] != v[:-1]
        at = np.arange(len(order))
        rank = at - np.maximum.accumulate(np.where(first, at, 0))
        for r in range(int(rank.max(initial=-1)) + 1):
            k = order[rank == r]
            row = pos[k]
            ok = gen_ms[k] - self.last_sent_ms[row] >= T_OFF_MS[self.state[row]]
            keep[k] = ok
            self.last_sent_ms[row[ok]] = gen_ms[k][ok]
        return keep

    def update(self, vids: IntArray, cbr: FloatArray) -> None:
        """Adds one batch's CBR of the vehicles `vids` and re-evaluates their states."""
        pos, known = self._rows(vids)
        row = pos[known]
        self.cbr_hist[row] = np.roll(self.cbr_hist[row], -1, axis=1)
        self.cbr_hist[row, -1] = cbr[known]
        self.n_hist[row] = np.minimum(self.n_hist[row] + 1, self.window)
        filled = np.arange(self.window)[None, :] >= self.window - self.n_hist[row][:, None]
        mean = (self.cbr_hist[row] * filled).sum(axis=1) / self.n_hist[row]
        self.state[row] = dcc_state(mean)
