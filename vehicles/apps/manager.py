"""The application manager: builds the enabled applications and runs them once per radio batch.

The engine calls `after_batch(world, batch)` (it is a `sim.core.world.Participant`) after each
batch, after the roadside network and before the observers: the receptions
are extracted once and handed to every enabled application in a fixed order (safety warnings
first, then advisories), so a run is deterministic. The crossing-conflict monitor runs whether or
not any application is enabled, so runs with and without V2X measure the same thing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from sim.core.world import Participant, World
from sim.radio.medium import RadioBatch
from vehicles.apps.base import AppContext, AppStats, Receptions
from vehicles.apps.crossings import CrossingMonitor, find_crossings
from vehicles.apps.ebw import EbwParams, EmergencyBrakeWarning
from vehicles.apps.evw import EmergencyVehicleWarning, EvwParams
from vehicles.apps.fcw import FcwParams, ForwardCollisionWarning
from vehicles.apps.glosa import Glosa, GlosaParams
from vehicles.apps.icw import IcwParams, IntersectionCollisionWarning
from vehicles.apps.rlvw import RedLightViolationWarning, RlvwParams
from vehicles.apps.slw import SlwParams, SpeedLimitWarning
from vehicles.apps.tjw import TjwParams, TrafficJamWarning
from vehicles.apps.vrucw import VruCollisionWarning, VrucwParams
from vehicles.classes import VEHICLE_CLASSES

if TYPE_CHECKING:
    from sim.spec.schema import ApplicationsSpec

#: Order in which applications see a batch (and names in summary.json).
APP_NAMES = ("ebw", "fcw", "icw", "rlvw", "vrucw", "evw", "slw", "tjw", "glosa")


class Application(Protocol):
    name: str
    stats: AppStats

    def on_receptions(self, ctx: AppContext, rec: Receptions) -> None: ...


def _kmh(x: float) -> float:
    return x / 3.6


def build_apps(spec: ApplicationsSpec, step_ms: int, geometry: Any) -> AppManager:
    """The enabled applications of a scenario, with their parameters."""
    apps: dict[str, Application] = {}
    crossings = find_crossings(geometry)
    e = spec.ebw
    if e.enabled:
        apps["ebw"] = EmergencyBrakeWarning(
            EbwParams(e.range_m, e.decel_mps2, e.duration_s, e.max_latency_ms, e.brake_ttc_s,
                      e.max_decel_mps2), step_ms)
    f = spec.fcw
    if f.enabled:
        apps["fcw"] = ForwardCollisionWarning(FcwParams(
            f.range_m, f.max_latency_ms, f.ttc_warn_s, f.decel_mps2, f.max_decel_mps2,
            f.duration_s), step_ms)
    i = spec.icw
    if i.enabled:
        apps["icw"] = IntersectionCollisionWarning(IcwParams(
            i.range_m, i.max_latency_ms, i.warn_time_s, i.margin_s, i.decel_mps2,
            i.max_decel_mps2), step_ms, crossings)
    r = spec.rlvw
    if r.enabled:
        apps["rlvw"] = RedLightViolationWarning(RlvwParams(
            r.range_m, r.max_latency_ms, r.decel_mps2, r.max_decel_mps2), step_ms)
    v = spec.vrucw
    if v.enabled:
        apps["vrucw"] = VruCollisionWarning(VrucwParams(
            v.range_m, v.max_latency_ms, v.perception_range_m, v.conflict_radius_m, v.horizon_s,
            v.decel_mps2, v.max_decel_mps2), step_ms)
    ev = spec.evw
    if ev.enabled:
        code = VEHICLE_CLASSES["emergency"].code if "emergency" in VEHICLE_CLASSES else -1
        apps["evw"] = EmergencyVehicleWarning(EvwParams(
            ev.range_m, ev.max_latency_ms, ev.yield_speed_factor, ev.duration_s), step_ms, code)
    s = spec.slw
    if s.enabled:
        apps["slw"] = SpeedLimitWarning(SlwParams(
            s.range_m, s.max_latency_ms, _kmh(s.tolerance_kmh), s.duration_s), step_ms)
    tj = spec.tjw
    if tj.enabled:
        apps["tjw"] = TrafficJamWarning(TjwParams(
            tj.range_m, tj.max_latency_ms, tj.sight_m, _kmh(tj.jam_speed_kmh),
            _kmh(tj.approach_speed_kmh), tj.duration_s), step_ms)
    g = spec.glosa
    if g.enabled:
        apps["glosa"] = Glosa(GlosaParams(
            g.range_m, g.max_latency_ms, _kmh(g.min_speed_kmh), g.duration_s), step_ms)
    return AppManager(apps, step_ms, CrossingMonitor(crossings, spec.pet_near_miss_s))


class AppManager(Participant):
    def __init__(self, apps: dict[str, Application], step_ms: int,
                 monitor: CrossingMonitor | None = None) -> None:
        self.apps = {n: apps[n] for n in APP_NAMES if n in apps}
        self.step_ms = step_ms
        self.monitor = monitor

    @property
    def ebw(self) -> EmergencyBrakeWarning | None:
        return self.apps.get("ebw")  # type: ignore[return-value]

    def context(self, world: World) -> AppContext:
        return AppContext(
            table=world.mobility.table, step_ms=world.step_ms, geometry=world.geometry,
            signals=world.signals, stop_lines=world.stop_lines,
            rsu_signal=world.rsus.signal_idx, rsu_xy_m=world.rsus.xy_m.reshape(-1, 2),
            pedestrians=world.pedestrians,
        )

    def after_batch(self, world: World, batch: RadioBatch) -> None:
        """Runs every enabled application on what this batch delivered; once per mobility step
        (on its first batch) the crossing monitor looks at the state."""
        table = world.mobility.table
        mon = self.monitor
        if mon is not None and len(mon.crossings) and batch.t0_ms % world.step_ms == 0:
            mon.on_step(table, batch.t0_ms)
        if not self.apps or len(table) == 0:
            return
        rec = Receptions.from_batch(batch, table)
        if len(rec) == 0:
            return
        ctx = self.context(world)
        for app in self.apps.values():
            app.on_receptions(ctx, rec)

    def summary(self) -> dict[str, Any]:
        """`applications.<name>` blocks of summary.json (None when the application is off)."""
        out: dict[str, Any] = {n: (self.apps[n].stats.summary() if n in self.apps else None)
                               for n in APP_NAMES}
        out["warnings_total"] = int(np.sum([a.stats.warnings for a in self.apps.values()]))
        if self.monitor is not None:
            out["crossing"] = self.monitor.summary()
        return out


def apps_of(world: World) -> AppManager | None:
    """The run's V2X applications, None when the world was built without them."""
    return world.participant(AppManager)
