"""Scenario specs for the roadside downlink, backhaul, edge (MEC) compute, Uu and scripted faults.

Kept apart from `schema.py` so the roadside/edge subsystem owns its inputs; `ScenarioSpec` and
`RsuSpec` only hold one field each pointing here. Defaults are the planning figures of
docs/radio-model.md §5.3 (marked [K] there: configurable, not verified) and the message catalogue of §4.1.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.spec.base import SpecModel


class _Spec(SpecModel):
    """Strict, frozen, no NaN/inf, no control characters (sim.spec.base)."""


Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegMs = Annotated[float, Field(ge=0.0, le=60_000.0)]


class Point(_Spec):
    lat: Annotated[float, Field(ge=-90.0, le=90.0, description="Latitude, degrees WGS84")]
    lon: Annotated[float, Field(ge=-180.0, le=180.0, description="Longitude, degrees WGS84")]


class LatencySpec(_Spec):
    """A one-way delay distribution: `uniform` in [low_ms, high_ms], `lognormal` with mean/sd
    (floored at low_ms), or `fixed` at low_ms."""

    kind: Literal["uniform", "lognormal", "fixed"] = "uniform"
    low_ms: NonNegMs = 0.5
    high_ms: NonNegMs = 2.0
    mean_ms: NonNegMs | None = None
    sd_ms: NonNegMs | None = None

    @model_validator(mode="after")
    def _consistent(self) -> LatencySpec:
        if self.kind == "uniform" and self.high_ms < self.low_ms:
            raise ValueError("high_ms must be >= low_ms")
        if self.kind == "lognormal" and (self.mean_ms is None or self.sd_ms is None):
            raise ValueError("a lognormal latency needs mean_ms and sd_ms")
        return self


class DownlinkSpec(_Spec):
    """What RSUs broadcast over PC5 (CSAE 53 phase I, docs/radio-model.md §4.1)."""

    spat: bool = Field(default=True, description="SPAT at spat_rate_hz from RSUs serving a signal")
    map: bool = Field(default=True, description="MAP at 1 Hz from RSUs serving a signal")
    spat_rate_hz: Annotated[float, Field(ge=1.0, le=10.0)] = 10.0
    map_rate_hz: Annotated[float, Field(ge=0.1, le=10.0)] = 1.0
    spat_size_bytes: Annotated[int, Field(ge=20, le=4000)] = 280
    map_size_bytes: Annotated[int, Field(ge=20, le=4000)] = 1000
    rsi_size_bytes: Annotated[int, Field(ge=20, le=4000)] = 150
    rsm_size_bytes: Annotated[int, Field(ge=20, le=4000)] = Field(
        default=120, description="RSM with one participant (58 B + security)")
    rsm_bytes_per_participant: Annotated[int, Field(ge=0, le=500)] = 30
    rsm_max_participants: Annotated[int, Field(ge=1, le=64)] = 16


class PerceptionSpec(_Spec):
    """Roadside sensors (camera/radar) of every RSU: what it perceives becomes RSMs."""

    enabled: bool = False
    range_m: Annotated[float, Field(gt=0.0, le=1000.0)] = Field(
        default=150.0, description="Detection range of the roadside sensors (assumed)")
    frame_period_ms: Annotated[int, Field(ge=10, le=1000)] = Field(
        default=100, description="Sensor frame period (§5.3: 33-100 ms)")
    include_equipped: bool = Field(
        default=False, description="Also list V2X vehicles (else only vehicles without V2X)")
    object_bytes: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=64, description="Object-level detection sent to the edge, per object")


class RsiEventSpec(_Spec):
    """Road-side information (hazard, speed limit, work zone) broadcast by every RSU within
    `radius_m + broadcast_range_m` of its position while valid."""

    kind: Literal["hazard", "speed-limit", "work-zone"]
    position: Point
    radius_m: Annotated[float, Field(gt=0.0, le=5000.0)] = 300.0
    at_s: Annotated[float, Field(ge=0.0)] = 0.0
    until_s: Annotated[float, Field(gt=0.0)] | None = None
    rate_hz: Annotated[float, Field(ge=0.1, le=10.0)] = 10.0
    speed_limit_kmh: Annotated[float, Field(gt=0.0, le=200.0)] | None = None
    broadcast_range_m: Annotated[float, Field(ge=0.0, le=5000.0)] = 300.0


class RoadsideMessagesSpec(_Spec):
    """`rsus.messages`: the RSU downlink, perception and scripted RSI events."""

    downlink: DownlinkSpec = Field(default_factory=DownlinkSpec)
    perception: PerceptionSpec = Field(default_factory=PerceptionSpec)
    rsi: list[RsiEventSpec] = Field(default_factory=list)


class BackhaulSpec(_Spec):
    """RSU <-> edge link: one FIFO per RSU and direction. §5.3: 0.5-2 ms one way over 1-3
    switched hops; fibre 5 us/km; 1 GbE to the cabinet."""

    latency: LatencySpec = Field(default_factory=LatencySpec)
    bandwidth_mbps: Annotated[float, Field(gt=0.0, le=100_000.0)] = 1000.0
    loss_probability: Probability = 0.0
    buffer_bytes: Annotated[int, Field(ge=1, le=10**10)] = Field(
        default=1_000_000, description="Bytes waiting per link; a message finding more is dropped "
        "(tail drop; 1 MB, assumed)")
    fibre_km_per_ms: Annotated[float, Field(gt=0.0)] = Field(
        default=200.0, description="Propagation: 5 us/km (§5.3) = 200 km per ms")


class TaskSpec(_Spec):
    """Service time (lognormal mean/sd, plus per input item) and deadline of one edge task type;
    the deadline counts from the task's arrival at the edge (later results are dropped)."""

    mean_ms: Annotated[float, Field(gt=0.0, le=10_000.0)]
    sd_ms: Annotated[float, Field(ge=0.0, le=10_000.0)]
    per_item_ms: Annotated[float, Field(ge=0.0, le=1000.0)] = 0.0
    deadline_ms: Annotated[float, Field(gt=0.0, le=60_000.0)] = 100.0


