"""The fused numba kernel of the batched sidelink step (the fast path of `evaluate_batch`).

Why numba (issue #3 accepts it for the hot kernel): the numpy path (`sim.radio.sidelink`)
materialises ~25 float64 temporaries per (transmission, receiver) link - neighbour pairs,
positions, hashes, path loss, grid indices - so at 10,000 vehicles one 20 ms batch (2.9 M links)
peaks at ~1.2 GB. Here each link is computed in registers in a few passes over the batch, which
on the expressway benchmark takes ~1.9x less CPU at 1,000 vehicles and less than half the peak
memory at 10,000 (bench/test_bench_scale.py). What remains is per-link arithmetic (~100 ns:
log10 path loss, two inverse-CDF normals, one exp), so the cost is linear in
links and, at 10,000 vehicles and a 1500 m range, ~135 M links per simulated second.

1. *pairs*: receivers are binned in square cells of (range + movement margin); each transmission
   looks at its 3x3 cells (and the ring's images with `wrap_m`) for the receivers within
   `interference_range_m` at its own subframe. Nodes are numbered in cell order inside the step
   (receiver columns and the grid are then read nearly sequentially) and mapped back at the end.
   Links are appended in one pass into buffers sized from the previous batch, which grow and
   resume when full; with several threads each takes a contiguous chunk of transmissions and
   the chunks are joined in order;
2. *channel*: distance, path loss, LOS/NLOSv and shadowing draws (the same counter-based hashes as
   `sim.radio.channel`, so the channel is bit-for-bit the same model), received power;
   then, in link order (deterministic sums; threads split the subframes), each link adds its
   power to the per-(subframe, subchannel, receiver) grid once;
3. *SINR*: each link's interference is its band's grid total minus its own signal (O(links), not
   O(tx^2 x rx)), then half-duplex, sensitivity, SCI and decoding (threshold or BLER curve with the
   keyed uniform of `decode_ok`), and the loss reason in the numpy path's precedence.

Peak memory is the link outputs (~50 B/link; with several threads the first chunk's buffers have
room for all, the others' come on top until they are copied in) plus the grid (twice, while it is
mapped back to the caller's node order). By default no cut beyond
`interference_range_m` is applied: on TR 37.885 highway at 23 dBm a link at 1500 m still arrives
~2 dB (NLOSv mean) to 17 dB (LOS) above the 20-PRB noise floor, so nothing inside the range is
negligible. `link_range_m` (`radio.link_range_m`) makes links beyond it *far*: one keyed
log-normal draw given the link's LOS state from a per-distance table (`channel.far_loss_table`: the
drawn channel's mean and variance of linear gain per state) instead of the blockage and shadowing
draws, added to the grid after
the exact links, then an SCI test for sensing (`_far_sci_pass`); no SINR, no decoding, no output
row. Results agree with
the scalar reference `sim.radio.reference` link for link (tests/test_sidelink.py,
tests/test_radio_kernel.py); libm vs numpy's SIMD transcendental functions and the order of the
grid sums differ in the last bits, so powers and SINRs agree with the numpy path to ~1e-12 dB, not
bit for bit. Reruns of the kernel itself are byte-identical for any thread count (no thread writes
a value another thread reads in the same pass).

Gudmundson-correlated shadowing (`ChannelModel.shadowing_correlation`) runs here too, with the
same keyed AR(1) sum as `sim.radio.channel.gudmundson_normal` (25 normal draws per link).

Threads: `sim.radio.threads` (all cores this process may use, at most 8; `V2XSIM_THREADS`).
`HAVE_NUMBA` is False when numba is not installed; `evaluate_batch` then uses the numpy path.

Why one long module: numba fuses the passes into one compiled kernel so that a link lives in
registers; the passes share private helpers (hashes, inverse normal) that must stay bit-identical
to `sim.radio.channel`, and splitting them across modules would split what is compiled together.
"""

from __future__ import annotations

import math

import numpy as np

from sim.core import normal_quantile as nq
from sim.core.rng import BELOW_ONE, hash_keys
from sim.radio import threads as radio_threads
from sim.radio.channel import (
    FAR_TABLE_STEP_M,
    GUDMUNDSON_CELLS_PER_DCORR,
    far_loss_table,
    gudmundson_weights,
)

try:  # numba is a dependency, but the numpy path keeps working without it
    import numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only on installs without numba
    numba = None  # type: ignore[assignment]
    HAVE_NUMBA = False


