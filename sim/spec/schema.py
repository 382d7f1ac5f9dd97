"""Typed, frozen scenario specs (pydantic v2).

A scenario file is validated into these models once, at load. Unknown keys are rejected (with their
path), every number is range-checked, and keys carry their unit in the name (`speed_limit_kmh`,
`tx_power_dbm`). Non-SI inputs (km/h, veh/h) are converted once by the `*_mps` / `*_per_s`
properties, which is all the builder reads. The JSON Schema of `ScenarioSpec` is what
`v2xsim schema` prints for editors.

Why one long module: it is the single, flat list of every scenario key (one pydantic model per
section); editors and `v2xsim schema` read it as one document, and its models are data only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.spec.apps import (
    EbwSpec,
    EvwSpec,
    FcwSpec,
    GlosaSpec,
    IcwSpec,
    RlvwSpec,
    SlwSpec,
    TjwSpec,
    VrucwSpec,
)
from sim.spec.base import SpecModel
from sim.spec.expect import EXPECT_DESCRIPTION, Expectations
from sim.spec.network import MobilityEngineSpec, NetworkSpec, TrafficSpec
from sim.spec.roadside import EdgeSpec, FaultSpec, RoadsideMessagesSpec
from sim.spec.units import kmh_to_mps, per_hour_to_per_s


class Spec(SpecModel):
    """Strict, frozen, no NaN/inf, no control characters (sim.spec.base)."""


Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class LatLon(Spec):
    lat: Annotated[float, Field(ge=-90.0, le=90.0, description="Latitude, degrees WGS84")]
    lon: Annotated[float, Field(ge=-180.0, le=180.0, description="Longitude, degrees WGS84")]


class MapSpec(Spec):
    geojson: str = Field(description="Road GeoJSON (WGS84), relative to the scenario file")
    origin: LatLon | None = Field(
        default=None, description="Projection origin; default: centre of the routes' bounding box"
    )
    speed_limits_kmh: dict[str, Annotated[float, Field(gt=0.0, le=200.0)]] = Field(
        default_factory=dict,
        description="Per-road speed limit overrides by road name (else the road's "
        "speed_limit_kmh_assumed); a route's own speed_limit_kmh overrides both",
    )
    buildings_nlos: bool = Field(
        default=False,
        description="Polygon features of the map with properties.building: true block the direct "
        "path of links through them (TR 37.885 urban NLOS path loss, 4 dB shadowing)",
    )


class RampSpec(Spec):
    """An expressway ramp modelled on the main route. `on-ramp`: an acceleration lane to the right
    of the main lanes from `position_m` over `length_m`, fed by `flow_veh_h`, whose vehicles must
    merge left before it ends. `off-ramp`: a diverge at `position_m` taken by `share` of the route's
    vehicles, which move to the right lane beforehand and leave there."""

    kind: Literal["on-ramp", "off-ramp"]
    position_m: Annotated[float, Field(ge=0.0)] = Field(description="Arc position along the route")
    length_m: Annotated[float, Field(gt=20.0, le=2000.0)] = Field(
        default=230.0, description="Acceleration lane length (on-ramp)"
    )
    flow_veh_h: Annotated[float, Field(ge=0.0, le=3000.0)] = Field(
        default=0.0, description="Poisson inflow from the on-ramp, vehicles per hour"
    )
    share: Probability = Field(
        default=0.0, description="Share of the route's vehicles leaving here"
    )
    prepare_m: Annotated[float, Field(gt=0.0, le=5000.0)] = Field(
        default=800.0, description="Exiting vehicles keep right from this far before the diverge"
    )


class RouteSpec(Spec):
    id: str = Field(min_length=1, description="Route name, unique in the scenario")
    roads: list[str] = Field(
        min_length=1, description="Road feature names (GeoJSON properties.name), in driving order"
    )
    reverse: bool = Field(default=False, description="Drive the chained roads end to start")
    last_road_m: Annotated[float, Field(gt=0.0)] | None = Field(
        default=None, description="Drive only this far along the last road (from its junction)"
    )
    lanes: Annotated[int, Field(ge=1, le=8)] | None = Field(
        default=None, description="Lanes in this direction; default: the road's lanes_per_direction"
    )
    lane_width_m: Annotated[float, Field(gt=2.0, le=6.0)] = 3.75
    speed_limit_kmh: Annotated[float, Field(gt=0.0, le=200.0)] | None = Field(
        default=None, description="Speed limit; default: the first road's speed_limit_kmh"
    )
    flow_veh_h_per_lane: Annotated[float, Field(ge=0.0, le=3000.0)] = Field(
        default=0.0, description="Poisson inflow at the route start, vehicles per hour per lane"
    )
    initial_density_veh_km_per_lane: Annotated[float, Field(ge=0.0, le=150.0)] = Field(
        default=0.0, description="Vehicles placed at t = 0, per km per lane (exponential spacing)"
    )
    ramps: list[RampSpec] = Field(default_factory=list, description="On/off ramps of this route")

    @property
    def speed_limit_mps(self) -> float | None:
        return None if self.speed_limit_kmh is None else kmh_to_mps(self.speed_limit_kmh)

    @property
    def flow_veh_s_per_lane(self) -> float:
        return per_hour_to_per_s(self.flow_veh_h_per_lane)


VehicleClassName = Literal["car", "bus", "truck", "logistics", "sanitation", "emergency"]
AutomationLevel = Literal["L0", "L1", "L2", "L3", "L4"]


class DriverSpec(Spec):
    """Car-following parameters of one driver group (IDM plus a reaction delay)."""

    reaction_time_s: Annotated[float, Field(ge=0.0, le=3.0)]
    reaction_time_sd_s: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    time_headway_s: Annotated[float, Field(gt=0.0, le=5.0)]
    desired_speed_factor: Annotated[float, Field(gt=0.3, le=1.5)] = 1.0
    desired_speed_factor_sd: Annotated[float, Field(ge=0.0, le=0.3)] = 0.0
    misses_priority_share: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=0.0, description="Share of these drivers who do not see crossing traffic that has "
        "right of way in time (the blind corner, a misjudged gap) and so do not give way inside "
        "junctions; per vehicle, both engines (SUMO: junctionModel.ignoreTypes)")


def _human() -> DriverSpec:
    # Human drivers: ~1 s perception-reaction (Green 2000: 0.7-1.5 s for expected events), 1.5 s gap.
    return DriverSpec(
        reaction_time_s=0.9,
        reaction_time_sd_s=0.2,
        time_headway_s=1.5,
        desired_speed_factor=1.0,
        desired_speed_factor_sd=0.08,
    )


def _automated() -> DriverSpec:
    # L3/L4 ADS: sensing-to-actuation delay ~0.2 s, tighter but steady 1.1 s gap, keeps the limit.
    return DriverSpec(
        reaction_time_s=0.2,
        reaction_time_sd_s=0.03,
        time_headway_s=1.1,
        desired_speed_factor=1.0,
        desired_speed_factor_sd=0.0,
    )


class LaneChangeSpec(Spec):
    """MOBIL (Kesting, Treiber & Helbing 2007) with a keep-right bias; defaults are theirs."""

    enabled: bool = True
    politeness: Annotated[float, Field(ge=0.0, le=1.0)] = 0.3
    threshold_mps2: Annotated[float, Field(ge=0.0, le=2.0)] = 0.2
    safe_decel_mps2: Annotated[float, Field(gt=0.0, le=9.0)] = 4.0
    bias_right_mps2: Annotated[float, Field(ge=0.0, le=2.0)] = 0.2
    min_interval_s: Annotated[float, Field(ge=0.0, le=60.0)] = 3.0


class ServiceSpec(Spec):
    """Low-speed L4 service behaviour of a vehicle class (logistics, sanitation): a working speed
    and kerb-side stops in the right lane, spaced exponentially with mean `stop_every_m`."""

    desired_speed_kmh: Annotated[float, Field(gt=0.0, le=120.0)]
    stop_every_m: Annotated[float, Field(gt=10.0, le=100_000.0)]
    dwell_s: Annotated[float, Field(gt=0.0, le=3600.0)]
    dwell_sd_s: Annotated[float, Field(ge=0.0, le=600.0)] = 0.0
    automation: AutomationLevel | None = Field(
        default="L4", description="Automation level of the whole class (None: the fleet's mix)"
    )


class FleetSpec(Spec):
    classes: dict[VehicleClassName, Probability] = Field(
        default_factory=lambda: dict[VehicleClassName, float]({"car": 1.0}),
        description="Share of each vehicle class among new vehicles (normalised)",
    )
    automation: dict[AutomationLevel, Probability] = Field(
        default_factory=lambda: dict[AutomationLevel, float]({"L0": 0.3, "L2": 0.5, "L3": 0.15, "L4": 0.05}),
        description="Share of each SAE automation level (L0-L2 human-driven, L3/L4 automated)",
    )
    v2x_penetration: Probability = Field(default=1.0, description="Share of V2X-equipped vehicles")
    human: DriverSpec = Field(default_factory=_human)
    automated: DriverSpec = Field(default_factory=_automated)
    lane_changing: LaneChangeSpec = Field(default_factory=LaneChangeSpec)
    service: dict[VehicleClassName, ServiceSpec] = Field(
        default_factory=dict,
        description="Service behaviour (working speed, kerb-side stops) per class",
    )

    @model_validator(mode="after")
    def _shares_positive(self) -> FleetSpec:
        for key in ("classes", "automation"):
            if sum(getattr(self, key).values()) <= 0.0:
                raise ValueError(f"{key}: shares must not all be zero")
        return self


PathLossName = Literal["tr37885-highway", "tr37885-urban", "winner-b1", "winner-b1-gm2019"]


class DecodingSpec(Spec):
    mode: Literal["threshold", "bler"] = Field(
        default="threshold", description="SINR threshold (step) or a BLER-vs-SINR curve"
    )
    gamma_min_db: float | None = Field(
        default=None, description="Threshold SINR; default: from message size and MCS (WiLab)"
    )
    bler_curve: Literal["gm2019-coding1", "gm2019-coding2"] = "gm2019-coding1"
    sensitivity_dbm: Annotated[float, Field(ge=-140.0, le=-40.0)] | None = Field(
        default=None, description="Packets received below this power are not decoded"
    )
    min_sci_sinr_db: Annotated[float, Field(ge=-10.0, le=20.0)] = Field(
        default=0.0, description="SCI (PSCCH) decoding threshold"
    )


Priority = Annotated[int, Field(ge=1, le=8)]


class MessagePrioritySpec(Spec):
    """SL priority (PPPP / NR L1 priority, 1 = highest) of each message stream [K]: values are
    this project's assumption (event alerts above periodic status, MAP lowest), not a standard's
    table; only the NR per-priority X reads them."""

    bsm: Priority = 5
    spat: Priority = 4
    map: Priority = 6
    rsi: Priority = 2
    rsm: Priority = 3


class SchedulerSpec(Spec):
    """Resource selection. `sps` is LTE-V2X Mode 4 (TS 36.213 §14.1.1.6), `sps-nr` the NR Mode 2
    variant (no S-RSSI ranking), `random` a fresh random resource per packet (no sensing)."""

    kind: Literal["sps", "sps-nr", "random"] = "sps"
    t1_ms: Annotated[int, Field(ge=1, le=4)] = 1
    t2_ms: Annotated[int, Field(ge=20, le=100)] = 100
    rri_ms: Literal[20, 50, 100] = Field(default=100, description="Resource reservation interval")
    p_keep: Annotated[float, Field(ge=0.0, le=0.8)] = Field(
        default=0.4, description="Probability of keeping the resource when the counter expires"
    )
    rsrp_threshold_dbm: Annotated[float, Field(ge=-128.0, le=0.0)] = Field(
        default=-110.0, description="Initial PSSCH-RSRP exclusion threshold (raised in +3 dB steps)"
    )
    rsrp_measure: Literal["per-re", "total"] = Field(
        default="per-re",
        description="PSSCH-RSRP per resource element (3GPP) or total received power (GM-2019)",
    )
    candidate_fraction: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.2, description="X: share of candidates that must remain (20 % in LTE)"
    )
    candidate_fraction_by_priority: (
        # float literals are not PEP 586 types, but pydantic validates them (and the schema lists them)
        Annotated[list[Literal[0.2, 0.35, 0.5]], Field(min_length=8, max_length=8)]  # type: ignore[valid-type]
        | None
    ) = Field(
        default=None,
        description="sps-nr only: exactly 8 values, X per SL priority 1..8 (TS 38.214 §8.1.4, "
        "sl-TxPercentageList of TS 38.331; the per-priority RSRP thresholds sl-Thres-RSRP-List "
        "are not modelled); each 0.2, 0.35 or 0.5, e.g. [0.2, 0.2, 0.35, 0.35, 0.5, 0.5, 0.5, "
        "0.5]; a packet's priority comes "
        "from `priorities`. Default: candidate_fraction for every priority",
    )
    priorities: MessagePrioritySpec = Field(default_factory=lambda: MessagePrioritySpec())

    @model_validator(mode="after")
    def _per_priority_x_is_nr(self) -> SchedulerSpec:
        if self.candidate_fraction_by_priority is not None and self.kind != "sps-nr":
            raise ValueError(
                "candidate_fraction_by_priority is NR Mode 2 only (kind: sps-nr); "
                f"kind {self.kind} does not use it (LTE Mode 4 has the single candidate_fraction)"
            )
        return self
    sensing_window_ms: Annotated[int, Field(ge=100, le=1100)] = 1000
    overlap_allowed: bool = Field(
        default=False, description="Resources may start at any subchannel (else multiples of L)"
    )


class CongestionSpec(Spec):
    kind: Literal["none", "etsi-reactive"] = Field(
        default="none",
        description="CBR-adaptive BSM rate. none: every BSM at messages.bsm.rate_hz. "
        "etsi-reactive: ETSI TS 102 687 V1.2.1 reactive DCC (Annex A, T_on <= 1 ms): each vehicle "
        "maps its own CBR over the last 100 ms to relaxed (<30 %), active 1-3 (30/40/50 %) or "
        "restrictive (>=65 %) and waits at least 100/200/400/500/1000 ms between BSMs; SPS keeps "
        "the 100 ms reservation and skips the unused ones (sim/radio/dcc.py)",
    )


class RadioSpec(Spec):
    carrier_ghz: Annotated[float, Field(ge=0.5, le=100.0)] = 5.9
    bandwidth_mhz: Literal[10, 20] = 10
    subchannel_size_prb: Literal[4, 5, 6, 8, 9, 10, 12, 15, 16, 18, 20, 25, 30, 48, 50] = 10
    mcs: Annotated[int, Field(ge=0, le=20)] = 7
    tx_power_dbm: Annotated[float, Field(ge=-10.0, le=33.0)] = 23.0
    antenna_gain_dbi: Annotated[float, Field(ge=-10.0, le=20.0)] = 3.0
    antenna_height_m: Annotated[float, Field(gt=0.0, le=10.0)] = 1.5
    noise_figure_db: Annotated[float, Field(ge=0.0, le=20.0)] = 9.0
    pathloss: PathLossName = "tr37885-highway"
    shadowing_sigma_db: Annotated[float, Field(ge=0.0, le=12.0)] | None = Field(
        default=None, description="Default: 3 dB (LOS/NLOSv), 4 dB (NLOS), per TR 37.885"
    )
    shadowing_coherence_s: Annotated[float, Field(gt=0.0, le=60.0)] = Field(
        default=1.0, description="A link keeps its shadowing and LOS state for this long"
    )
    shadowing_correlation: Literal["none", "gudmundson"] = Field(
        default="none",
        description="none: a link redraws its shadowing every shadowing_coherence_s. gudmundson: "
        "spatially correlated, reciprocal shadowing, an AR(1) process in the distance the pair has "
        "moved with coefficient exp(-d_moved / shadowing_decorrelation_m) (Gudmundson 1991; "
        "TR 36.885 / WiLabV2Xsim), sim/radio/channel.py; LOS state and NLOSv blockage still "
        "change every shadowing_coherence_s",
    )
    shadowing_decorrelation_m: Annotated[float, Field(gt=0.0, le=1000.0)] | None = Field(
        default=None,
        description="Gudmundson decorrelation distance. Default by path loss: 25 m for "
        "tr37885-highway and winner-b1-gm2019 (TR 36.885 freeway, WiLab D_corr), 10 m for "
        "tr37885-urban and winner-b1 (TR 36.885 urban; TR 37.885 Table 6.2.3-1 LOS as in ns-3)",
    )
    blocker_height_m: Annotated[float, Field(gt=0.0, le=5.0)] = Field(
        default=1.6, description="Height of blocking vehicles for TR 37.885 NLOSv"
    )
    interference_range_m: Annotated[float, Field(ge=100.0, le=10_000.0)] = Field(
        default=1500.0, description="Links beyond this distance are neither received nor interfere"
    )
    link_range_m: Annotated[float, Field(ge=50.0, le=10_000.0)] | None = Field(
        default=None,
        description="Links up to this distance are evaluated one by one (LOS, blockage and "
        "shadowing draws, SINR, decoding); longer ones, up to interference_range_m, keep their "
        "LOS state and get one keyed log-normal draw with that state's mean and variance of "
        "linear gain, add it to "
        "interference, S-RSSI and CBR and have their SCI sensed (SPS excludes their "
        "resources), but are never received, so PRR bins beyond it stay empty. With Gudmundson "
        "shadowing far links still draw per coherence epoch. Default: every link exact. "
        "A speed/fidelity trade-off for dense scenarios (README: Benchmarks)",
    )
    cbr_threshold_dbm: Annotated[float, Field(ge=-120.0, le=-40.0)] = Field(
        default=-94.0, description="S-RSSI above which a subchannel counts busy (3GPP CBR)"
    )
    decoding: DecodingSpec = Field(default_factory=DecodingSpec)
    scheduler: SchedulerSpec = Field(default_factory=SchedulerSpec)
    congestion: CongestionSpec = Field(default_factory=CongestionSpec)
    batch_ms: Annotated[int, Field(ge=1, le=1000)] = Field(
        default=20,
        description="Subframes evaluated per radio batch; SPS sensing is at most this stale. "
        "Must divide step_s. 20 ms matches the packet-level GM-2019 collision rates; 100 ms "
        "overstates collisions (see README).",
    )
    kernel: Literal["auto", "numba", "numpy"] = Field(
        default="auto",
        description="Radio step implementation: the fused numba kernel, the numpy columns, or "
        "numba when installed. Same model; results agree to floating-point rounding.",
    )

    @model_validator(mode="after")
    def _link_range_within_interference_range(self) -> RadioSpec:
        if self.link_range_m is not None and self.link_range_m > self.interference_range_m:
            raise ValueError(
                f"link_range_m ({self.link_range_m:g} m) must not exceed interference_range_m "
                f"({self.interference_range_m:g} m)"
            )
        return self


class BsmSpec(Spec):
    rate_hz: Annotated[float, Field(gt=0.0, le=50.0)] = 10.0
    size_bytes: Annotated[int, Field(ge=20, le=1500)] = 190
    hard_braking_event_mps2: Annotated[float, Field(gt=0.0, le=10.0)] = Field(
        default=4.0, description="Deceleration above which the OBU sets the BSM's hard-braking "
        "event flag (CSAE 53 `events`); the KPI threshold is metrics.hard_braking_mps2")


class MessagesSpec(Spec):
    bsm: BsmSpec = Field(default_factory=BsmSpec)


class RsuSpec(Spec):
    geojson: str | None = Field(default=None, description="Point features: one RSU per point")
    positions: list[LatLon] = Field(default_factory=list, description="Extra RSU sites")
    positions_xy_m: list[Annotated[list[Annotated[float, Field(allow_inf_nan=False)]],
                                   Field(min_length=2, max_length=2)]] = Field(
        default_factory=list,
        description="Extra RSU sites in the SUMO net's own x/y metres (with network.sumo_net)")
    spacing_m: Annotated[float, Field(ge=50.0, le=20_000.0)] | None = Field(
        default=None, description="One RSU every spacing_m along rsus.spacing_routes (the "
        "corridor-deployment layout); added to the other sites: set an inherited rsus.geojson "
        "to null to replace it")
    spacing_routes: list[str] = Field(
        default_factory=list, description="Route ids rsus.spacing_m applies to (default: the "
        "first route)")
    offset_m: Annotated[float, Field(ge=0.0, le=20_000.0)] | None = Field(
        default=None, description="Arc position of the first spaced site (default: half the "
        "spacing, so that the sites sit centred on the route)")
    side: Literal["right", "left"] = Field(
        default="right", description="Side of the route the spaced sites stand on (right: the "
        "kerb side when driving on the right)")
    setback_m: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        default=3.0, description="Spaced sites' distance beyond the route's outer lane edge "
        "(right) or its centre line (left)")
    at_signals: bool = Field(
        default=False, description="One RSU at every signalised junction (urban practice: an "
        "RSU per intersection, sending that signal's SPaT and MAP), besides the sites listed")
    height_m: Annotated[float, Field(gt=0.0, le=30.0)] = 5.0
    tx_power_dbm: Annotated[float, Field(ge=-10.0, le=33.0)] = 23.0
    antenna_gain_dbi: Annotated[float, Field(ge=-10.0, le=20.0)] = 8.0
    noise_figure_db: Annotated[float, Field(ge=0.0, le=20.0)] = 5.0
    max_offset_m: Annotated[float, Field(gt=0.0)] = Field(
        default=2000.0, description="An RSU further than this from every route is an error"
    )
    messages: RoadsideMessagesSpec = Field(default_factory=RoadsideMessagesSpec)


class PhaseSpec(Spec):
    serves: Literal["axis", "cross"]
    green_s: Annotated[float, Field(gt=0.0, le=300.0)]
    yellow_s: Annotated[float, Field(ge=0.0, le=10.0)] = 3.0
    all_red_s: Annotated[float, Field(ge=0.0, le=10.0)] = 2.0


def _two_phase_plan() -> list[PhaseSpec]:
    # A typical Chinese arterial two-phase plan: 120 s cycle (scenarios/data/README.md: 90-150 s, 2-4 phases).
    return [PhaseSpec(serves="axis", green_s=60.0), PhaseSpec(serves="cross", green_s=50.0)]


class SignalSpec(Spec):
    """A fixed-time signalised intersection. Routes passing within `radius_m` get a stop line."""

    id: str = Field(min_length=1)
    position: LatLon
    source: Literal["evidenced", "synthetic"] = Field(
        default="synthetic", description="Whether the intersection is in the source data"
    )
    axis_deg: Annotated[float, Field(ge=0.0, lt=360.0)] | None = Field(
        default=None,
        description="Compass bearing of the main axis (clockwise from north); default: the "
        "direction of the first route through the signal",
    )
    offset_s: Annotated[float, Field(ge=0.0, le=600.0)] = 0.0
    phases: list[PhaseSpec] = Field(default_factory=_two_phase_plan, min_length=1)
    radius_m: Annotated[float, Field(gt=0.0, le=200.0)] = 30.0
    stop_line_offset_m: Annotated[float, Field(ge=0.0, le=60.0)] = Field(
        default=15.0, description="Stop line distance before the intersection centre"
    )


class BusStopSpec(Spec):
    """A stop of a bus line: an arc position on the line's route or a point next to it."""

    name: str = ""
    position_m: Annotated[float, Field(ge=0.0)] | None = None
    position: LatLon | None = None

    @model_validator(mode="after")
    def _one_position(self) -> BusStopSpec:
        if (self.position_m is None) == (self.position is None):
            raise ValueError("give exactly one of position_m and position")
        return self


