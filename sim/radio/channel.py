"""Large-scale channel of a link: path loss by model, LOS/NLOSv state, log-normal shadowing.

Random parts (LOS draw, NLOSv blockage loss, shadowing) are counter-based draws keyed by the
unordered node pair and a coherence epoch, so that:
- the channel is reciprocal (A->B and B->A see the same loss, as sensing-based SPS assumes);
- a link keeps its state for `coherence_ms` instead of flickering from packet to packet;
- the vectorized kernel and the scalar reference compute bit-identical draws;
- no N x N state is stored (10,000 vehicles would need 800 MB of it).

Spatially correlated shadowing (`shadowing_correlation = "gudmundson"`, off by default): instead
of one independent draw per coherence epoch, a link's shadowing follows Gudmundson's exponential
model, an AR(1) process in the distance the pair has moved (docs/radio-model.md §1.3(e), as in
WiLabV2Xsim: S_new = e^(-dd/D_corr) S_old + sqrt(1 - e^(-2 dd/D_corr)) N(0, sigma^2)). It stays
stateless, reciprocal and identical in every implementation by being a function of the unordered
pair and of the pair's *travel coordinate* u = s_a + s_b (each node's odometer, for vehicles their
arc position along the route, for RSUs 0), so that moving dd_a and dd_b changes u by dd_a + dd_b:
- u is cut into cells of g = D_corr / GUDMUNDSON_CELLS_PER_DCORR; cell k holds
  X_k = c * sum_{j < GUDMUNDSON_TERMS} rho^j Z_(k - j), rho = e^(-g / D_corr), Z iid N(0, 1) keyed
  by (scenario key, pair, cell), c = sqrt((1 - rho^2) / (1 - rho^(2 J))): the exact stationary
  AR(1) recursion X_k = rho X_(k-1) + sqrt(1 - rho^2) Z_k, truncated after J terms (the dropped
  weight rho^(2J) = e^(-10) is renormalised away), so Var X_k = 1 and
  corr(X_k, X_(k+m)) = rho^m (1 - rho^(2(J - m))) / (1 - rho^(2J)), i.e. e^(-1) within 0.03 % at
  u-lag D_corr (m = 5);
- the shadowing is sigma * X_(floor(u / g)): piecewise constant over 1/5 of D_corr (2 m at 10 m).
Cost: J = 25 keyed normal draws per link, against 1 for the epoch draw. LOS state and NLOSv
blockage keep their coherence epochs; building NLOS shadowing (sim/radio/buildings.py) too.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.core.rng import hash_keys, hash_normal, hash_uniform
from sim.radio import pathloss as pl

FloatArray = NDArray[np.float64]

PATHLOSS_MODELS = ("tr37885-highway", "tr37885-urban", "winner-b1", "winner-b1-gm2019")

# Purpose tags for the counter-based draws (any distinct constants will do).
_TAG_LOS = 0x4C4F53
_TAG_NLOSV = 0x4E4C5356
_TAG_SHADOW = 0x534841
_TAG_GUDMUNDSON = 0x47554450

SHADOWING_CORRELATIONS = ("none", "gudmundson")
#: Cells of the travel coordinate per decorrelation distance, and AR(1) terms kept per cell value.
GUDMUNDSON_CELLS_PER_DCORR = 5
GUDMUNDSON_TERMS = 25
#: Default decorrelation distance per path-loss model [m] when none is given: TR 37.885 Table
#: 6.2.3-1 LOS (10 m, as implemented in ns-3 [V]) for the TR 37.885 models, except 25 m on the
#: highway (TR 36.885 freeway [K]; WiLabV2Xsim D_corr = 25 highway [V]); TR 36.885 urban 10 m for
#: WINNER+ B1, 25 m for the GM-2019 highway variant of it.
DEFAULT_DECORRELATION_M = {"tr37885-highway": 25.0, "tr37885-urban": 10.0, "winner-b1": 10.0,
                           "winner-b1-gm2019": 25.0}


def gudmundson_weights() -> tuple[float, NDArray[np.float64]]:
    """(cell size in units of D_corr, weights c rho^j of the J innovations of one cell)."""
    g = 1.0 / GUDMUNDSON_CELLS_PER_DCORR
    rho = np.exp(-g)
    j = np.arange(GUDMUNDSON_TERMS)
    c = np.sqrt((1.0 - rho**2) / (1.0 - rho ** (2 * GUDMUNDSON_TERMS)))
    return g, c * rho**j


def gudmundson_normal(key: int, lo: NDArray[np.uint64], hi: NDArray[np.uint64],
                      travel_m: FloatArray, decorrelation_m: float) -> FloatArray:
    """Unit-variance shadowing of the unordered pairs {lo, hi} at travel coordinates u = travel_m:
    X_(floor(u / g)) of the truncated AR(1) sum above, vectorized over links."""
    _, w = gudmundson_weights()
    cell_m = decorrelation_m / GUDMUNDSON_CELLS_PER_DCORR
    cell = np.floor(np.asarray(travel_m, dtype=np.float64) / cell_m).astype(np.int64)
    pair = hash_keys(np.uint64(key), np.uint64(_TAG_GUDMUNDSON), np.minimum(lo, hi),
                     np.maximum(lo, hi))
    out = np.zeros(np.shape(cell))
    for j in range(GUDMUNDSON_TERMS):
        out += w[j] * hash_normal(pair, (cell - j).astype(np.uint64))
    return out


#: ln(10) / 10: 10^(x / 10) = e^(A x).
_A = float(np.log(10.0) / 10.0)
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def nlosv_gain_moment(mu_db: FloatArray, sigma_db: FloatArray, k: float = 1.0) -> FloatArray:
    """E[10^(-k A/10)] of the TR 37.885 NLOSv blockage loss A = max(0, X), X ~ N(mu, s):
    P(X <= 0) + E[e^(-b X); X > 0] = Phi(-mu/s) + e^(-b mu + b^2 s^2 / 2) Phi(mu/s - b s),
    b = k ln(10)/10 (both antennas above the blocker: s = 0, mu = 0, gain 1)."""
    mu = np.asarray(mu_db, dtype=np.float64)
    sd = np.asarray(sigma_db, dtype=np.float64)
    b = k * _A
    safe = np.where(sd > 0.0, sd, 1.0)
    phi_zero = 0.5 * _erfc((mu / safe) / math.sqrt(2.0))
    phi_pos = 0.5 * _erfc(-(mu / safe - b * safe) / math.sqrt(2.0))
    gain = phi_zero + np.exp(-b * mu + 0.5 * (b * safe) ** 2) * phi_pos
    return np.where(sd > 0.0, gain, np.exp(-b * np.maximum(mu, 0.0)))


@dataclass(frozen=True)
class ChannelModel:
    pathloss: str
    fc_ghz: float
    shadowing_sigma_db: float | None  # None: the model's own (3 dB LOS/NLOSv)
    coherence_ms: int
    blocker_height_m: float
    key: int  # the scenario's channel key from the RNG tree
    shadowing_correlation: str = "none"  # "none": a draw per epoch; "gudmundson": see above
    decorrelation_m: float | None = None  # Gudmundson D_corr; None: DEFAULT_DECORRELATION_M

    def __post_init__(self) -> None:
        if self.pathloss not in PATHLOSS_MODELS:
            raise ValueError(f"unknown path-loss model {self.pathloss!r}; allowed: {PATHLOSS_MODELS}")
        if self.shadowing_correlation not in SHADOWING_CORRELATIONS:
            raise ValueError(f"unknown shadowing correlation {self.shadowing_correlation!r}; "
                             f"allowed: {SHADOWING_CORRELATIONS}")
        if self.decorrelation_m is not None and not self.decorrelation_m > 0.0:
            raise ValueError(f"decorrelation distance must be > 0 m, got {self.decorrelation_m}")

    @property
    def correlated(self) -> bool:
        return self.shadowing_correlation == "gudmundson"

    @property
    def dcorr_m(self) -> float:
        """The Gudmundson decorrelation distance in use [m]."""
        if self.decorrelation_m is not None:
            return self.decorrelation_m
        return DEFAULT_DECORRELATION_M[self.pathloss]

    def link_loss_db(
        self,
        distance_2d_m: FloatArray,
        h_tx_m: FloatArray,
        h_rx_m: FloatArray,
        key_a: NDArray[np.uint64],
        key_b: NDArray[np.uint64],
        subframe_ms: NDArray[np.int64],
        travel_m: FloatArray | None = None,
    ) -> tuple[FloatArray, NDArray[np.bool_]]:
        """Total loss (path loss + blockage + shadowing) in dB and the LOS flag, per link.

        `travel_m`: the pair's travel coordinate u = s_a + s_b per link, needed (and only used)
        with Gudmundson-correlated shadowing."""
        lo = np.minimum(key_a, key_b)
        hi = np.maximum(key_a, key_b)
        epoch = (np.asarray(subframe_ms) // self.coherence_ms).astype(np.uint64)
        # One hash of (scenario key, pair, epoch) per link; each purpose re-hashes it with a tag.
        link = hash_keys(np.uint64(self.key), lo, hi, epoch)
        d3 = np.sqrt(distance_2d_m**2 + (h_tx_m - h_rx_m) ** 2)
        if self.pathloss == "winner-b1":
            loss = pl.winner_b1_los_db(distance_2d_m, self.fc_ghz, 0.5, 0.5)
            los = np.ones(loss.shape, dtype=bool)
        elif self.pathloss == "winner-b1-gm2019":
            loss = pl.winner_b1_los_db(distance_2d_m, self.fc_ghz, 1.5, 1.5, free_space_floor=True)
            los = np.ones(loss.shape, dtype=bool)
        else:
            highway = self.pathloss == "tr37885-highway"
            p_los = pl.p_los_highway(distance_2d_m) if highway else pl.p_los_urban(distance_2d_m)
            los = hash_uniform(link, _TAG_LOS) < p_los
            base = (
                pl.tr37885_highway_los_db(d3, self.fc_ghz)
                if highway
                else pl.tr37885_urban_los_db(d3, self.fc_ghz)
            )
            mu, sigma = pl.nlosv_blockage_params_db(
                distance_2d_m, h_tx_m, h_rx_m, self.blocker_height_m
            )
            extra = np.maximum(0.0, mu + sigma * hash_normal(link, _TAG_NLOSV))
            loss = base + np.where(los, 0.0, extra)
        sigma_db = 3.0 if self.shadowing_sigma_db is None else self.shadowing_sigma_db
        if sigma_db > 0.0 and self.correlated:
            if travel_m is None:
                raise ValueError("Gudmundson shadowing needs the pairs' travel coordinates")
            loss = loss + sigma_db * gudmundson_normal(self.key, lo, hi, travel_m, self.dcorr_m)
        elif sigma_db > 0.0:
            loss = loss + sigma_db * hash_normal(link, _TAG_SHADOW)
        return loss, los

    @property
    def sigma_db(self) -> float:
        """Shadowing standard deviation in use [dB]."""
        return 3.0 if self.shadowing_sigma_db is None else float(self.shadowing_sigma_db)

    def _base_and_mix(self, distance_2d_m: FloatArray, h_tx_m: FloatArray, h_rx_m: FloatArray
                      ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """LOS path loss, LOS probability and the NLOSv blockage (mu, sigma) per link."""
        d2 = np.asarray(distance_2d_m, dtype=np.float64)
        h_tx = np.asarray(h_tx_m, dtype=np.float64)
        h_rx = np.asarray(h_rx_m, dtype=np.float64)
        d3 = np.sqrt(d2**2 + (h_tx - h_rx) ** 2)
        zeros = np.zeros(d2.shape)
        if self.pathloss == "winner-b1":
            return pl.winner_b1_los_db(d2, self.fc_ghz, 0.5, 0.5), zeros + 1.0, zeros, zeros
        if self.pathloss == "winner-b1-gm2019":
            return (pl.winner_b1_los_db(d2, self.fc_ghz, 1.5, 1.5, free_space_floor=True),
                    zeros + 1.0, zeros, zeros)
        highway = self.pathloss == "tr37885-highway"
        p_los = pl.p_los_highway(d2) if highway else pl.p_los_urban(d2)
        base = (pl.tr37885_highway_los_db(d3, self.fc_ghz) if highway
                else pl.tr37885_urban_los_db(d3, self.fc_ghz))
        mu, sd = pl.nlosv_blockage_params_db(d2, h_tx, h_rx, self.blocker_height_m)
        return base, np.broadcast_to(p_los, d2.shape), mu, sd

    def link_gain_moment(self, distance_2d_m: FloatArray, h_tx_m: FloatArray, h_rx_m: FloatArray,
                         k: float = 1.0, state: str = "all") -> FloatArray:
        """E[g^k] of the linear gain g = 10^(-loss/10) that `link_loss_db` draws at that
        distance, in closed form: over all states (`all`: LOS/NLOSv mixed by the LOS
        probability), or given `los` or `nlos` (the clipped-normal NLOSv blockage); log-normal
        shadowing contributes E[10^(-k sigma Z/10)] = e^((k a sigma)^2/2)."""
        base, p_los, mu, sd = self._base_and_mix(distance_2d_m, h_tx_m, h_rx_m)
        nlos = nlosv_gain_moment(mu, sd, k)
        mix = {"all": p_los + (1.0 - p_los) * nlos, "los": np.ones(base.shape), "nlos": nlos}[state]
        return np.exp(-k * _A * base) * mix * np.exp(0.5 * (k * _A * self.sigma_db) ** 2)

    def mean_link_loss_db(self, distance_2d_m: FloatArray, h_tx_m: FloatArray,
                          h_rx_m: FloatArray) -> FloatArray:
        """The loss of the mean linear gain E[g] (what an interferer adds on average)."""
        return -10.0 * np.log10(self.link_gain_moment(distance_2d_m, h_tx_m, h_rx_m))

    def far_link_model_db(self, distance_2d_m: FloatArray, h_tx_m: FloatArray,
                          h_rx_m: FloatArray) -> NDArray[np.float64]:
        """How a far link (`radio.link_range_m`) is drawn, per distance: columns (LOS
        probability, LOS median loss, LOS sigma, NLOSv median loss, NLOSv sigma) in dB. The LOS
        state is drawn as in `link_loss_db`; given it, one keyed normal draws a log-normal loss
        with the same mean and variance of linear gain as the exact channel in that state
        (Fenton-Wilkinson moment match: in LOS exactly the shadowing, in NLOSv the clipped-normal
        blockage times the shadowing). One log-normal for both states would blur the bimodal
        LOS/NLOSv mixture between ~500 and 1000 m on the highway (CBR +0.04 in a test)."""
        base, p_los, _, _ = self._base_and_mix(distance_2d_m, h_tx_m, h_rx_m)
        out = [p_los, base, np.full(base.shape, self.sigma_db)]
        m1 = self.link_gain_moment(distance_2d_m, h_tx_m, h_rx_m, 1.0, "nlos")
        m2 = self.link_gain_moment(distance_2d_m, h_tx_m, h_rx_m, 2.0, "nlos")
        var_ln = np.log(np.maximum(m2 / m1**2, 1.0))
        out += [-(np.log(m1) - 0.5 * var_ln) / _A, np.sqrt(var_ln) / _A]
        return np.stack(out, axis=-1)


#: Distance step of the far-link table [m]: linear interpolation of a log-distance law between
#: points 0.25 m apart is exact to < 1e-4 dB beyond 50 m (far links start further out).
FAR_TABLE_STEP_M = 0.25
#: Purpose tag of a far link's single draw.
_TAG_FAR = 0x464152


#: Columns of `far_loss_table` (see `ChannelModel.far_link_model_db`).
FAR_P_LOS, FAR_LOS_MEDIAN, FAR_LOS_SIGMA, FAR_NLOS_MEDIAN, FAR_NLOS_SIGMA = range(5)


@functools.lru_cache(maxsize=32)
def far_loss_table(channel: ChannelModel, heights_m: tuple[float, ...],
                   max_distance_m: float) -> NDArray[np.float64]:
    """`far_link_model_db` tabulated: [tx height class, rx height class, distance index, column]
    over 0..max_distance_m in FAR_TABLE_STEP_M steps, for the antenna heights in use
    (`heights_m`, sorted: vehicles and RSUs give two classes). Far links read it by linear
    interpolation (`far_link_loss_db`, and the same arithmetic in the numba kernel): the closed
    form needs four erfc per link."""
    n_d = int(math.ceil(max_distance_m / FAR_TABLE_STEP_M)) + 2
    d = np.arange(n_d, dtype=np.float64) * FAR_TABLE_STEP_M
    h = np.asarray(heights_m, dtype=np.float64)
    out = np.empty((len(h), len(h), len(d), 5))
    for i, h_tx in enumerate(h):
        for j, h_rx in enumerate(h):
            out[i, j] = channel.far_link_model_db(d, np.full(len(d), h_tx), np.full(len(d), h_rx))
    out.setflags(write=False)
    return out


def far_link_loss_db(channel: ChannelModel, table: NDArray[np.float64], tx_class: NDArray[np.int64],
                     rx_class: NDArray[np.int64], distance_m: FloatArray, key_a: NDArray[np.uint64],
                     key_b: NDArray[np.uint64], subframe_ms: NDArray[np.int64]) -> FloatArray:
    """Loss of far links: the table's columns interpolated linearly (the kernel does the same
    arithmetic); the LOS state from the same keyed uniform as `link_loss_db`, then median +
    sigma z of that state with one keyed normal z of the same (pair, coherence epoch) hash:
    reciprocal and stable over the coherence time like an exact link."""
    x = np.asarray(distance_m, dtype=np.float64) / FAR_TABLE_STEP_M
    i = np.minimum(np.floor(x).astype(np.int64), table.shape[2] - 2)
    frac = (x - i)[:, None]
    lo, hi = table[tx_class, rx_class, i], table[tx_class, rx_class, i + 1]  # (n, 5)
    col = lo + frac * (hi - lo)
    epoch = (np.asarray(subframe_ms) // channel.coherence_ms).astype(np.uint64)
    link = hash_keys(np.uint64(channel.key), np.minimum(key_a, key_b), np.maximum(key_a, key_b),
                     epoch)
    los = hash_uniform(link, _TAG_LOS) < col[:, FAR_P_LOS]
    z = hash_normal(link, _TAG_FAR)
    return np.where(los, col[:, FAR_LOS_MEDIAN] + col[:, FAR_LOS_SIGMA] * z,
                    col[:, FAR_NLOS_MEDIAN] + col[:, FAR_NLOS_SIGMA] * z)