def _njit():  # type: ignore[no-untyped-def]
    """numba.njit with the on-disk cache, releasing the GIL (the thread chunks of
    `sim.radio.threads` run these kernels side by side), or the plain function without numba."""
    def wrap(fn):  # type: ignore[no-untyped-def]
        if not HAVE_NUMBA:
            return fn
        return numba.njit(cache=True, nogil=True, error_model="numpy")(fn)

    return wrap


#: Path-loss model codes of the kernel (index into `sim.radio.channel.PATHLOSS_MODELS`).
PATHLOSS_CODES = {"tr37885-highway": 0, "tr37885-urban": 1, "winner-b1": 2, "winner-b1-gm2019": 3}

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TWO53 = float(2**53)
_C_MPS = 299_792_458.0
_TAG_LOS = np.uint64(0x4C4F53)
_TAG_NLOSV = np.uint64(0x4E4C5356)
_TAG_SHADOW = np.uint64(0x534841)
_TAG_GUDMUNDSON = np.uint64(0x47554450)
_TAG_FAR = np.uint64(0x464152)
_ZERO = np.uint64(0)
_LN10_OVER_10 = math.log(10.0) / 10.0
_NQ_A, _NQ_B, _NQ_C, _NQ_D, _NQ_E, _NQ_F = (
    np.array(c) for c in (nq.NUM_CENTRAL, nq.DEN_CENTRAL, nq.NUM_NEAR, nq.DEN_NEAR, nq.NUM_FAR,
                          nq.DEN_FAR))


@_njit()
def _splitmix64(x):  # type: ignore[no-untyped-def]
    z = x + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@_njit()
def _uniform(h):  # type: ignore[no-untyped-def]
    """`hash_uniform` of an already combined key h: (h >> 11) / 2^53."""
    return float(h >> _S11) / _TWO53


@_njit()
def _horner7(c, x):  # type: ignore[no-untyped-def]
    return ((((((c[7] * x + c[6]) * x + c[5]) * x + c[4]) * x + c[3]) * x + c[2]) * x + c[1]) * x \
        + c[0]


@_njit()
def _normal(h):  # type: ignore[no-untyped-def]
    """`hash_normal` of an already combined key h: AS 241 (`sim.core.normal_quantile.ppnd16`)
    of the hashed uniform, the same formula in the same order of operations."""
    p = min((float(h >> _S11) + 0.5) / _TWO53, BELOW_ONE)
    q = p - 0.5
    if abs(q) <= nq.SPLIT_CENTRAL:
        r = 0.180625 - q * q
        return q * _horner7(_NQ_A, r) / _horner7(_NQ_B, r)
    r = math.sqrt(-math.log(min(p, 1.0 - p)))
    if r <= nq.SPLIT_TAIL:
        r = r - 1.6
        mag = _horner7(_NQ_C, r) / _horner7(_NQ_D, r)
    else:
        r = r - nq.SPLIT_TAIL
        mag = _horner7(_NQ_E, r) / _horner7(_NQ_F, r)
    return -mag if q < 0.0 else mag


@_njit()
def _winner_b1_los_db(d_m, fc_ghz, h_tx, h_rx, floor):  # type: ignore[no-untyped-def]
    """`pathloss.winner_b1_los_db` for one distance."""
    d = max(d_m, 3.0)
    d_bp = 4.0 * h_tx * h_rx * fc_ghz * 1e9 / _C_MPS
    lg = math.log10(d)
    lf = math.log10(fc_ghz)
    if d < d_bp:
        pl = 22.7 * lg + 27.0 + 20.0 * lf
    else:
        pl = 40.0 * lg + 7.56 - 17.3 * math.log10(h_tx) - 17.3 * math.log10(h_rx) + 2.7 * lf
    if floor:
        pl = max(pl, 46.4 + 20.0 * lg + 20.0 * math.log10(fc_ghz / 5.0))
    return pl


@_njit()
def _gudmundson_normal(chan_key, lo, hi, travel_m, cell_m, weights):  # type: ignore[no-untyped-def]
    """`channel.gudmundson_normal` of one link: the AR(1) sum over the cell of travel_m."""
    pair = _splitmix64(_splitmix64(_splitmix64(_splitmix64(_ZERO ^ chan_key) ^ _TAG_GUDMUNDSON)
                                   ^ lo) ^ hi)
    cell = np.int64(math.floor(travel_m / cell_m))
    acc = 0.0
    for j in range(len(weights)):
        acc += weights[j] * _normal(_splitmix64(_splitmix64(_ZERO ^ pair) ^ np.uint64(cell - j)))
    return acc