def _fusion() -> TaskSpec:
    # §5.3: sensor fusion / object-level perception 10-50 ms; a frame older than the next two
    # frames (at 10 Hz) is useless, so 100 ms from arrival (assumed).
    return TaskSpec(mean_ms=25.0, sd_ms=8.0, per_item_ms=0.2, deadline_ms=100.0)


def _collision_risk() -> TaskSpec:
    # Kinematic TTC checks over object lists: a few ms (assumed); 50 ms from arrival, half the
    # 100 ms V2V safety budget (TS 22.185), since the BSMs already spent ~50 ms on the air (SPS).
    return TaskSpec(mean_ms=3.0, sd_ms=1.0, per_item_ms=0.02, deadline_ms=50.0)


class EdgeTasksSpec(_Spec):
    fusion: TaskSpec = Field(default_factory=_fusion)
    collision_risk: TaskSpec = Field(default_factory=_collision_risk)


class EdgeNodeSpec(_Spec):
    id: str = Field(min_length=1)
    position: Point
    cores: Annotated[int, Field(ge=1, le=1024)] = 4
    queue_limit: Annotated[int, Field(ge=0, le=1_000_000)] = Field(
        default=64, description="Tasks waiting for a core; more are dropped")
    rsus: list[Annotated[int, Field(ge=0)]] | None = Field(
        default=None, description="RSU indices served (explicit assignment); default: nearest")


class UuSpec(_Spec):
    """Vehicle <-> edge over the cellular Uu interface. §5.3: 5G NR 4-10 ms one way, LTE 10-20 ms."""

    enabled: bool = False
    technology: Literal["nr", "lte"] = "nr"
    uplink: LatencySpec | None = Field(default=None, description="Default: per technology")
    downlink: LatencySpec | None = Field(default=None, description="Default: per technology")
    loss_probability: Probability = 0.0
    alert_radius_m: Annotated[float, Field(gt=0.0, le=5000.0)] = 300.0

    def latency(self, direction: str) -> LatencySpec:
        given = self.uplink if direction == "uplink" else self.downlink
        if given is not None:
            return given
        low, high = (4.0, 10.0) if self.technology == "nr" else (10.0, 20.0)
        return LatencySpec(kind="uniform", low_ms=low, high_ms=high)


