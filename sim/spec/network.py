"""Specs for SUMO inputs: a `.net.xml` as the road network, SUMO demand, and the mobility engine.

    network:  {sumo_net: my-town.net.xml}     # roads, junction paths, traffic lights
    traffic:  {sumo_routes: my-town.rou.xml}  # routes, trips or flows (optional)
    mobility: {engine: internal}              # or sumo (libsumo co-simulation)

Paths are relative to the scenario file, as `map.geojson` is.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from sim.spec.base import SpecModel


class _Spec(SpecModel):
    """Strict, frozen, no NaN/inf, no control characters (sim.spec.base)."""


class NetOrigin(_Spec):
    lat: Annotated[float, Field(ge=-90.0, le=90.0)]
    lon: Annotated[float, Field(ge=-180.0, le=180.0)]


class NetworkSpec(_Spec):
    sumo_net: str = Field(description="SUMO network (.net.xml), relative to the scenario file; "
                          "its edges are the roads routes name, its traffic lights the signals")
    origin: NetOrigin | None = Field(
        default=None, description="Where a net without geo-reference lies (its x/y = 0/0); "
        "default: Changchun Auto City. Geo-referenced nets keep their own projection")
    signals: bool = Field(default=True, description="Turn the net's traffic lights (tlLogic) "
                          "into signals (with SPaT/MAP content for RSUs)")
    signals_off: list[str] = Field(
        default_factory=list, description="Traffic lights (tlLogic ids) switched off: dark or "
        "flashing yellow, the junction's right-of-way rules apply (SUMO's 'off' program); no "
        "SPaT/MAP from them")


class TrafficSpec(_Spec):
    sumo_routes: str | None = Field(
        default=None, description="SUMO demand (.rou.xml: vehicles, trips, flows; trips and "
        "from/to flows are routed with duarouter); each vehicle drives its own route")
    depart_until_s: Annotated[float, Field(gt=0.0)] | None = Field(
        default=None, description="Ignore SUMO departures after this time (default: all)")


class MobilityEngineSpec(_Spec):
    engine: Literal["internal", "sumo"] = Field(
        default="internal", description="internal: v2xsim's IDM/MOBIL on the routes; sumo: SUMO "
        "moves the vehicles (libsumo, lock-step with the mobility step), v2xsim does the rest")