@_njit()
def _link_loss_db(code, d2_m, h_tx, h_rx, key_a, key_b, pre_a, pre_b, epoch, chan_key, fc_ghz,
                  sigma_db, blocker_m, travel_m, cell_m, gud_weights):  # type: ignore[no-untyped-def]
    """One link of `ChannelModel.link_loss_db` (same formulas, same keyed draws) in coherence
    epoch `epoch` (subframe // coherence, computed once per transmission). Gudmundson shadowing
    when `cell_m` > 0 (cells of the travel coordinate, weights of the AR(1) sum)."""
    lo = min(key_a, key_b)
    hi = max(key_a, key_b)
    # hash_keys(chan_key, lo, hi, epoch), its first two rounds precomputed per node (`pre_*`);
    # `mixed` is the first round of every tagged draw, shared by the three purposes.
    link = _splitmix64(_splitmix64((pre_a if key_a < key_b else pre_b) ^ hi) ^ epoch)
    mixed = _splitmix64(link)
    lf = math.log10(fc_ghz)  # hoisted out of the loop by LLVM (fc is loop-invariant)
    if code == 2:
        loss = _winner_b1_los_db(d2_m, fc_ghz, 0.5, 0.5, False)
    elif code == 3:
        loss = _winner_b1_los_db(d2_m, fc_ghz, 1.5, 1.5, True)
    else:
        dh = h_tx - h_rx
        d3 = max(math.sqrt(d2_m * d2_m + dh * dh), 3.0)
        lg3 = math.log10(d3)
        if code == 0:
            if d2_m <= 475.0:
                p_los = min(1.0, 2.1013e-6 * d2_m * d2_m - 0.002 * d2_m + 1.0193)
            else:
                p_los = max(0.0, 0.54 - 0.001 * (d2_m - 475.0))
            loss = 32.4 + 20.0 * lg3 + 20.0 * lf
        else:
            p_los = min(1.0, 1.05 * math.exp(-0.0114 * d2_m))
            loss = 38.77 + 16.7 * lg3 + 18.2 * lf
        if not _uniform(_splitmix64(mixed ^ _TAG_LOS)) < p_los:
            # TR 37.885 NLOSv blockage: A = max(0, N(mu, sigma)). Equal antenna heights (the
            # usual V2V case) make d3 == d2 beyond 3 m: its log10 is the one already taken.
            lg2 = lg3 if d3 == d2_m else math.log10(max(d2_m, 1.0))
            excess = max(0.0, 15.0 * lg2 - 41.0)
            if h_tx > blocker_m and h_rx > blocker_m:
                mu, sd = 0.0, 0.0
            elif h_tx < blocker_m and h_rx < blocker_m:
                mu, sd = 9.0 + excess, 4.5
            else:
                mu, sd = 5.0 + excess, 4.0
            loss += max(0.0, mu + sd * _normal(_splitmix64(mixed ^ _TAG_NLOSV)))
    if sigma_db > 0.0 and cell_m > 0.0:
        loss = loss + sigma_db * _gudmundson_normal(chan_key, lo, hi, travel_m, cell_m, gud_weights)
    elif sigma_db > 0.0:
        loss = loss + sigma_db * _normal(_splitmix64(mixed ^ _TAG_SHADOW))
    return loss


@_njit()
def _interp(x, xs, ys, left, right):  # type: ignore[no-untyped-def]
    """np.interp(x, xs, ys, left, right) for one x (the BLER curve look-up)."""
    n = len(xs)
    if x < xs[0]:
        return left
    if x > xs[n - 1]:
        return right
    if x == xs[n - 1]:
        return ys[n - 1]
    if x != x:
        return x
    lo, hi = 0, n - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if xs[mid] <= x:
            lo = mid
        else:
            hi = mid
    slope = (ys[lo + 1] - ys[lo]) / (xs[lo + 1] - xs[lo])
    return slope * (x - xs[lo]) + ys[lo]


@_njit()
def _wrapped(dx, wrap_m):  # type: ignore[no-untyped-def]
    if wrap_m > 0.0:
        return (dx + 0.5 * wrap_m) % wrap_m - 0.5 * wrap_m
    return dx


@_njit()
def _distance(xy, vel, r, ax, ay, shift, dt, r2, range_m, wrap_m):  # type: ignore[no-untyped-def]
    """Distance from the transmitter (at `ax, ay` at its subframe) to receiver r, or -1 if beyond
    range. The image test (`shift`) keeps a receiver to one image of a ring; the distance itself
    is the nearest-image one of `sidelink.wrapped_dx`, as in the numpy path."""
    rx = xy[r, 0] + vel[r, 0] * dt
    dy = ay - (xy[r, 1] + vel[r, 1] * dt)
    dxi = ax + shift - rx
    if dxi * dxi + dy * dy > r2 * (1.0 + 1e-9):
        return -1.0
    dx = _wrapped(ax - rx, wrap_m)
    d = math.sqrt(dx * dx + dy * dy)  # not hypot: libm's overflow-safe hypot costs ~10 ns
    return d if d <= range_m else -1.0


