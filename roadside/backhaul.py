"""RSU <-> edge backhaul: one FIFO link per RSU and direction, evaluated a bundle at a time.

Per message: wait for the link (FIFO), serialization (size / bandwidth), then propagation (a draw
from the latency distribution: switching over 1-3 hops, 0.5-2 ms one way per docs/radio-model.md §5.3,
plus fibre at 5 us/km) and a Bernoulli loss. The FIFO is the Lindley recursion
finish_i = max(arrive_i, finish_{i-1}) + service_i, computed for a whole bundle at once as
finish = S + running max(arrive - S_prev) with S the cumulative service (no loop over messages);
each link keeps the time it is next free. A message that finds more than `buffer_bytes` waiting
ahead of it is tail-dropped (it is dropped after the recursion, so the messages behind a dropped
one are delayed as if it had been sent: pessimistic, and only under overload). Scripted faults add
latency and loss per RSU.

Approximation: bundles are offered in the order the engine produces them (once per radio batch),
so two bundles of one link interleave only at bundle granularity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from roadside.latency import draw_delay_ms
from sim.spec.roadside import BackhaulSpec

FloatArray = NDArray[np.float64]


@dataclass
class BackhaulStats:
    sent: int = 0
    lost: int = 0
    tail_dropped: int = 0
    backlog_max_bytes: int = 0


@dataclass(frozen=True)
class Delivery:
    deliver_ms: FloatArray  # arrival at the far end (NaN if lost or dropped)
    wait_ms: FloatArray  # queueing before serialization
    ok: NDArray[np.bool_]


class Backhaul:
    def __init__(self, spec: BackhaulSpec, n_rsus: int, rng: np.random.Generator) -> None:
        self.spec = spec
        self.rng = rng
        self.free_at_ms = {"up": np.zeros(n_rsus), "down": np.zeros(n_rsus)}
        self.extra_latency_ms = np.zeros(n_rsus)  # scripted latency spike per RSU
        self.extra_loss = np.zeros(n_rsus)  # scripted loss burst per RSU
        self.stats = {"up": BackhaulStats(), "down": BackhaulStats()}

    def serialization_ms(self, size_bytes: NDArray[np.int64] | FloatArray) -> FloatArray:
        return np.asarray(size_bytes, dtype=np.float64) * 8.0 / (self.spec.bandwidth_mbps * 1000.0)

    def send(self, rsu: int, direction: str, arrive_ms: FloatArray, size_bytes: FloatArray,
             distance_km: float = 0.0) -> Delivery:
        """Sends messages (sorted by `arrive_ms`) over RSU `rsu`'s link in `direction`."""
        n = len(arrive_ms)
        st = self.stats[direction]
        if n == 0:
            e = np.empty(0)
            return Delivery(e, e, np.empty(0, bool))
        service = self.serialization_ms(size_bytes)
        cum = np.cumsum(service)
        prev = cum - service
        free = self.free_at_ms[direction][rsu]
        start_base = np.maximum.accumulate(np.maximum(arrive_ms - prev, free))
        finish = cum + start_base
        start = finish - service
        wait = start - arrive_ms
        # Bytes ahead at arrival: the wait times the link rate.
        ahead = wait * self.spec.bandwidth_mbps * 1000.0 / 8.0
        dropped = ahead > self.spec.buffer_bytes
        prop = (draw_delay_ms(self.spec.latency, self.rng, n) + self.extra_latency_ms[rsu]
                + distance_km / self.spec.fibre_km_per_ms)
        p_loss = 1.0 - (1.0 - self.spec.loss_probability) * (1.0 - self.extra_loss[rsu])
        lost = self.rng.random(n) < p_loss
        ok = ~dropped & ~lost
        self.free_at_ms[direction][rsu] = float(finish[~dropped].max(initial=free))
        st.sent += n
        st.lost += int((lost & ~dropped).sum())
        st.tail_dropped += int(dropped.sum())
        st.backlog_max_bytes = max(st.backlog_max_bytes, int(ahead.max(initial=0)))
        deliver = np.where(ok, finish + prop, np.nan)
        return Delivery(deliver, wait, ok)
