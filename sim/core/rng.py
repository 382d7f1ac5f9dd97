"""The seeded RNG tree and counter-based draws.

One `numpy.random.SeedSequence(seed)` is split by *name* (not by spawn order), so adding a subsystem
never shifts another subsystem's stream. The radio needs draws that are a pure function of
(link, time epoch, purpose) so that shadowing is reciprocal and the vectorized kernel and the scalar
reference see the same numbers: those come from a splitmix64 hash (`hash_uniform`, `hash_normal`).
"""

from __future__ import annotations

import zlib

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sim.core.normal_quantile import ppnd16

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TWO53 = float(2**53)
#: The largest float below 1: the hashed uniform of a normal draw never reaches 1 (quantile inf).
BELOW_ONE = float(np.nextafter(1.0, 0.0))


def stream_key(name: str) -> int:
    """A stable 32-bit key for a subsystem name (CRC-32: the same on every machine)."""
    return zlib.crc32(name.encode("utf-8"))


class RngTree:
    """Named, independent numpy Generators derived from one scenario seed."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._cache: dict[str, np.random.Generator] = {}

    def generator(self, name: str) -> np.random.Generator:
        if name not in self._cache:
            seq = np.random.SeedSequence(self.seed, spawn_key=(stream_key(name),))
            self._cache[name] = np.random.Generator(np.random.PCG64(seq))
        return self._cache[name]

    def key(self, name: str) -> int:
        """A 64-bit key for counter-based draws of subsystem `name`."""
        seq = np.random.SeedSequence(self.seed, spawn_key=(stream_key(name),))
        return int(seq.generate_state(1, dtype=np.uint64)[0])


def splitmix64(x: ArrayLike) -> NDArray[np.uint64]:
    """The splitmix64 finaliser: a fast, well-mixed 64-bit hash (wrapping arithmetic)."""
    z = np.asarray(x, dtype=np.uint64) + _GOLDEN
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def hash_keys(*keys: ArrayLike) -> NDArray[np.uint64]:
    """Combine several integer keys (broadcast) into one hashed uint64 per element."""
    h = np.zeros(np.broadcast_shapes(*(np.shape(k) for k in keys)), dtype=np.uint64)
    for k in keys:
        h = splitmix64(h ^ np.asarray(k, dtype=np.uint64))
    return h


def hash_uniform(*keys: ArrayLike) -> NDArray[np.float64]:
    """Uniform draws in [0, 1) that depend only on the keys (53-bit resolution)."""
    return (hash_keys(*keys) >> np.uint64(11)).astype(np.float64) / _TWO53


def hash_normal(*keys: ArrayLike) -> NDArray[np.float64]:
    """Standard normal draws that depend only on the keys: the inverse normal CDF (AS 241,
    `sim.core.normal_quantile`) of one hashed uniform in (0, 1), near the midpoint of its 2^-53
    cell (rounding in the upper half; the top cell, which would round to 1, is held below it)."""
    h = hash_keys(*keys)
    p = ((h >> np.uint64(11)).astype(np.float64) + 0.5) / _TWO53
    return ppnd16(np.minimum(p, BELOW_ONE))
