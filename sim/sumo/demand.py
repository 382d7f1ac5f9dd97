"""SUMO demand (`.rou.xml`) as v2xsim trips: vehicles, routes, trips and flows.

The file is first passed through duarouter (from the wheel): trips and from/to flows get their
fastest routes, and every vehicle comes out with an explicit edge list, as SUMO itself would drive
it. We then read it with sumolib and expand flows (period, vehsPerHour, number; probability with a
seeded draw per second). Vehicle types map to our classes by `vClass`, or by their own
`<param key="v2xsim.class" value="sanitation"/>` (and `v2xsim.automation` fixes the automation
level of that type's vehicles, e.g. L4 for a smart bus); depart lane and speed follow
SUMO's meaning (lane 0 is SUMO's kerb lane, our innermost lane is 0; SUMO departs at 0 m/s by
default).
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.core.errors import ScenarioError
from sim.core.input_file import MAX_SUMO_BYTES, check_regular_file
from sim.sumo.tools import SumoUnavailable, first_error, run_tool
from vehicles.classes import AUTOMATION_LEVELS, VEHICLE_CLASSES

#: A vType may name its v2xsim class (e.g. sanitation, which SUMO has no vClass for).
V2XSIM_CLASSES = frozenset(VEHICLE_CLASSES)

#: SUMO vClass -> v2xsim vehicle class; classes not listed (bicycle, pedestrian, rail) are skipped.
VCLASS_TO_CLASS = {
    "passenger": "car", "private": "car", "taxi": "car", "evehicle": "car", "custom1": "car",
    "custom2": "car", "motorcycle": "car", "moped": "car",
    "bus": "bus", "coach": "bus",
    "truck": "truck", "trailer": "truck",
    "delivery": "logistics",
    "emergency": "emergency", "authority": "emergency", "army": "emergency",
}


#: Vehicles a demand may expand to (flows included): a city's peak hour is ~10^4 (10^6 took duarouter
#: and us minutes), and a flow of `period="1e-9"` or `number="1e12"` ran duarouter for hours.
MAX_TRIPS = 200_000


class DemandError(ValueError):
    """A demand file value we cannot use (non-finite, or expanding beyond MAX_TRIPS)."""


@dataclass(frozen=True)
class TripStop:
    """A `<stop>` of a vehicle or flow, given by lane (SUMO stops at a `busStop` need its
    additional file, which v2xsim does not read: those are not listed here)."""

    edge: str
    end_pos_m: float  # on the edge; negative counts from its end, as in SUMO
    duration_s: float


@dataclass(frozen=True)
class Trip:
    id: str
    depart_s: float
    edges: tuple[str, ...]
    vehicle_class: str
    depart_lane: int | None  # SUMO lane index; None = the kerb lane ("first", "best", ...)
    depart_speed_mps: float | None  # None = desired speed ("max", "desired", "speedLimit")
    depart_pos_m: float
    stops: tuple[TripStop, ...] = ()
    #: From the vType's `<param key="v2xsim.automation" value="L4"/>`; None: the fleet's mix.
    automation: str | None = None


def _float(v: Any, default: float) -> float:
    """A number attribute; `default` for SUMO's keywords ("random", "max", ...); NaN and
    infinity refused (sumolib hands us "nan" and "inf" as text, float() accepts both)."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return default
    if not math.isfinite(x):
        raise DemandError(f"{v!r} is not a finite number")
    return x