class CollisionRiskSpec(_Spec):
    """What the edge's collision-risk assessment flags: a follower whose TTC to its leader is
    below `ttc_s`, a stopped vehicle on a road faster than `stopped_limit_kmh`, or a BSM with the
    hard-braking event flag."""

    ttc_s: Annotated[float, Field(gt=0.0, le=20.0)] = 4.0
    stopped_speed_mps: Annotated[float, Field(ge=0.0, le=10.0)] = 1.0
    stopped_limit_kmh: Annotated[float, Field(ge=0.0, le=200.0)] = 60.0
    alert_valid_s: Annotated[float, Field(gt=0.0, le=60.0)] = 1.0
    alert_rate_hz: Annotated[float, Field(ge=0.1, le=10.0)] = 10.0
    broadcast_range_m: Annotated[float, Field(ge=0.0, le=5000.0)] = 300.0


class EdgeSpec(_Spec):
    """`edge`: MEC servers, their backhaul, tasks, RSU assignment and failover."""

    nodes: list[EdgeNodeSpec] = Field(default_factory=list)
    backhaul: BackhaulSpec = Field(default_factory=BackhaulSpec)
    tasks: EdgeTasksSpec = Field(default_factory=EdgeTasksSpec)
    forward_bsms: bool = Field(default=True, description="RSUs forward received BSMs to the edge")
    collision_risk: CollisionRiskSpec = Field(default_factory=CollisionRiskSpec)
    failover: bool = Field(default=True, description="RSUs of a failed edge move to the nearest live one")
    failover_detection_ms: Annotated[int, Field(ge=0, le=60_000)] = Field(
        default=300, description="Time to notice a dead edge (3 missed 100 ms heartbeats, assumed)")
    uu: UuSpec = Field(default_factory=UuSpec)

    @model_validator(mode="after")
    def _unique_ids(self) -> EdgeSpec:
        ids = [n.id for n in self.nodes]
        if len(set(ids)) != len(ids):
            raise ValueError("edge node ids must be unique")
        return self


class RsuOutageFault(_Spec):
    kind: Literal["rsu-outage"]
    rsus: list[Annotated[int, Field(ge=0)]] = Field(min_length=1, description="RSU indices")
    at_s: Annotated[float, Field(ge=0.0)]
    until_s: Annotated[float, Field(gt=0.0)] | None = Field(default=None, description="Recovery")


class BackhaulFault(_Spec):
    kind: Literal["backhaul-degradation"]
    rsus: list[Annotated[int, Field(ge=0)]] | None = Field(default=None, description="Default: all")
    at_s: Annotated[float, Field(ge=0.0)]
    until_s: Annotated[float, Field(gt=0.0)] | None = None
    extra_latency_ms: NonNegMs = 0.0
    loss_probability: Probability = 0.0


class EdgeFailureFault(_Spec):
    kind: Literal["edge-failure"]
    edge: str = Field(min_length=1, description="Edge node id")
    at_s: Annotated[float, Field(ge=0.0)]
    until_s: Annotated[float, Field(gt=0.0)] | None = None


class GnssErrorFault(_Spec):
    kind: Literal["gnss-error"]
    share: Probability = Field(description="Share of vehicles affected (keyed draw per vehicle)")
    sigma_m: Annotated[float, Field(ge=0.0, le=1000.0)] = Field(
        description="Std dev of the horizontal position error per axis")
    at_s: Annotated[float, Field(ge=0.0)] = 0.0
    until_s: Annotated[float, Field(gt=0.0)] | None = None


FaultSpec = Annotated[
    RsuOutageFault | BackhaulFault | EdgeFailureFault | GnssErrorFault,
    Field(discriminator="kind"),
]