@_njit()
def _cells(xy, cell_m):  # type: ignore[no-untyped-def]
    """Receivers sorted by cell key, the sorted keys, the grid origin and row width."""
    n = xy.shape[0]
    ox = xy[:, 0].min()
    oy = xy[:, 1].min()
    cx = np.empty(n, np.int64)
    cy = np.empty(n, np.int64)
    for i in range(n):
        cx[i] = int(math.floor((xy[i, 0] - ox) / cell_m))
        cy[i] = int(math.floor((xy[i, 1] - oy) / cell_m))
    width = cy.max() + 3
    keys = (cx + 1) * width + (cy + 1)
    order = np.argsort(keys, kind="mergesort")
    return order, keys[order], ox, oy, width


@_njit()
def _scan_tx(t, i, j, sxy, svel, height, txp_dbm, gain_dbi, key,
             pre, tx_node, tx_sf, sf0, range_m, cell_m, wrap_m, skeys, ox, oy, width,
             near_m, far_table, far_step_m, hclass, code, chan_key, fc_ghz, sigma_db,
             coherence_ms, blocker_m, odo, speed, shadow_cell_m, gud_weights, out_tx, out_rx,
             out_d, out_dbm, out_mw, far_tx, far_rx, far_mw, far_d):  # type: ignore[no-untyped-def]
    """The links of transmission t: exact ones (within `near_m`) written from output row i, far
    ones (one log-normal draw) from far row j (the caller leaves room for one of each per node);
    returns the rows after its last links."""
    n_img = 3 if wrap_m > 0.0 else 1
    r2 = range_m * range_m
    a = tx_node[t]
    sf = tx_sf[t]
    dt = (sf - sf0) / 1000.0
    epoch = np.uint64(sf // coherence_ms)
    ax = sxy[a, 0] + svel[a, 0] * dt
    ay = sxy[a, 1] + svel[a, 1] * dt
    for img in range(n_img):
        shift = 0.0 if img == 0 else (-wrap_m if img == 1 else wrap_m)
        cx = int(math.floor((sxy[a, 0] + shift - ox) / cell_m))
        cy = int(math.floor((sxy[a, 1] - oy) / cell_m))
        for ddx in range(-1, 2):
            for ddy in range(-1, 2):
                k = (cx + 1 + ddx) * width + (cy + 1 + ddy)
                lo = np.searchsorted(skeys, k, side="left")
                hi = np.searchsorted(skeys, k, side="right")
                for q in range(lo, hi):
                    r = q  # nodes are numbered in cell order
                    if r == a:
                        continue
                    d = _distance(sxy, svel, q, ax, ay, shift, dt, r2, range_m, wrap_m)
                    if d < 0.0:
                        continue
                    if d > near_m:
                        # `channel.far_link_loss_db`: median and sigma interpolated in
                        # the table, one keyed normal of the link's (pair, epoch) hash.
                        x = d / far_step_m
                        k = min(int(math.floor(x)), far_table.shape[2] - 2)
                        frac = x - k
                        ca, cr = hclass[a], hclass[r]
                        hi_key = max(key[a], key[r])
                        link = _splitmix64(_splitmix64(
                            (pre[a] if key[a] < key[r] else pre[r]) ^ hi_key) ^ epoch)
                        mixed = _splitmix64(link)
                        p_los = far_table[ca, cr, k, 0] + frac * (
                            far_table[ca, cr, k + 1, 0] - far_table[ca, cr, k, 0])
                        c = 1 if _uniform(_splitmix64(mixed ^ _TAG_LOS)) < p_los else 3
                        med = far_table[ca, cr, k, c] + frac * (
                            far_table[ca, cr, k + 1, c] - far_table[ca, cr, k, c])
                        sig = far_table[ca, cr, k, c + 1] + frac * (
                            far_table[ca, cr, k + 1, c + 1] - far_table[ca, cr, k, c + 1])
                        loss = med + sig * _normal(_splitmix64(mixed ^ _TAG_FAR))
                        far_tx[j] = t
                        far_rx[j] = r
                        far_d[j] = d
                        far_mw[j] = math.exp(
                            (txp_dbm[a] + gain_dbi[a] + gain_dbi[r] - loss) * _LN10_OVER_10)
                        j += 1
                        continue
                    travel = (odo[a] + odo[r] + (speed[a] + speed[r]) * dt
                              if shadow_cell_m > 0.0 else 0.0)
                    loss = _link_loss_db(code, d, height[a], height[r], key[a], key[r],
                                         pre[a], pre[r], epoch, chan_key, fc_ghz, sigma_db,
                                         blocker_m, travel, shadow_cell_m, gud_weights)
                    dbm = txp_dbm[a] + gain_dbi[a] + gain_dbi[r] - loss
                    out_tx[i] = t
                    out_rx[i] = r
                    out_d[i] = d
                    out_dbm[i] = dbm
                    out_mw[i] = math.exp(dbm * _LN10_OVER_10)
                    i += 1
    return i, j


@_njit()
def _channel_chunk(t_start, t_end, i, j, sxy, svel, height, txp_dbm, gain_dbi, key, pre,
                    tx_node, tx_sf, sf0, range_m, cell_m, wrap_m, skeys, ox, oy, width,
                    near_m, far_table, far_step_m, hclass, code, chan_key, fc_ghz, sigma_db,
                    coherence_ms, blocker_m, odo, speed, shadow_cell_m, gud_weights, out_tx,
                    out_rx, out_d, out_dbm, out_mw, far_tx, far_rx, far_mw, far_d):  # type: ignore[no-untyped-def]
    """Appends the links of transmissions t_start .. t_end - 1 from rows i (exact) and j (far)
    in one pass, and stops before a transmission whose links might not fit (each has fewer than
    one per node); returns (next transmission, i, j) so that the caller grows the buffers and
    resumes there instead of redoing the chunk."""
    n = len(sxy)
    need_far = near_m < range_m
    for t in range(t_start, t_end):
        if len(out_tx) - i < n or (need_far and len(far_tx) - j < n):
            return t, i, j
        i, j = _scan_tx(t, i, j, sxy, svel, height, txp_dbm,
                        gain_dbi, key, pre, tx_node, tx_sf, sf0, range_m, cell_m, wrap_m,
                        skeys, ox, oy, width, near_m, far_table, far_step_m, hclass, code,
                        chan_key, fc_ghz, sigma_db,
                        coherence_ms, blocker_m, odo, speed, shadow_cell_m, gud_weights, out_tx,
                        out_rx, out_d, out_dbm, out_mw, far_tx, far_rx, far_mw, far_d)
    return t_end, i, j


@_njit()
def _accumulate(out_tx, out_rx, out_mw, tx_sf, tx_start, tx_nsub, sf0, grid, s_lo, s_hi):  # type: ignore[no-untyped-def]
    """Adds each link's power, spread evenly over its subchannels, to grid[sf, subch, rx], for
    the batch subframes s_lo <= sf - sf0 < s_hi (a thread's share: disjoint grid slices, each
    cell summed in link order whatever the thread count)."""
    for i in range(len(out_tx)):
        t = out_tx[i]
        s = tx_sf[t] - sf0
        if s < s_lo or s >= s_hi:
            continue
        share = out_mw[i] / tx_nsub[t]
        for j in range(tx_nsub[t]):
            grid[s, tx_start[t] + j, out_rx[i]] += share


@_njit()
def _sinr_pass(lo, hi, out_tx, out_rx, out_dbm, out_mw, tx_sf, tx_start, tx_nsub, tx_pid,
               node_key, sf0, grid, busy, noise_mw, sci_noise_mw, bler_mode, gamma_min_db,
               curve_x, curve_y, bler_left, bler_right, sens_dbm, has_sens, decode_key,
               min_sci_db, out_sinr, out_reason, out_sci):  # type: ignore[no-untyped-def]
    """SINR, SCI and decoding of links lo .. hi - 1 (each row independent)."""
    gamma_min_lin = 10.0 ** (gamma_min_db / 10.0)
    min_sci_lin = 10.0 ** (min_sci_db / 10.0)
    for i in range(lo, hi):
        t = out_tx[i]
        r = out_rx[i]
        s = tx_sf[t] - sf0
        L = tx_nsub[t]
        x0 = tx_start[t]
        p = out_mw[i]
        band = 0.0
        for j in range(L):
            band += grid[s, x0 + j, r]
        interference = max(band - p, 0.0)
        noise = noise_mw[L, r]
        sinr_lin = p / (interference + noise)
        sinr = 10.0 * math.log10(sinr_lin)
        snr_lin = p / noise
        share = p / L
        first_i = max(grid[s, x0, r] - share, 0.0)
        # SCI and threshold checks compare linear ratios with 10^(threshold/10): one log10 per
        # link instead of four (equal to the dB comparison up to rounding at the threshold).
        sci_sinr_ok = share / (first_i + sci_noise_mw[r]) >= min_sci_lin
        sci_snr_ok = share / sci_noise_mw[r] >= min_sci_lin
        if bler_mode:
            h = _splitmix64(_splitmix64(_splitmix64(_ZERO ^ decode_key) ^ tx_pid[t]) ^ node_key[r])
            u = _uniform(h)
            dec_sinr = u >= _interp(sinr, curve_x, curve_y, bler_left, bler_right)
            dec_snr = u >= _interp(10.0 * math.log10(snr_lin), curve_x, curve_y, bler_left,
                                   bler_right)
        else:
            dec_sinr = sinr_lin >= gamma_min_lin
            dec_snr = snr_lin >= gamma_min_lin
        reason = 0
        if not (dec_sinr and sci_sinr_ok):
            reason = 4
        if not (dec_snr and sci_snr_ok):
            reason = 3
        audible = True
        if has_sens and out_dbm[i] < sens_dbm:
            reason = 2
            audible = False
        if busy[s, r]:
            reason = 1
            audible = False
        out_sinr[i] = sinr
        out_reason[i] = reason
        out_sci[i] = audible and sci_sinr_ok


@_njit()
def _far_sci_pass(lo, hi, far_tx, far_rx, far_mw, tx_sf, tx_start, tx_nsub, sf0, grid, busy,
                  sci_noise_mw, min_sci_db, sens_mw, has_sens, out_sci):  # type: ignore[no-untyped-def]
    """SCI decoding of far links (sensing only): the `_sinr_pass` SCI test, half-duplex and
    sensitivity; their PSSCH is never decoded. Rows lo .. hi - 1."""
    min_sci_lin = 10.0 ** (min_sci_db / 10.0)
    for i in range(lo, hi):
        t = far_tx[i]
        r = far_rx[i]
        s = tx_sf[t] - sf0
        share = far_mw[i] / tx_nsub[t]
        first_i = max(grid[s, tx_start[t], r] - share, 0.0)
        ok = share / (first_i + sci_noise_mw[r]) >= min_sci_lin
        if busy[s, r] or (has_sens and far_mw[i] < sens_mw):
            ok = False
        out_sci[i] = ok


@_njit()
def cbr(grid, noise_mw, threshold_mw):  # type: ignore[no-untyped-def]
    """Per node, the share of (subframe, subchannel) cells whose S-RSSI (grid + noise) exceeds
    the threshold: `sidelink._cbr` without its (subframes x subchannels x nodes) temporaries."""
    n_sf, n_sc, n = grid.shape
    out = np.empty(n)
    for r in range(n):
        busy = 0
        for s in range(n_sf):
            for c in range(n_sc):
                if grid[s, c, r] + noise_mw[r] > threshold_mw:
                    busy += 1
        out[r] = busy / (n_sf * n_sc)
    return out


#: Smallest chunks worth a thread: transmissions of the link pass, links of the SINR passes.
MIN_TX_PER_CHUNK = 16
MIN_LINKS_PER_CHUNK = 8192
MIN_RECEIVERS_PER_CHUNK = 256  # sensing memory updates (sim.radio.sps)

#: Exact and far links of the previous batch: the first guess for the next buffers.
_LINKS_HINT = [0, 0]


def _link_buffers(n: int):  # type: ignore[no-untyped-def]
    """Output columns for n links: tx, rx, distance, received dBm and mW."""
    return (np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n), np.empty(n), np.empty(n))