def _lane(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _speed(v: Any) -> float | None:
    if v is None:
        return 0.0  # SUMO's default departSpeed
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(x):
        raise DemandError(f"departSpeed {v!r} is not a finite number")
    return x


def route_demand(net_path: Path, routes_path: Path, source: str, key: str) -> Path:
    """Runs duarouter: an equivalent demand file where every vehicle and flow has its route."""
    check_regular_file(routes_path, MAX_SUMO_BYTES, source, key)  # no FIFO, device or huge file
    _check_flows(routes_path)  # duarouter expands flows: `number="1e12"` ran for hours
    out_dir = Path(tempfile.mkdtemp(prefix="v2xsim-duarouter-"))
    out = out_dir / "routed.rou.xml"
    try:
        proc = run_tool("duarouter", ["-n", str(net_path), "--route-files", str(routes_path),
                                      "-o", str(out), "--no-step-log", "--no-warnings",
                                      "--write-trips", "false", "--seed", "1",
                                      "--alternatives-output", str(out_dir / "alt.rou.xml")])
    except SumoUnavailable as exc:
        raise ScenarioError(source, key, str(exc)) from None
    except subprocess.TimeoutExpired as exc:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise ScenarioError(str(routes_path), "",
                            f"duarouter took longer than {exc.timeout:.0f} s") from None
    if proc.returncode != 0 or not out.is_file():
        shutil.rmtree(out_dir, ignore_errors=True)
        raise ScenarioError(str(routes_path), "", f"duarouter: {first_error(proc)}")
    return out


def read_demand(net_path: Path, routes_path: Path, source: str, key: str, seed: int,
                until_s: float | None = None) -> list[Trip]:
    """Every vehicle of the demand with its edges, in departure order."""

    routed = route_demand(net_path, routes_path, source, key)
    try:
        return _read_routed(routed, seed, until_s)
    except DemandError as exc:
        raise ScenarioError(str(routes_path), "", str(exc)) from None
    finally:
        shutil.rmtree(routed.parent, ignore_errors=True)


def _read_routed(routed: Path, seed: int, until_s: float | None) -> list[Trip]:
    import sumolib

    vclass: dict[str, str] = {"DEFAULT_VEHTYPE": "passenger", "DEFAULT_BIKETYPE": "bicycle"}
    named: dict[str, tuple[str, ...]] = {}
    trips: list[Trip] = []
    rng = np.random.default_rng(seed)
    v2x_class: dict[str, str] = {}
    automation: dict[str, str] = {}
    for el in sumolib.xml.parse(str(routed), ["vType"]):
        vclass[el.id] = el.getAttributeSecure("vClass", "passenger")
        for p in getattr(el, "param", None) or []:  # v2xsim's own keys; SUMO ignores them
            key, value = p.getAttributeSecure("key", ""), p.getAttributeSecure("value", "")
            if key == "v2xsim.class" and value in V2XSIM_CLASSES:
                v2x_class[el.id] = value
            elif key == "v2xsim.automation" and value in AUTOMATION_LEVELS:
                automation[el.id] = value
    for el in sumolib.xml.parse(str(routed), ["route"]):
        if el.hasAttribute("id") and el.hasAttribute("edges"):
            named[el.id] = tuple(el.edges.split())
    for el in sumolib.xml.parse(str(routed), ["vehicle", "flow"], heterogeneous=True):
        tag = el.name
        edges = _edges_of(el, named)
        if not edges:
            continue
        vtype = el.getAttributeSecure("type", "DEFAULT_VEHTYPE")
        cls = v2x_class.get(vtype) or VCLASS_TO_CLASS.get(vclass.get(vtype, "passenger"))
        if cls is None:
            continue
        lane = _lane(el.getAttributeSecure("departLane", None))
        speed = _speed(el.getAttributeSecure("departSpeed", None))
        pos = _float(el.getAttributeSecure("departPos", 0.0), 0.0)
        if tag == "vehicle":
            times = [(_float(el.depart, 0.0), el.id)]
        else:
            times = [(t, f"{el.id}.{k}") for k, t in enumerate(_flow_times(el, rng))]
        stops = _stops_of(el)
        trips += [Trip(vid, t, edges, cls, lane, speed, pos, stops, automation.get(vtype))
                  for t, vid in times if until_s is None or t <= until_s]
        if len(trips) > MAX_TRIPS:
            raise DemandError(f"the demand expands to more than {MAX_TRIPS:,} vehicles")
    trips.sort(key=lambda tr: (tr.depart_s, tr.id))
    return trips


def _stops_of(el: Any) -> tuple[TripStop, ...]:
    """The lane stops of a vehicle or flow (`<stop lane=... endPos=... duration=...>`)."""
    out = []
    for st in getattr(el, "stop", None) or []:
        lane = st.getAttributeSecure("lane", None)
        if not lane or "_" not in lane:
            continue
        out.append(TripStop(edge=lane.rsplit("_", 1)[0],
                            end_pos_m=_float(st.getAttributeSecure("endPos", -1.0), -1.0),
                            duration_s=max(_float(st.getAttributeSecure("duration", 0.0), 0.0),
                                           0.0)))
    return tuple(out)


def _edges_of(el: Any, named: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    ref = getattr(el, "route", None)
    if isinstance(ref, str):
        return named.get(ref, ())
    if isinstance(ref, list) and ref and getattr(ref[0], "edges", None):
        return tuple(ref[0].edges.split())
    dist = getattr(el, "routeDistribution", None)
    if isinstance(dist, list) and dist and getattr(dist[0], "route", None):
        return tuple(dist[0].route[-1].edges.split())
    return ()


def _check_flows(routes_path: Path) -> None:
    """Every flow's numbers finite and its vehicles within MAX_TRIPS, before duarouter sees it."""
    import sumolib

    try:
        for el in sumolib.xml.parse(str(routes_path), ["flow"]):
            _too_many(_flow_count(el), el)
    except DemandError as exc:
        raise ScenarioError(str(routes_path), "", str(exc)) from None
    except Exception:  # noqa: S110 - malformed XML: duarouter says where, in its own words
        pass


def _flow_form(el: Any) -> tuple[float, float, str, float]:
    """(begin, end, how, value) of a flow: how is "period" (value in s, also from vehsPerHour),
    "number", "probability" (per second) or "" (none of them: no vehicles)."""
    begin = _float(el.getAttributeSecure("begin", 0.0), 0.0)
    end = _float(el.getAttributeSecure("end", 3600.0), 3600.0)
    if el.hasAttribute("period") and not str(el.period).startswith("exp"):
        return begin, end, "period", _float(el.period, 0.0)
    if el.hasAttribute("vehsPerHour"):
        return begin, end, "period", 3600.0 / max(_float(el.vehsPerHour, 1.0), 1e-9)
    if el.hasAttribute("number"):
        return begin, end, "number", _float(el.number, 0)
    if el.hasAttribute("probability"):
        return begin, end, "probability", _float(el.probability, 0.0)
    return begin, end, "", 0.0


def _flow_count(el: Any) -> float:
    """How many vehicles a flow departs (as `_flow_times` expands it)."""
    begin, end, how, value = _flow_form(el)
    if how == "number":
        return max(value, 0.0)
    if how == "probability":
        return max(float(np.ceil(end) - np.floor(begin)), 0.0)
    if how == "period" and value > 0:
        return max(float(np.ceil((end - begin) / value - 1e-9)), 0.0)
    return 0.0


def _too_many(n: float, el: Any) -> None:
    if n > MAX_TRIPS:
        raise DemandError(f"flow {el.getAttributeSecure('id', '?')!r} expands to {n:,.0f} "
                          f"vehicles, more than {MAX_TRIPS:,}")


def _flow_times(el: Any, rng: np.random.Generator) -> list[float]:
    begin, end, how, value = _flow_form(el)
    if how == "number":
        n = max(int(value), 0)
        _too_many(n, el)
        return [begin + k * (end - begin) / n for k in range(n)] if n else []
    if how == "probability":
        _too_many(np.ceil(end) - np.floor(begin), el)
        secs = np.arange(int(np.floor(begin)), int(np.ceil(end)))
        return [float(s) for s in secs[rng.random(len(secs)) < value]]
    if how != "period" or value <= 0:
        return []
    count = np.ceil((end - begin) / value - 1e-9)
    _too_many(count, el)
    return list(begin + value * np.arange(int(count)))