class BusLineSpec(Spec):
    """A smart bus line: buses dispatched at a fixed headway along one route, stopping at each
    stop in the right lane for `dwell_s`."""

    id: str = Field(min_length=1)
    route: str = Field(min_length=1, description="Route id the line runs on")
    stops: list[BusStopSpec] = Field(min_length=1)
    headway_s: Annotated[float, Field(gt=0.0, le=7200.0)] = 300.0
    first_departure_s: Annotated[float, Field(ge=0.0)] = 0.0
    dwell_s: Annotated[float, Field(gt=0.0, le=600.0)] = 20.0
    dwell_sd_s: Annotated[float, Field(ge=0.0, le=120.0)] = 5.0
    automation: AutomationLevel = "L4"
    max_offset_m: Annotated[float, Field(gt=0.0, le=200.0)] = Field(
        default=30.0,
        description="A stop given as a point further than this from the route is off the line",
    )


class VehicleSpec(Spec):
    """One scripted vehicle entering `route` at `at_s` (e.g. an ambulance, or two vehicles set
    up to meet at an intersection)."""

    vehicle_class: VehicleClassName = "car"
    route: str = Field(min_length=1)
    at_s: Annotated[float, Field(ge=0.0)] = 0.0
    position_m: Annotated[float, Field(ge=0.0)] = 0.0
    lane: Annotated[int, Field(ge=0, le=8)] = 0
    speed_kmh: Annotated[float, Field(ge=0.0, le=250.0)] | None = Field(
        default=None, description="Initial speed; default: its desired speed"
    )
    automation: AutomationLevel = "L0"
    equipped: bool = True


