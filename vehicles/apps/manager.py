"""The application manager: builds the enabled applications and runs them once per radio batch.

The engine calls `after_batch(world, batch)` (it is a `sim.core.world.Participant`) after each
batch, after the roadside network and before the observers: the receptions
are extracted once and handed to every enabled application in a fixed order (safety warnings
first, then advisories), so a run is deterministic. The crossing-conflict monitor runs whether or
not any application is enabled, so runs with and without V2X measure the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from sim.core.world import Participant, World
from sim.radio.medium import RadioBatch
from vehicles.apps.base import AppContext, AppStats, Receptions
from vehicles.apps.crossings import (
    CrossingMonitor,
    Crossings,
    find_crossings,
    find_piece_crossings,
)
from vehicles.apps.ebw import EmergencyBrakeWarning
from vehicles.apps.evw import EmergencyVehicleWarning
from vehicles.apps.fcw import ForwardCollisionWarning
from vehicles.apps.glosa import Glosa
from vehicles.apps.icw import IntersectionCollisionWarning
from vehicles.apps.rlvw import RedLightViolationWarning
from vehicles.apps.slw import SpeedLimitWarning
from vehicles.apps.tjw import TrafficJamWarning
from vehicles.apps.vrucw import VruCollisionWarning
from vehicles.classes import VEHICLE_CLASSES
from vehicles.pedestrians import pedestrians_of
from vehicles.shared_roads import SharedRoads
from vehicles.table import vehicles_of

if TYPE_CHECKING:
    from sim.spec.schema import ApplicationsSpec

#: Order in which applications see a batch (and names in summary.json).
APP_NAMES = ("ebw", "fcw", "icw", "rlvw", "vrucw", "evw", "slw", "tjw", "glosa")


class Application(Protocol):
    name: str
    stats: AppStats

    def on_receptions(self, ctx: AppContext, rec: Receptions) -> None: ...


def build_apps(spec: ApplicationsSpec, step_ms: int, geometry: Any,
               piece_crossings: Crossings | None = None) -> AppManager:
    """The enabled applications of a scenario, each with its spec. `piece_crossings`: the
    crossings of a SUMO net's pieces when the caller already found them (else found here)."""
    shared = SharedRoads.of(geometry)
    if shared is None:
        crossings = find_crossings(geometry)
        frame = None
    else:  # a SUMO network: conflict points between pieces of road, not between routes
        crossings = (piece_crossings if piece_crossings is not None
                     else find_piece_crossings(geometry, shared))

        def frame(t: Any) -> tuple[Any, Any]:
            return shared.lane_change_frame(t["route"], t["s_m"])
    emergency_code = VEHICLE_CLASSES["emergency"].code if "emergency" in VEHICLE_CLASSES else -1
    # name -> constructor of the app from its spec; the extra arguments are what each app needs
    # besides its spec and the step (the crossing list, the emergency class code).
    makers: dict[str, Callable[[Any], Application]] = {
        "ebw": lambda s: EmergencyBrakeWarning(s, step_ms),
        "fcw": lambda s: ForwardCollisionWarning(s, step_ms),
        "icw": lambda s: IntersectionCollisionWarning(s, step_ms, crossings, shared),
        "rlvw": lambda s: RedLightViolationWarning(s, step_ms),
        "vrucw": lambda s: VruCollisionWarning(s, step_ms),
        "evw": lambda s: EmergencyVehicleWarning(s, step_ms, emergency_code),
        "slw": lambda s: SpeedLimitWarning(s, step_ms),
        "tjw": lambda s: TrafficJamWarning(s, step_ms),
        "glosa": lambda s: Glosa(s, step_ms),
    }
    apps = {name: make(getattr(spec, name)) for name, make in makers.items()
            if getattr(spec, name).enabled}
    return AppManager(apps, step_ms, CrossingMonitor(crossings, spec.pet_near_miss_s, frame=frame))


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
            table=vehicles_of(world), step_ms=world.step_ms, geometry=world.geometry,
            signals=world.signals, stop_lines=world.stop_lines,
            rsu_signal=world.rsus.signal_idx, rsu_xy_m=world.rsus.xy_m.reshape(-1, 2),
            pedestrians=pedestrians_of(world),
        )

    def after_batch(self, world: World, batch: RadioBatch) -> None:
        """Runs every enabled application on what this batch delivered; once per mobility step
        (on its first batch) the crossing monitor looks at the state."""
        table = vehicles_of(world)
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
