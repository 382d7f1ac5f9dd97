"""What SPAT + MAP tell a vehicle: which stop line of which signal it approaches, the colour at
any future time, and the next green window (SPAT phaseStates carry startTime, likelyEndTime and
nextStartTime; a fixed-time plan makes them exact)."""

from __future__ import annotations

import numpy as np

from sim.core.signals import SignalTable
from sim.radio.messages import MsgType
from vehicles.apps.base import AppContext, FloatArray, IntArray, Receptions


def colors_at(signals: SignalTable, t_ms: FloatArray, sig: IntArray, group: IntArray) -> IntArray:
    """Colour of approach `group` at `sig` at per-entry times `t_ms` (vectorized)."""
    return signals.colors(np.asarray(t_ms, np.float64), sig, group)


def green_window_ms(signals: SignalTable, t_ms: FloatArray, sig: IntArray, group: IntArray
                    ) -> tuple[FloatArray, FloatArray]:
    """From `t_ms`: time until the (current or next) green of the approach starts (0 if green now)
    and until that green ends."""
    cyc = signals.cycle_ms[sig].astype(np.float64)
    t = np.mod(np.asarray(t_ms, np.float64) - signals.offset_ms[sig], cyc)
    start, until, mine = signals.green_phases(sig, group)
    g0, g1 = start.astype(np.float64), until.astype(np.float64)
    # Green intervals of this cycle and the next, relative to t.
    s = np.concatenate([g0, g0 + cyc[:, None]], axis=1) - t[:, None]
    e = np.concatenate([g1, g1 + cyc[:, None]], axis=1) - t[:, None]
    ok = np.concatenate([mine, mine], axis=1) & (e > 0)
    s = np.where(ok, s, np.inf)
    k = np.argmin(s, axis=1)
    rows = np.arange(len(sig))
    return np.maximum(s[rows, k], 0.0), np.where(ok[rows, k], e[rows, k], np.inf)


def approaching(ctx: AppContext, rec: Receptions, range_m: float
                ) -> tuple[Receptions, IntArray, IntArray, FloatArray]:
    """SPAT receptions whose signal is the next stop line ahead of the host within `range_m`.
    Returns them, the signal, the approach group and the distance to the stop line."""
    sl, sigs = ctx.stop_lines, ctx.signals
    empty = (rec.subset(np.zeros(len(rec), bool)), np.empty(0, np.int64), np.empty(0, np.int64),
             np.empty(0))
    if sl is None or sigs is None or ctx.rsu_signal is None or len(sl.route) == 0:  # type: ignore[attr-defined]
        return empty
    rec = rec.subset((rec.msg_type == int(MsgType.SPAT)) & (rec.tx_rsu >= 0))
    if len(rec) == 0:
        return empty
    served = ctx.rsu_signal[rec.tx_rsu]
    t = ctx.table
    idx, gap = sl.next_ahead(t["route"][rec.rx_row], t["s_m"][rec.rx_row])  # type: ignore[attr-defined]
    sig_ahead = np.where(idx >= 0, sl.signal[np.maximum(idx, 0)], -1)  # type: ignore[attr-defined]
    ok = (served >= 0) & (sig_ahead == served) & (gap <= range_m)
    group = sl.group[np.maximum(idx, 0)]  # type: ignore[attr-defined]
    return rec.subset(ok), served[ok], group[ok], gap[ok]