class PedestrianSpec(Spec):
    """Vulnerable road users crossing at signalised intersections: each signal gets a crosswalk
    across every route approaching it, just past the stop line. VRUs arrive at the kerb (Poisson),
    cross during their walk phase (when the crossed approach is red and the other is green), and a
    `violation_share` of them crosses at once whatever the signal (jaywalking)."""

    signals: list[str] | None = Field(default=None, description="Signal ids; default: all")
    arrivals_per_h: Annotated[float, Field(ge=0.0, le=5000.0)] = Field(
        default=120.0, description="Arrivals per crosswalk per hour"
    )
    cyclist_share: Probability = 0.3
    violation_share: Probability = 0.05
    walk_speed_mps: Annotated[float, Field(gt=0.0, le=3.0)] = 1.2
    walk_speed_sd_mps: Annotated[float, Field(ge=0.0, le=1.0)] = 0.2
    cycle_speed_mps: Annotated[float, Field(gt=0.0, le=10.0)] = 4.0
    cycle_speed_sd_mps: Annotated[float, Field(ge=0.0, le=3.0)] = 0.8
    crosswalk_offset_m: Annotated[float, Field(ge=0.0, le=30.0)] = Field(
        default=4.0, description="Crosswalk centre distance past the stop line"
    )
    sidewalk_m: Annotated[float, Field(ge=0.0, le=10.0)] = 3.0
    accepted_gap_s: Annotated[float, Field(ge=0.0, le=30.0)] = Field(
        default=2.0,
        description="A jaywalker starts once the nearest vehicle is this far (in time) away",
    )


