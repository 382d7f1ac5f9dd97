"""The CSAE 53 phase-I message set as radio traffic: type codes, default sizes and rates.

One integer code per `MessageFrame` choice so that packet columns, radio batches, traces and
applications share one vocabulary. Sizes are on-air UPER payloads including a security trailer,
taken from `docs/radio-model.md` §4.1 (typical values, overridable per scenario); they decide how many
subchannels a packet needs (§2.4).
"""

from __future__ import annotations

from enum import IntEnum


class MsgType(IntEnum):
    BSM = 0  # vehicle -> all, 10 Hz
    SPAT = 1  # RSU -> vehicles, signal phase and timing, 10 Hz
    MAP = 2  # RSU -> vehicles, intersection geometry, 1 Hz
    RSI = 3  # RSU -> vehicles, road-side information (hazards, limits, work zones), event-driven
    RSM = 4  # RSU -> vehicles, road participants perceived by the roadside, 10 Hz


#: Typical on-air sizes in bytes (payload + ~60 B signature digest), docs/radio-model.md §4.1.
DEFAULT_SIZE_BYTES: dict[MsgType, int] = {
    MsgType.BSM: 190,  # TR 36.885 pattern value; core 40-60 B + path history + security
    MsgType.SPAT: 280,  # real sample: 1 intersection, 8 phases x 3 states = 279 B
    MsgType.MAP: 1000,  # hundreds of bytes to > 1 kB per intersection
    MsgType.RSI: 150,  # about 50-200 B
    MsgType.RSM: 120,  # 58 B with one participant, +25-35 B per further participant
}

#: Per-participant increment of an RSM (bytes), docs/radio-model.md §4.1.
RSM_BYTES_PER_PARTICIPANT = 30

#: Nominal generation periods (ms); RSI is event-driven and repeated while valid.
DEFAULT_PERIOD_MS: dict[MsgType, int] = {
    MsgType.BSM: 100,
    MsgType.SPAT: 100,
    MsgType.MAP: 1000,
    MsgType.RSI: 100,
    MsgType.RSM: 100,
}
