"""The observer that turns a run into `summary.json` and the CSV tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim.metrics.radio_recorder import RadioRecorder
from sim.radio.medium import RadioBatch
from vehicles.apps.manager import apps_of
from vehicles.classes import AUTOMATED_FROM_LEVEL, CLASS_BY_CODE
from vehicles.mobility import Mobility

if TYPE_CHECKING:
    from sim.core.world import World


def _mobility(world: World) -> Mobility:
    """The summary reports the counters of our mobility model (traffic, safety, VRUs)."""
    m = world.mobility
    if not isinstance(m, Mobility):
        raise TypeError(f"SummaryObserver needs vehicles.mobility.Mobility, not {type(m).__name__}")
    return m


class SummaryObserver:
    def __init__(self, world: World) -> None:
        m = world.spec.metrics
        self.radio = RadioRecorder(
            m.prr_bin_m, m.prr_max_distance_m, int(round(m.warmup_s * 1000)),
            list(m.prr_report_distances_m),
        )
        self.alive_sum = 0
        self.alive_max = 0
        self.speed_sum = 0.0
        self.speed_samples = 0
        self.steps = 0
        self.end_ms = 0
        self.interrupted = False
        self._seen_ids = 0
        self._class_counts: dict[str, int] = {}
        self._equipped = 0
        self._automated = 0
        self._vru_max = 0

    def on_start(self, world: World) -> None:
        pass

    def on_radio_batch(self, world: World, batch: RadioBatch) -> None:
        self.radio.on_radio_batch(batch)

    def on_step(self, world: World, now_ms: int) -> None:
        if world.pedestrians is not None:
            self._vru_max = max(self._vru_max, len(world.pedestrians))
        t = world.mobility.table
        n = len(t)
        self.steps += 1
        self.alive_sum += n
        self.alive_max = max(self.alive_max, n)
        self.speed_sum += float(t["v_mps"].sum())
        self.speed_samples += n
        new = t["id"] >= self._seen_ids  # ids grow monotonically: these appeared since last step
        if new.any():
            self._seen_ids = int(t["id"].max()) + 1
            codes, counts = np.unique(t["cls"][new], return_counts=True)
            for c, k in zip(codes, counts):
                name = CLASS_BY_CODE[int(c)].name
                self._class_counts[name] = self._class_counts.get(name, 0) + int(k)
            self._equipped += int(t["equipped"][new].sum())
            self._automated += int((t["automation"][new] >= AUTOMATED_FROM_LEVEL).sum())

    @staticmethod
    def _vru_safety(world: World) -> dict[str, int]:
        """Vehicle-VRU conflicts (VRU in the lane ahead, reached within the near-miss TTC) and
        collisions; 0 without VRUs so that expectations can always name them."""
        vru = _mobility(world).plan.vru
        return {"vru_conflicts": 0 if vru is None else vru.stats.conflicts,
                "vru_collisions": 0 if vru is None else vru.stats.collisions}

    def _pedestrians(self, world: World) -> dict[str, Any] | None:
        mob = _mobility(world)
        vru = mob.plan.vru
        if vru is None:
            return None
        st = vru.stats
        return {"arrived": st.arrived, "crossed": st.crossed, "crosswalks": len(vru.crosswalks),
                "alive_max": self._vru_max, "jaywalking_crossings": st.violations,
                "vehicle_yield_steps": mob.stats.vru_yields}

    def on_end(self, world: World, now_ms: int, interrupted: bool) -> None:
        self.end_ms = now_ms
        self.interrupted = interrupted

    def summary(self, world: World) -> dict[str, Any]:
        mob = _mobility(world)
        st, safety, apps = mob.stats, mob.safety, apps_of(world)
        total = sum(self._class_counts.values())
        return {
            "scenario": world.spec.name,
            "seed": world.spec.seed,
            "interrupted": self.interrupted,
            "sim_time_s": self.end_ms / 1000.0,
            "vehicles": {
                "simulated": total,
                "alive_max": self.alive_max,
                "alive_mean": round(self.alive_sum / self.steps, 3) if self.steps else 0.0,
                "exited": st.exited,
                "by_class": dict(sorted(self._class_counts.items())),
                "v2x_equipped_share": round(self._equipped / total, 6) if total else None,
                "automated_share": round(self._automated / total, 6) if total else None,
                "mean_speed_kmh": round(self.speed_sum / self.speed_samples * 3.6, 3)
                if self.speed_samples else None,
                "entry_queue_max": st.entry_queue_max,
                "lane_changes": st.lane_changes,
                "service_stops": st.service_stops,
                "bus_stops": st.bus_stops,
                "service_stops_skipped": st.service_stops_skipped,
                "ramp_exits": st.ramp_exits,
                "missed_exits": st.missed_exits,
                "emergency_red_passes": safety.emergency_red_passes,
            },
            # Trips that started (entered at their route's start, or as SUMO demand) and ended
            # inside the run: what SUMO's tripinfo output counts, for the comparison with SUMO.
            "traffic": {
                "trips_started": st.trips_started,
                "trips_completed": st.trips_completed,
                "mean_trip_duration_s": round(st.trip_time_s_sum / st.trips_completed, 3)
                if st.trips_completed else None,
                "waiting_to_enter": len(mob.waiting_to_enter),
            },

            "collisions": safety.collisions,
            "red_light_violations": safety.red_light_violations,
            "safety": {
                "near_misses": safety.near_misses,
                "min_ttc_s": None if safety.min_ttc_or_none_s is None
                else round(safety.min_ttc_s, 3),
                "hard_braking_events": safety.hard_braking_events,
                "incidents": st.incidents_applied,
                **self._vru_safety(world),
                "vru": self._pedestrians(world),
            },
            "applications": {
                **({} if apps is None else apps.summary()),  # per-application blocks
            },
            "rsus": len(world.rsus),
            "signals": 0 if world.signals is None else len(world.signals),
            "messages": self.radio.summary(),
        }