class IncidentSpec(Spec):
    """A scripted hazard: the vehicle nearest to `position_m` in `lane` brakes to a standstill and
    stays there: a breakdown (`stopped-vehicle`, 3 m/s2 by default) or an emergency stop
    (`hard-braking`, 8 m/s2 by default). With `duration_s` it drives off again after that long."""

    kind: Literal["stopped-vehicle", "hard-braking"]
    at_s: Annotated[float, Field(ge=0.0)]
    route: str = Field(min_length=1, description="Route id")
    position_m: Annotated[float, Field(ge=0.0)] = Field(description="Arc position along the route")
    lane: Annotated[int, Field(ge=0, le=7)] = 0
    decel_mps2: Annotated[float, Field(gt=0.0, le=10.0)] | None = Field(
        default=None, description="Deceleration; default 3 (stopped-vehicle) or 8 (hard-braking)"
    )
    duration_s: Annotated[float, Field(gt=0.0)] | None = Field(
        default=None, description="Time stopped before driving off (default: stays)"
    )

    @property
    def effective_decel_mps2(self) -> float:
        if self.decel_mps2 is not None:
            return self.decel_mps2
        return 3.0 if self.kind == "stopped-vehicle" else 8.0


class ApplicationsSpec(Spec):
    """CSAE 53 day-one applications, each off unless enabled (sim/spec/apps.py)."""

    ebw: EbwSpec = Field(default_factory=EbwSpec)
    fcw: FcwSpec = Field(default_factory=FcwSpec)
    icw: IcwSpec = Field(default_factory=IcwSpec)
    rlvw: RlvwSpec = Field(default_factory=RlvwSpec)
    slw: SlwSpec = Field(default_factory=SlwSpec)
    vrucw: VrucwSpec = Field(default_factory=VrucwSpec)
    glosa: GlosaSpec = Field(default_factory=GlosaSpec)
    evw: EvwSpec = Field(default_factory=EvwSpec)
    tjw: TjwSpec = Field(default_factory=TjwSpec)
    pet_near_miss_s: Annotated[float, Field(gt=0.0, le=10.0)] = Field(
        default=1.5, description="Crossing conflicts: post-encroachment time below this is a near miss")


