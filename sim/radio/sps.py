"""LTE-V2X PC5 Mode 4 semi-persistent scheduling (TS 36.213 §14.1.1.6, TS 36.321 §5.14.1.1).

Each equipped vehicle owns a *slot* in fixed-capacity state arrays (slots are reused when vehicles
leave), holding its reservation, its reselection counter and its sensing memory over the last
`sensing_window_ms`:
- `sci_key[offset, subch, slot]`: the latest (and then strongest) SCI decoded at that subframe
  offset (mod 100 ms, the P_step of the projection) and subchannel, packed as
  time_ms * 1000 + PSSCH-RSRP + 500 in one float64 (slot last: one SCI updates a contiguous row);
- `rssi_mw[slot, offset, subch]` (float32): S-RSSI, an exponential average over the last ~10
  periods (the "linear average over past subframes y - 100 j" of step 5);
- `own_tx_ms[slot, offset]`: when the UE itself transmitted at that offset (it could not sense
  there: half-duplex, step 2).

Selection (steps 1-6) is vectorized over all UEs that reselect in a batch: candidate grids of
(window subframe x start subchannel), RSRP exclusion with +3 dB relaxation until X = 20 % remain,
S-RSSI ranking to the best 20 % (LTE) or none (NR Mode 2), then a uniform pick. Counters (step 7),
P_keep (step 8) and the latency-budget trigger (step 9) run on whole columns. Sensing updates
(`observe`) run in `sim.radio.sensing_kernel` (numba) when available, bit-identical to the numpy
code kept here. Memory per UE: 100 x n_subch x 12 B (about 6 kB at 5 subchannels).

Exclusion (step 6) uses the SCIs of the last reservation period only (`sci_memory`): an SCI
projects its sender's reservation forward, and a resource the sender has since left is free again.

Known simplification: sensing memory is updated once per radio batch, so a selection made inside
a batch does not yet see the SCIs of that same batch (at most `batch_ms` of staleness); the
exclusion's reservation period is counted back from the last observed subframe, so a reservation
heard just before the batch still excludes its resource.

Why one long module: the selection steps 1-10 act on the same state arrays (reservations,
counters, sensing memory), and the procedure reads best as one sequence against the standard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from sim.radio import kernel, sensing_kernel
from sim.radio import threads as radio_threads
from sim.radio.kernel import HAVE_NUMBA

if TYPE_CHECKING:
    from sim.radio.sidelink import BatchResult, Transmissions

IntArray = NDArray[np.int64]

#: The period on which reservations are projected (P_step, TS 36.213), in subframes.
P_STEP_MS = 100


def counter_range(rri_ms: int) -> tuple[int, int]:
    """SL_RESOURCE_RESELECTION_COUNTER bounds: [5,15] at RRI >= 100, [10,30] at 50, [25,75] at 20."""
    if rri_ms >= 100:
        return 5, 15
    if rri_ms >= 50:
        return 10, 30
    return 25, 75


@dataclass(frozen=True)
class SpsParams:
    n_subchannels: int
    t1_ms: int = 1
    t2_ms: int = 100
    rri_ms: int = 100
    p_keep: float = 0.0
    rsrp_threshold_dbm: float = -110.0
    threshold_step_db: float = 3.0
    candidate_fraction: float = 0.2
    sensing_window_ms: int = 1000
    rssi_ranking: bool = True  # LTE Mode 4; False = NR Mode 2 (random among remaining)
    # NR Mode 2 per-priority X (TS 38.214 §8.1.4; `sl-TxPercentageList` of TS 38.331): the share of
    # candidates that must remain for a packet of priority 1..8 (index priority - 1); None: the
    # single `candidate_fraction` for every priority (LTE Mode 4 always uses 20 %).
    candidate_fraction_by_priority: tuple[float, ...] | None = None
    rsrp_per_re: bool = True  # PSSCH-RSRP per resource element (3GPP); False: total power (GM-2019)
    subchannel_size_prb: int = 10
    overlap_allowed: bool = False  # may resources start at any subchannel, or only at multiples of L
    latency_budget_ms: int = 100
    # Which decoded SCIs exclude a candidate (step 6). "reservation" (TS 36.213 §14.1.1.6): an SCI
    # received at m reserves m + q P_rsvp, q = 1..Q (Q = 100/P_rsvp if n - m <= P_rsvp, else 1), so
    # only SCIs of the last reservation period reach the selection window. "window": any SCI of the
    # last sensing_window_ms keeps its resource excluded (also resources its sender has left).
    sci_memory: str = "reservation"


class SpsScheduler:
    """Semi-persistent scheduling for every equipped vehicle, as columns."""

    # Per-slot state arrays, (re)created by `_alloc` (through setattr, to grow them in one place).
    capacity: int
    res_sf: NDArray[np.int64]  # [slot] next reserved subframe (absolute ms), -1 = none
    res_start: NDArray[np.int64]  # [slot] first subchannel of the reservation
    res_len: NDArray[np.int64]  # [slot] subchannels of the reservation
    counter: NDArray[np.int64]  # [slot] reselection counter
    sci_key: NDArray[np.float64]  # [offset, subch, slot] latest SCI, packed (see module docstring)
    rssi_mw: NDArray[np.float32]  # [slot, offset, subch] S-RSSI average
    own_tx_ms: NDArray[np.int64]  # [slot, offset] last own transmission at that offset
    free: NDArray[np.bool_]  # [slot] slot unused

    def __init__(self, params: SpsParams, rng: np.random.Generator, capacity: int = 256,
                 use_numba: bool | None = None) -> None:
        if params.rri_ms > P_STEP_MS or P_STEP_MS % params.rri_ms:
            raise ValueError("rri_ms must divide 100 (20, 50 or 100 ms)")
        self.p = params
        self.rng = rng
        # Sensing updates through sim.radio.sensing_kernel (bit-identical to the numpy code below).
        self.use_numba = HAVE_NUMBA if use_numba is None else use_numba and HAVE_NUMBA
        self.vid = np.empty(0, np.int64)  # owners of the slots in use, ascending
        self.slot_of = np.empty(0, np.int64)  # slot of each entry of `vid`
        self._alloc(capacity)
        self.reselections = 0
        self.threshold_raises = 0
        self.sensed_until_ms: int | None = None  # sensing memory complete up to here (observe)

    # ------------------------------------------------------------------ slots
    def _alloc(self, capacity: int) -> None:
        c, n_sc = capacity, self.p.n_subchannels
        old = getattr(self, "capacity", 0)

        def grow(name: str, shape: tuple[int, ...], dtype: type, fill: float) -> None:
            new: NDArray[np.generic] = np.full((c, *shape), fill, dtype=dtype)
            if old:
                new[:old] = getattr(self, name)
            setattr(self, name, new)

        never = np.iinfo(np.int64).min // 2
        grow("res_sf", (), np.int64, -1)  # next reserved subframe (absolute ms), -1 = none
        grow("res_start", (), np.int64, 0)
        grow("res_len", (), np.int64, 0)
        grow("counter", (), np.int64, 0)
        # Latest SCI per cell, packed as time_ms * 1000 + (rsrp_dbm + 500): one np.maximum.at keeps
        # the latest (and, within a subframe, the strongest) SCI without sorting. Stored
        # [offset, subch, slot]: one transmission's SCI lands in one contiguous row of receivers.
        sci = np.full((P_STEP_MS, n_sc, c), -np.inf)
        if old:
            sci[:, :, :old] = self.sci_key
        self.sci_key = sci
        grow("rssi_mw", (P_STEP_MS, n_sc), np.float32, 0.0)
        grow("own_tx_ms", (P_STEP_MS,), np.int64, never)
        grow("free", (), bool, True)
        self.capacity = c

    def _reset(self, slots: IntArray) -> None:
        never = np.iinfo(np.int64).min // 2
        self.res_sf[slots] = -1
        self.counter[slots] = 0
        self.sci_key[:, :, slots] = -np.inf
        self.rssi_mw[slots] = 0.0
        self.own_tx_ms[slots] = never

    def sync(self, vids: IntArray) -> IntArray:
        """Frees the slots of vehicles gone, gives new vehicles a slot; returns slots of `vids`."""
        if len(self.vid):
            pos = np.minimum(np.searchsorted(vids, self.vid), max(len(vids) - 1, 0))
            alive = (vids[pos] == self.vid) if len(vids) else np.zeros(len(self.vid), bool)
            self.free[self.slot_of[~alive]] = True
            self.vid, self.slot_of = self.vid[alive], self.slot_of[alive]
        pos = np.minimum(np.searchsorted(self.vid, vids), max(len(self.vid) - 1, 0))
        known = (self.vid[pos] == vids) if len(self.vid) else np.zeros(len(vids), bool)
        new = vids[~known]
        if len(new):
            free = np.flatnonzero(self.free)
            if len(free) < len(new):
                self._alloc(max(2 * self.capacity, self.capacity + len(new) - len(free)))
                free = np.flatnonzero(self.free)
            slots = free[: len(new)]
            self.free[slots] = False
            self._reset(slots)
            self.vid = np.concatenate([self.vid, new])
            self.slot_of = np.concatenate([self.slot_of, slots])
            order = np.argsort(self.vid, kind="stable")
            self.vid, self.slot_of = self.vid[order], self.slot_of[order]
        return self.slot_of[np.searchsorted(self.vid, vids)]

    # ------------------------------------------------------------------ scheduling
    def assign(self, slots: IntArray, gen_ms: IntArray, n_subch: IntArray,
               priority: IntArray | None = None) -> tuple[IntArray, IntArray]:
        """(subframe, start subchannel) for packets of UEs `slots` generated at `gen_ms`, with
        SL priority 1 (highest) .. 8 per packet (None: all priority 1; only per-priority X reads it).

        Packets must arrive in time order per UE (at most one per UE per call is typical).
        """
        p = self.p
        prio = np.ones(len(slots), np.int64) if priority is None else np.asarray(priority)
        subframe = np.empty(len(slots), np.int64)
        start = np.empty(len(slots), np.int64)
        # Process in rounds so that a UE with two packets in one call uses its updated state.
        order = np.lexsort((gen_ms, slots))
        first_of_ue = np.ones(len(order), bool)
        first_of_ue[1:] = slots[order][1:] != slots[order][:-1]
        pos = np.arange(len(order))
        rank = pos - np.maximum.accumulate(np.where(first_of_ue, pos, 0))  # packet index in its UE
        for r in range(int(rank.max(initial=-1)) + 1):
            idx = order[rank == r]
            s, g, L, pr = slots[idx], gen_ms[idx], n_subch[idx], prio[idx]
            has = self.res_sf[s] >= 0
            # Next occurrence of the reservation at or after gen + T1.
            nxt = self.res_sf[s] + np.maximum(
                0, -(-(g + p.t1_ms - self.res_sf[s]) // p.rri_ms)
            ) * p.rri_ms
            ok = has & (self.counter[s] > 0) & (self.res_len[s] == L) & (nxt - g <= p.latency_budget_ms)
            resel = ~ok
            if resel.any():
                self.reselections += int(resel.sum())
                sf_new, x_new = self.select(s[resel], g[resel], L[resel], pr[resel])
                lo, hi = counter_range(p.rri_ms)
                s_r = s[resel]
                self.res_sf[s_r] = sf_new
                self.res_start[s_r] = x_new
                self.res_len[s_r] = L[resel]
                self.counter[s_r] = self.rng.integers(lo, hi + 1, size=len(s_r))
                nxt[resel] = sf_new
            subframe[idx] = nxt
            start[idx] = self.res_start[s]
            self.res_sf[s] = nxt + p.rri_ms
            self.counter[s] -= 1
            # Step 8: at counter 0, keep the resource with P_keep (new counter) or reselect next time.
            done = self.counter[s] == 0
            if done.any():
                keep = self.rng.random(int(done.sum())) < p.p_keep
                lo, hi = counter_range(p.rri_ms)
                s_d = s[done]
                self.counter[s_d[keep]] = self.rng.integers(lo, hi + 1, size=int(keep.sum()))
        return subframe, start

    def _starts(self, L: int) -> IntArray:
        n_sc = self.p.n_subchannels
        step = 1 if self.p.overlap_allowed else L
        return np.arange(0, n_sc - L + 1, step)

    def select(self, slots: IntArray, n_ms: IntArray, n_subch: IntArray,
               priority: IntArray | None = None) -> tuple[IntArray, IntArray]:
        """Steps 1-6 for UEs `slots` triggered at subframes `n_ms` for packets of `priority`
        (1..8, None: 1): (subframe, start subchannel)."""
        out_sf = np.empty(len(slots), np.int64)
        out_x = np.empty(len(slots), np.int64)
        x = self.candidate_fraction(np.ones(len(slots), np.int64) if priority is None
                                    else np.asarray(priority))
        for L in np.unique(n_subch):
            m = n_subch == L
            sf, start = self._select_len(slots[m], n_ms[m], int(L), x[m])
            out_sf[m], out_x[m] = sf, start
        return out_sf, out_x

    def candidate_fraction(self, priority: IntArray) -> NDArray[np.float64]:
        """X per packet: the share of candidates that must remain after exclusion (step 4)."""
        by_prio = self.p.candidate_fraction_by_priority
        if by_prio is None:
            return np.full(len(priority), self.p.candidate_fraction)
        if np.any((priority < 1) | (priority > len(by_prio))):
            raise ValueError(f"SL priority must be 1..{len(by_prio)}, got {priority.min()}..."
                             f"{priority.max()}")
        return np.asarray(by_prio, dtype=np.float64)[priority - 1]

    def _select_len(self, slots: IntArray, n_ms: IntArray, L: int,
                    fraction: NDArray[np.float64]) -> tuple[IntArray, IntArray]:
        p = self.p
        k = len(slots)
        starts = self._starts(L)
        win = np.arange(p.t1_ms, p.t2_ms + 1)
        cand_sf = n_ms[:, None] + win[None, :]  # (K, W) absolute subframes
        off = cand_sf % P_STEP_MS
        if p.sci_memory == "window":
            fresh_after = (n_ms - p.sensing_window_ms)[:, None, None]
        else:
            # The last reservation period before what the memory has seen: SCIs after the batch
            # start are not observed yet, and a reservation heard just before it still holds.
            seen = n_ms if self.sensed_until_ms is None else np.minimum(n_ms, self.sensed_until_ms)
            fresh_after = (seen - p.rri_ms)[:, None, None]
        rows = slots[:, None]
        # Candidate RSRP: strongest fresh SCI over the subchannels each candidate covers.
        key = self.sci_key[off, :, rows]  # (K, W, n_sc): the separated advanced indices go first
        sci_ms = np.floor(key / 1000.0)
        with np.errstate(invalid="ignore"):  # -inf keys (never heard) unpack to NaN: masked out
            rsrp = np.where(sci_ms >= fresh_after, key - sci_ms * 1000.0 - 500.0, -np.inf)
        rssi = self.rssi_mw[rows, off]  # (K, W, n_sc)
        cover = np.stack([rsrp[:, :, starts + j] for j in range(L)], axis=-1).max(axis=-1)
        energy = np.stack([rssi[:, :, starts + j] for j in range(L)], axis=-1).mean(axis=-1)
        # Step 2: subframes whose offset the UE did not monitor (it transmitted there).
        unmonitored = self.own_tx_ms[rows, off] >= (n_ms - p.sensing_window_ms)[:, None]
        if p.rri_ms < P_STEP_MS:
            # An own reservation every rri_ms also blocks the offsets rri_ms apart.
            for j in range(1, P_STEP_MS // p.rri_ms):
                shifted = (off + j * p.rri_ms) % P_STEP_MS
                unmonitored |= self.own_tx_ms[rows, shifted] >= (n_ms - p.sensing_window_ms)[:, None]
        allowed = ~unmonitored[:, :, None] & np.ones((1, 1, len(starts)), bool)
        m_total = allowed.shape[1] * allowed.shape[2]
        need = np.ceil(fraction * m_total).astype(np.int64)  # X of M_total, per UE
        # Steps 3-4: exclusion with +3 dB relaxation until X of M_total remain.
        threshold = np.full(k, p.rsrp_threshold_dbm)
        remaining = allowed & (cover <= threshold[:, None, None])
        short = remaining.sum(axis=(1, 2)) < need
        for _ in range(200):
            if not short.any():
                break
            self.threshold_raises += int(short.sum())
            threshold[short] += p.threshold_step_db
            remaining[short] = allowed[short] & (cover[short] <= threshold[short, None, None])
            short = remaining.sum(axis=(1, 2)) < need
        # If half-duplex exclusion alone leaves too few, every candidate is allowed again.
        remaining[remaining.sum(axis=(1, 2)) < need] = True
        flat_ok = remaining.reshape(k, -1)
        u = self.rng.random((k, flat_ok.shape[1]))
        if p.rssi_ranking:
            # Step 5: the `need` candidates of lowest S-RSSI (ties broken at random), then step 6.
            score = np.where(flat_ok, energy.reshape(k, -1), np.inf)
            order = _rowwise_lexsort(score, u)
            pick = order[np.arange(k), self.rng.integers(0, need, size=k)]
        else:
            # NR Mode 2: uniform among all remaining candidates.
            pick = np.argmax(np.where(flat_ok, u, -1.0), axis=1)
        w_idx, x_idx = np.divmod(pick, len(starts))
        return cand_sf[np.arange(k), w_idx], starts[x_idx]

    # ------------------------------------------------------------------ sensing
    def observe(self, slots: IntArray, result: BatchResult, tx: Transmissions, t0_ms: int,
                noise_subch_mw: NDArray[np.float64], sci_hold_ms: IntArray | None = None) -> None:
        """Learns from one evaluated batch; `slots` are the SPS slots of the batch's first nodes
        (the vehicles; RSU nodes after them do not run SPS).

        `sci_hold_ms` (a multiple of P_STEP_MS per transmission, None = 0): how much longer than
        one P_step the SCI's reservation is announced (P_rsvp - 100 ms). Congestion control
        (sim.radio.dcc) sends every T_off = P_rsvp; an SCI heard at t_m is stored as if heard at
        t_m + hold, so the exclusion's freshness test (t >= seen - rri) keeps its resource
        excluded until t_m + P_rsvp, on the same subframe offset."""
        n_v = len(slots)
        sci_sf = tx.subframe_ms if sci_hold_ms is None else tx.subframe_ms + sci_hold_ms
        self.sensed_until_ms = t0_ms + result.power_mw.shape[0]
        own = tx.node < n_v
        self.record_own(slots[tx.node[own]], tx.subframe_ms[own])
        if self.use_numba:
            n_sc = self.p.n_subchannels
            offset_db = np.zeros(n_sc + 1)  # PSSCH-RSRP per RE: minus 10 log10(REs per symbol)
            if self.p.rsrp_per_re:
                n_re = 12.0 * np.arange(1, n_sc + 1) * self.p.subchannel_size_prb
                offset_db[1:] = 10.0 * np.log10(n_re)
            # Exact links, then the far SCIs (a memory cell keeps a maximum: order-free, so the
            # two need no joining).
            for links in (result.links, result.sensed):
                if links is None or len(links.tx) == 0:
                    continue
                chunks = (radio_threads.split(n_v, kernel.MIN_RECEIVERS_PER_CHUNK)
                          if len(links.tx) > kernel.MIN_LINKS_PER_CHUNK else [(0, n_v)])
                radio_threads.run(
                    sensing_kernel.observe_sci, chunks,
                    self.sci_key, np.ascontiguousarray(slots, np.int64), n_v, links.tx, links.rx,
                    links.rx_power_dbm, links.sci_ok, np.ascontiguousarray(tx.node, np.int64),
                    np.ascontiguousarray(sci_sf, np.int64),
                    np.ascontiguousarray(tx.subch_start, np.int64),
                    np.ascontiguousarray(tx.n_subch, np.int64), offset_db, P_STEP_MS,
                    self.p.rri_ms)
            sensing_kernel.record_rssi(self.rssi_mw, np.ascontiguousarray(slots, np.int64), t0_ms,
                                       P_STEP_MS, result.power_mw, noise_subch_mw,
                                       result.transmitting, 0.1)
            return
        links = result.sensing_links()
        heard = links.sci_ok & (links.rx < n_v) & (tx.node[links.tx] < n_v)
        t = links.tx[heard]
        rsrp = links.rx_power_dbm[heard]
        if self.p.rsrp_per_re:
            rsrp = rsrp - 10.0 * np.log10(12.0 * tx.n_subch[t] * self.p.subchannel_size_prb)
        self.record_sci(slots[links.rx[heard]], sci_sf[t], tx.subch_start[t], tx.n_subch[t], rsrp)
        rssi = result.power_mw[:, :, :n_v] + noise_subch_mw[None, None, :n_v]
        self.record_rssi(slots, t0_ms, rssi, result.transmitting[:, :n_v])

    def record_own(self, slots: IntArray, subframe_ms: IntArray) -> None:
        self.own_tx_ms[slots, subframe_ms % P_STEP_MS] = subframe_ms

    def record_sci(self, rx_slots: IntArray, subframe_ms: IntArray, start: IntArray,
                   n_subch: IntArray, rsrp_dbm: NDArray[np.float64]) -> None:
        """Remembers decoded SCIs (their reservation every RRI, projected on the 100 ms grid)."""
        if len(rx_slots) == 0:
            return
        if self.use_numba:
            sensing_kernel.record_sci(
                self.sci_key, np.ascontiguousarray(rx_slots, np.int64),
                np.ascontiguousarray(subframe_ms, np.int64), np.ascontiguousarray(start, np.int64),
                np.ascontiguousarray(n_subch, np.int64), np.ascontiguousarray(rsrp_dbm, np.float64),
                P_STEP_MS, self.p.rri_ms)
            return
        n_sc = self.p.n_subchannels
        reps = P_STEP_MS // self.p.rri_ms
        packed = subframe_ms * 1000.0 + (np.clip(rsrp_dbm, -499.0, 499.0) + 500.0)
        flat = self.sci_key.reshape(-1)
        cap = self.capacity
        for j in range(int(n_subch.max())):
            m = n_subch > j
            for r in range(reps):
                off = (subframe_ms[m] + r * self.p.rri_ms) % P_STEP_MS
                np.maximum.at(flat, (off * n_sc + start[m] + j) * cap + rx_slots[m], packed[m])

    def record_rssi(self, slots: IntArray, t0_ms: int, rssi_mw: NDArray[np.float64],
                    transmitted: NDArray[np.bool_], alpha: float = 0.1) -> None:
        """S-RSSI of a batch, `rssi_mw[subframe, subch, i]` for UE i, except where it transmitted."""
        # Up to 100 subframes have distinct offsets mod P_STEP_MS, so each (slot, offset) cell is
        # written once per chunk and the whole chunk updates in one gather/scatter.
        for c0 in range(0, rssi_mw.shape[0], P_STEP_MS):
            chunk = slice(c0, c0 + P_STEP_MS)
            sf_i, ue_i = np.nonzero(~transmitted[chunk])
            sl = slots[ue_i]
            off = (t0_ms + c0 + sf_i) % P_STEP_MS
            old = self.rssi_mw[sl, off, :]
            new = rssi_mw[chunk][sf_i, :, ue_i].astype(np.float32)
            first = old.sum(axis=1) == 0.0
            self.rssi_mw[sl, off, :] = np.where(first[:, None], new, (1 - alpha) * old + alpha * new)


def _rowwise_lexsort(score: NDArray[np.float64], tie: NDArray[np.float64]) -> IntArray:
    """Per row: indices sorted by score, ties by `tie` (argsort of score + tiny tie offset)."""
    order = np.argsort(tie, axis=1, kind="stable")
    s = np.take_along_axis(score, order, axis=1)
    inner = np.argsort(s, axis=1, kind="stable")
    return np.take_along_axis(order, inner, axis=1)