def _far_buffers(n: int):  # type: ignore[no-untyped-def]
    """Columns for n far links (beyond `link_range_m`): tx, rx, received mW, distance."""
    return (np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n), np.empty(n))


def _grown(columns, used: int, size: int):  # type: ignore[no-untyped-def]
    """The columns reallocated to `size` rows, their first `used` rows kept."""
    grown = tuple(np.empty(size, c.dtype) for c in columns)
    for g, c in zip(grown, columns):
        g[:used] = c[:used]
    return grown


def _joined(parts):  # type: ignore[no-untyped-def]
    """Columns of consecutive chunks (each: buffers, rows used) joined in order: into the first
    chunk's buffers when they have room, else concatenated."""
    total = sum(used for _, used in parts)
    first, pos = parts[0]
    if len(first[0]) < total:
        return tuple(np.concatenate([cols[k][:used] for cols, used in parts])
                     for k in range(len(first)))
    for cols, used in parts[1:]:
        for dst, src in zip(first, cols):
            dst[pos:pos + used] = src[:used]
        pos += used
    return tuple(c[:total] for c in first)


def fused_links(nodes, tx, sf0_ms: int, n_subframes: int, cfg, margin_m: float,  # type: ignore[no-untyped-def]
                noise_mw: np.ndarray, sci_noise_mw: np.ndarray, curve: tuple[np.ndarray, np.ndarray],
                bler_limits: tuple[float, float]):
    """All links of a batch plus the power grid and half-duplex map (see the module docstring).

    Returns (tx, rx, distance_m, rx_power_dbm, sinr_db, reason, sci_ok, grid, busy, sensed) with
    grid of shape (n_subframes, n_subchannels, n_nodes), busy (n_subframes, n_nodes) and sensed
    the far links whose SCI was decoded (tx, rx, distance_m, rx_power_dbm).
    """
    n_nodes = len(nodes)
    wrap = -1.0 if cfg.wrap_m is None else float(cfg.wrap_m)
    cell_m = float(cfg.interference_range_m + margin_m)
    if wrap > 0.0 and 2.0 * cell_m >= wrap:
        raise ValueError("the ring must be longer than twice the range")
    xy = np.ascontiguousarray(nodes.xy_m, dtype=np.float64)
    vel = np.ascontiguousarray(nodes.vel_mps, dtype=np.float64)
    node = np.ascontiguousarray(tx.node, dtype=np.int64)
    sf = np.ascontiguousarray(tx.subframe_ms, dtype=np.int64)
    start = np.ascontiguousarray(tx.subch_start, dtype=np.int64)
    nsub = np.ascontiguousarray(tx.n_subch, dtype=np.int64)
    key = np.ascontiguousarray(nodes.key, dtype=np.uint64)
    rng = float(cfg.interference_range_m)
    order, skeys, ox, oy, width = _cells(xy, cell_m)
    # The kernels number nodes in cell order, so the candidate scans, the receivers' columns and
    # the power grid are read and written (nearly) sequentially; rows are mapped back at the end.
    inv = np.empty(n_nodes, np.int64)
    inv[order] = np.arange(n_nodes)
    node_s = inv[node]

    def sorted_col(col, dtype=np.float64):  # type: ignore[no-untyped-def]
        return np.ascontiguousarray(np.asarray(col, dtype=dtype)[order])

    sxy = sorted_col(xy)
    svel = sorted_col(vel)
    key_s = key[order]
    ch = cfg.channel
    sigma = 3.0 if ch.shadowing_sigma_db is None else float(ch.shadowing_sigma_db)
    if ch.correlated:  # Gudmundson shadowing: travel coordinates, cells, AR(1) weights
        odo = (np.zeros(n_nodes) if nodes.odometer_m is None else sorted_col(nodes.odometer_m))
        speed = np.ascontiguousarray(np.hypot(svel[:, 0], svel[:, 1]))
        shadow_cell_m = ch.dcorr_m / GUDMUNDSON_CELLS_PER_DCORR
        gud_weights = np.ascontiguousarray(gudmundson_weights()[1])
    else:
        odo = speed = np.zeros(1)
        shadow_cell_m = 0.0
        gud_weights = np.zeros(1)
    near_m = rng if cfg.link_range_m is None else float(cfg.link_range_m)
    need_far = near_m < rng
    if need_far:  # far links: the log-normal table of the antenna heights in use
        heights = np.unique(np.asarray(nodes.height_m, dtype=np.float64))
        far_table = far_loss_table(ch, tuple(heights.tolist()), rng + 1.0)
        hclass = sorted_col(np.searchsorted(heights, nodes.height_m), np.int64)
    else:
        far_table, hclass = np.zeros((1, 1, 2, 5)), np.zeros(n_nodes, np.int64)
    geo = (sxy, svel, sorted_col(nodes.height_m), sorted_col(nodes.tx_power_dbm),
           sorted_col(nodes.gain_dbi), key_s, hash_keys(np.uint64(ch.key), key_s), node_s, sf,
           sf0_ms, rng, cell_m, wrap, skeys, ox, oy, width, near_m, far_table, FAR_TABLE_STEP_M,
           hclass)
    chan = (PATHLOSS_CODES[ch.pathloss], np.uint64(ch.key), float(ch.fc_ghz), sigma,
            int(ch.coherence_ms), float(ch.blocker_height_m), odo, speed, shadow_cell_m,
            gud_weights)

    def links_of(t_lo: int, t_hi: int, hint: int, far_hint: int):  # type: ignore[no-untyped-def]
        # One pass into buffers sized from the last batch (+25 %); when they fill up, they grow
        # and the pass resumes at the next transmission (no transmission is evaluated twice).
        # The first chunk's buffers have room for every chunk: the others are copied after it.
        share = 1 if t_lo == 0 else len(tx_chunks)
        out = _link_buffers(hint // share + n_nodes + 1024)
        far = _far_buffers(far_hint // share + n_nodes + 1024 if need_far else 0)
        t, i, j = t_lo, 0, 0
        while True:
            t, i, j = _channel_chunk(t, t_hi, i, j, *geo, *chan, *out, *far)
            if t == t_hi:
                return (out, i), (far, j)
            if len(out[0]) - i < n_nodes:
                out = _grown(out, i, 2 * len(out[0]) + n_nodes)
            if need_far and len(far[0]) - j < n_nodes:
                far = _grown(far, j, 2 * len(far[0]) + n_nodes)

    # Transmissions in contiguous chunks, one per thread; their links joined in order are the
    # serial pass's rows.
    # (Small batches, judged by the last batch's links, stay on one thread: a hand-off costs
    # about as much as a few thousand links.)
    tx_chunks = (radio_threads.split(len(node), MIN_TX_PER_CHUNK)
                 if sum(_LINKS_HINT) >= 2 * MIN_LINKS_PER_CHUNK else [(0, len(node))])
    parts = radio_threads.run(links_of, tx_chunks, int(_LINKS_HINT[0] * 1.25),
                              int(_LINKS_HINT[1] * 1.25))
    out = _joined([part[0] for part in parts])
    far = _joined([part[1] for part in parts])
    total, far_total = len(out[0]), len(far[0])
    _LINKS_HINT[:] = [total, far_total]
    out_tx, out_rx, out_d, out_dbm, out_mw = out
    grid = np.zeros((n_subframes, cfg.n_subchannels, n_nodes))
    busy = np.zeros((n_subframes, n_nodes), dtype=bool)
    busy[sf - sf0_ms, node_s] = True

    def accumulate(s_lo: int, s_hi: int) -> None:  # exact links, then far ones (interference)
        _accumulate(out_tx, out_rx, out_mw, sf, start, nsub, sf0_ms, grid, s_lo, s_hi)
        _accumulate(far[0], far[1], far[2], sf, start, nsub, sf0_ms, grid, s_lo, s_hi)

    radio_threads.run(accumulate, radio_threads.split(n_subframes, 1)
                      if total + far_total > 2 * MIN_LINKS_PER_CHUNK else [(0, n_subframes)])
    out_sinr = np.empty(total)
    out_reason = np.empty(total, np.int8)
    out_sci = np.empty(total, np.bool_)
    has_sens = cfg.sensitivity_dbm is not None
    noise_s = np.ascontiguousarray(noise_mw[:, order])
    sci_noise_s = sorted_col(sci_noise_mw)
    radio_threads.run(
        _sinr_pass, radio_threads.split(total, MIN_LINKS_PER_CHUNK), out_tx, out_rx, out_dbm,
        out_mw, sf, start, nsub, np.ascontiguousarray(tx.packet_id, dtype=np.uint64), key_s,
        sf0_ms, grid, busy, noise_s, sci_noise_s, cfg.decoding_mode == "bler",
        float(cfg.gamma_min_db), curve[0], curve[1], bler_limits[0], bler_limits[1],
        float(cfg.sensitivity_dbm) if has_sens else 0.0, has_sens, np.uint64(cfg.decode_key),
        float(cfg.min_sci_sinr_db), out_sinr, out_reason, out_sci)
    far_sci = np.empty(far_total, np.bool_)
    radio_threads.run(
        _far_sci_pass, radio_threads.split(far_total, MIN_LINKS_PER_CHUNK), far[0], far[1],
        far[2], sf, start, nsub, sf0_ms, grid, busy, sci_noise_s, float(cfg.min_sci_sinr_db),
        10.0 ** (float(cfg.sensitivity_dbm) / 10.0) if has_sens else 0.0, has_sens, far_sci)
    heard = np.flatnonzero(far_sci)
    sensed = (far[0][heard], order[far[1][heard]], far[3][heard],
              10.0 * np.log10(far[2][heard]))  # tx, rx, distance, rx dBm
    out_rx = order[out_rx]
    grid = np.ascontiguousarray(grid[:, :, inv])
    busy = np.ascontiguousarray(busy[:, inv])
    return out_tx, out_rx, out_d, out_dbm, out_sinr, out_reason, out_sci, grid, busy, sensed