class MetricsSpec(Spec):
    warmup_s: Annotated[float, Field(ge=0.0)] = Field(
        default=2.0, description="Radio statistics start after this time (first SPS/transients)"
    )
    prr_bin_m: Annotated[float, Field(gt=0.0, le=100.0)] = 20.0
    prr_max_distance_m: Annotated[float, Field(gt=0.0, le=5000.0)] = 500.0
    prr_report_distances_m: list[Annotated[float, Field(gt=0.0)]] = Field(
        default_factory=lambda: [100.0, 300.0]
    )
    near_miss_ttc_s: Annotated[float, Field(gt=0.0, le=10.0)] = Field(
        default=1.5, description="Time-to-collision below which a follower/leader pair is a near miss"
    )
    hard_braking_mps2: Annotated[float, Field(gt=0.0, le=10.0)] = Field(
        default=4.0, description="Deceleration above which a vehicle counts a hard-braking event"
    )


class TraceSpec(Spec):
    states: bool = Field(default=True, description="Vehicle states every state_interval_s")
    state_interval_s: Annotated[float, Field(gt=0.0, le=60.0)] = 0.1
    transmissions: bool = True
    receptions: bool = Field(default=False, description="Every link outcome (large)")


class OutputSpec(Spec):
    trace: TraceSpec = Field(default_factory=TraceSpec)


