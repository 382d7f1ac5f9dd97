"""Scenario specs of the CSAE 53 day-one V2X applications (`applications:` in a scenario file).

Each application has its trigger parameters and its communication requirement: `range_m` and
`max_latency_ms` (messages older than that are ignored and counted). Defaults are the T/CSAE 53
§5 basic performance figures summarised in docs/radio-model.md §4.1: V2V safety >= 300 m, ICW and V2I
>= 150 m, <= 100 ms; TJW (like IVS) tolerates <= 500 ms. They are scenario parameters, not
constants, until checked against the standard's text.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sim.spec.base import SpecModel


class _Spec(SpecModel):
    """Strict, frozen, no NaN/inf, no control characters (sim.spec.base)."""


Range = Annotated[float, Field(gt=0.0, le=2000.0)]
Latency = Annotated[float, Field(gt=0.0, le=5000.0)]
Decel = Annotated[float, Field(gt=0.0, le=9.0)]
Seconds = Annotated[float, Field(gt=0.0, le=60.0)]


class EbwSpec(_Spec):
    """Emergency brake warning: BSMs flagged 'hard braking' warn equipped followers in range."""

    enabled: bool = False
    range_m: Annotated[float, Field(gt=0.0, le=2000.0)] = Field(
        default=300.0, description="CSAE 53 V2V safety range (>= 300 m)"
    )
    decel_mps2: Annotated[float, Field(gt=0.0, le=9.0)] = Field(
        default=3.0, description="Precautionary braking of a warned vehicle"
    )
    duration_s: Annotated[float, Field(gt=0.0, le=30.0)] = 2.0
    max_latency_ms: Annotated[float, Field(gt=0.0, le=5000.0)] = 100.0
    brake_ttc_s: Annotated[float, Field(gt=0.0, le=60.0)] = Field(
        default=8.0, description="Brake once the TTC to the braking sender is below this")
    max_decel_mps2: Annotated[float, Field(gt=0.0, le=9.0)] = 8.0


class FcwSpec(_Spec):
    """Forward collision warning (BSM): TTC to a same-lane vehicle ahead below `ttc_warn_s`."""

    enabled: bool = False
    range_m: Range = Field(default=300.0, description="CSAE 53 V2V safety range (>= 300 m)")
    max_latency_ms: Latency = 100.0
    ttc_warn_s: Seconds = Field(default=3.0, description="Warn below this time-to-collision")
    decel_mps2: Decel = Field(default=2.0, description="Least braking of a warned driver")
    max_decel_mps2: Decel = 8.0
    duration_s: Seconds = Field(default=1.0, description="Braking window, renewed by each BSM")


class IcwSpec(_Spec):
    """Intersection collision warning (BSM + MAP): overlapping times at a conflict point."""

    enabled: bool = False
    range_m: Range = Field(default=150.0, description="CSAE 53 ICW range (>= 150 m)")
    max_latency_ms: Latency = 100.0
    warn_time_s: Seconds = Field(default=6.0, description="Warn when entering the zone within this")
    margin_s: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        default=1.5, description="Occupancy intervals closer than this count as overlapping")
    decel_mps2: Decel = 2.0
    max_decel_mps2: Decel = 8.0


class RlvwSpec(_Spec):
    """Red-light violation warning (SPAT + MAP): at its speed the host would pass on red."""

    enabled: bool = False
    range_m: Range = 150.0
    max_latency_ms: Latency = 100.0
    decel_mps2: Decel = Field(default=2.0, description=(
        "Warn once the stop needs this much braking (the last comfortable moment)"))
    max_decel_mps2: Decel = Field(default=6.0, description="Beyond this the stop is not asked")


class SlwSpec(_Spec):
    """Speed limit warning (RSI / MAP): host faster than the limit -> advice to the limit."""

    enabled: bool = False
    range_m: Range = 150.0
    max_latency_ms: Latency = 100.0
    tolerance_kmh: Annotated[float, Field(ge=0.0, le=30.0)] = Field(
        default=0.0, description="Warn above limit + this")
    duration_s: Seconds = 5.0

    @property
    def tolerance_mps(self) -> float:
        return self.tolerance_kmh / 3.6


class VrucwSpec(_Spec):
    """Vulnerable road user collision warning (RSM / pedestrians): predicted path conflict."""

    enabled: bool = False
    range_m: Range = 150.0
    max_latency_ms: Latency = 100.0
    perception_range_m: Range = Field(
        default=100.0, description="An RSU's RSM lists pedestrians within this distance of it")
    conflict_radius_m: Annotated[float, Field(gt=0.0, le=10.0)] = Field(
        default=2.5, description="Closest approach below this is a conflict")
    horizon_s: Seconds = Field(default=5.0, description="Prediction horizon")
    decel_mps2: Decel = 2.0
    max_decel_mps2: Decel = 8.0


class GlosaSpec(_Spec):
    """Green light optimal speed advisory (SPAT + MAP): arrive on green instead of stopping."""

    enabled: bool = False
    range_m: Range = 150.0
    max_latency_ms: Latency = 200.0
    min_speed_kmh: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        default=15.0, description="No advice below this speed (stopping is better)")
    duration_s: Seconds = 1.0

    @property
    def min_speed_mps(self) -> float:
        return self.min_speed_kmh / 3.6


class EvwSpec(_Spec):
    """Emergency vehicle warning (BSM of an emergency-class vehicle behind): yield by slowing."""

    enabled: bool = False
    range_m: Range = 300.0
    max_latency_ms: Latency = 100.0
    yield_speed_factor: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.7, description="Advised speed as a share of the host's speed")
    duration_s: Seconds = 5.0


class TjwSpec(_Spec):
    """Traffic jam warning (BSM / RSI): slow or stopped vehicles ahead beyond sight."""

    enabled: bool = False
    range_m: Range = 500.0
    max_latency_ms: Latency = Field(default=500.0, description="CSAE 53: <= 500 ms for TJW/IVS")
    sight_m: Range = Field(default=150.0, description="Closer than this the driver sees the queue")
    jam_speed_kmh: Annotated[float, Field(gt=0.0, le=60.0)] = 20.0
    approach_speed_kmh: Annotated[float, Field(gt=0.0, le=150.0)] = Field(
        default=60.0, description="Advised speed towards the jam tail")
    duration_s: Seconds = 3.0

    @property
    def jam_speed_mps(self) -> float:
        return self.jam_speed_kmh / 3.6

    @property
    def approach_speed_mps(self) -> float:
        return self.approach_speed_kmh / 3.6