class ViewSpec(Spec):
    """Where the viewer's default view looks: the area under test, not the whole network."""

    around: str | None = Field(
        default=None, pattern=r"^(signal|junction|rsu|incident):\S.*$",
        description="signal:ID (a traffic light, also one switched off), junction:ID (a SUMO "
        "junction), rsu:N or incident:N (0-based, in the order listed)")
    center: LatLon | None = Field(default=None, description="Or a point (lon/lat)")
    radius_m: Annotated[float, Field(ge=20.0, le=50_000.0)] = Field(
        default=300.0, description="Half the side of the square the default view frames")

    @model_validator(mode="after")
    def _one_place(self) -> ViewSpec:
        if (self.around is None) == (self.center is None):
            raise ValueError("give exactly one of view.around and view.center")
        return self


class ScenarioSpec(Spec):
    name: str = Field(min_length=1)
    description: str = ""
    base: str | None = Field(default=None, description="Scenario file this one extends")
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 1
    duration_s: Annotated[float, Field(gt=0.0, le=86_400.0)] = 60.0
    step_s: Annotated[float, Field(ge=0.01, le=1.0)] = Field(
        default=0.1, description="Mobility tick and radio batch length"
    )
    map: MapSpec | None = Field(default=None, description="GeoJSON roads (or network.sumo_net)")
    network: NetworkSpec | None = Field(default=None, description="A SUMO network as the roads")
    traffic: TrafficSpec = Field(default_factory=TrafficSpec)
    mobility: MobilityEngineSpec = Field(default_factory=MobilityEngineSpec)

    @field_validator("map", "network", mode="before")
    @classmethod
    def _no_explicit_null(cls, value: object) -> object:
        # an empty `map:` is a slip, not a way to say "no map": leave the key out for that
        if value is None:
            raise ValueError("expected a mapping (leave the key out when there is none)")
        return value
    routes: list[RouteSpec] = Field(
        default_factory=list, description="Routes (road names in driving order; SUMO edge ids "
        "on a SUMO network); at least one unless traffic.sumo_routes brings the demand")
    fleet: FleetSpec = Field(default_factory=FleetSpec)
    radio: RadioSpec = Field(default_factory=RadioSpec)
    messages: MessagesSpec = Field(default_factory=MessagesSpec)
    rsus: RsuSpec = Field(default_factory=RsuSpec)
    signals: list[SignalSpec] = Field(default_factory=list)
    incidents: list[IncidentSpec] = Field(default_factory=list)
    bus_lines: list[BusLineSpec] = Field(default_factory=list)
    vehicles: list[VehicleSpec] = Field(
        default_factory=list, description="Scripted single vehicles"
    )
    pedestrians: PedestrianSpec | None = Field(default=None, description="VRUs crossing at signals")
    applications: ApplicationsSpec = Field(default_factory=ApplicationsSpec)
    edge: EdgeSpec = Field(default_factory=EdgeSpec)
    faults: list[FaultSpec] = Field(default_factory=list)
    metrics: MetricsSpec = Field(default_factory=MetricsSpec)
    output: OutputSpec = Field(default_factory=OutputSpec)
    expect: Expectations = Field(default_factory=dict, description=EXPECT_DESCRIPTION)
    view: ViewSpec | None = Field(default=None, description="The viewer's default view "
                                  "(default: the whole network)")

    @model_validator(mode="after")
    def _unique_route_ids(self) -> ScenarioSpec:
        if self.map is None and self.network is None:
            raise ValueError("give the roads: map.geojson or network.sumo_net")
        if not self.routes and self.traffic.sumo_routes is None:
            raise ValueError("routes: at least one route is needed (or traffic.sumo_routes)")
        if self.traffic.sumo_routes is not None and self.network is None:
            raise ValueError("traffic.sumo_routes needs network.sumo_net (the net it runs on)")
        if self.pedestrians is not None and self.mobility.engine == "sumo":
            raise ValueError("pedestrians need mobility.engine: internal (v2xsim's VRU model "
                             "moves with v2xsim's vehicles; SUMO's do not see them)")
        if self.rsus.positions_xy_m and self.network is None:
            raise ValueError("rsus.positions_xy_m are x/y of a SUMO net: they need network.sumo_net "
                             "(GeoJSON scenarios place RSUs in lon/lat: rsus.positions)")
        if self.mobility.engine == "sumo" and (self.network is None or self.traffic.sumo_routes is None):
            raise ValueError("mobility.engine: sumo needs network.sumo_net and traffic.sumo_routes "
                             "(SUMO moves the vehicles of that demand on that net)")
        ids = [r.id for r in self.routes]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"route ids must be unique; repeated: {', '.join(dupes)}")
        step_ms = self.step_s * 1000.0
        if abs(step_ms - round(step_ms)) > 1e-9:
            raise ValueError("step_s must be a whole number of milliseconds")
        if round(step_ms) % self.radio.batch_ms:
            raise ValueError(
                f"radio.batch_ms ({self.radio.batch_ms}) must divide step_s ({round(step_ms)} ms)"
            )
        return self
