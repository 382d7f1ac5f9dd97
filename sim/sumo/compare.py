"""Hold a run on a SUMO network against SUMO itself: trips completed and mean trip duration.

For the same net and demand, SUMO (the wheel's `sumo` binary, its own car-following, lane changing
and junction model, default parameters) is run for the scenario's duration with
`--tripinfo-output`; its arrived vehicles are the trips that started and ended inside the run, as
`summary.json`'s `traffic` section counts ours. The agreement criterion of issue #16 is 15 % on
both numbers.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from sim.core.errors import ScenarioError
from sim.sumo.tools import first_error, run_tool

#: Relative difference accepted between v2xsim's internal mobility and SUMO (issue #16).
AGREEMENT_TOLERANCE = 0.15


@dataclass(frozen=True)
class TripStats:
    trips_completed: int
    mean_trip_duration_s: float | None

    def relative_difference(self, ref: TripStats) -> tuple[float, float]:
        """(trips, mean duration) relative to `ref`; inf where `ref` has none."""
        trips = (abs(self.trips_completed - ref.trips_completed) / ref.trips_completed
                 if ref.trips_completed else float("inf"))
        if self.mean_trip_duration_s is None or not ref.mean_trip_duration_s:
            return trips, float("inf")
        return trips, abs(self.mean_trip_duration_s - ref.mean_trip_duration_s) / ref.mean_trip_duration_s


def sumo_trip_stats(net: Path, routes: Path, duration_s: float, step_s: float, seed: int,
                    source: str = "sumo") -> TripStats:
    """Runs SUMO on `net` + `routes` for `duration_s` and reads its tripinfo output."""
    import sumolib

    with tempfile.TemporaryDirectory(prefix="v2xsim-sumo-") as tmp:
        out = Path(tmp) / "tripinfo.xml"
        proc = run_tool("sumo", [
            "-n", str(net), "-r", str(routes), "--begin", "0", "--end", f"{duration_s:g}",
            "--step-length", f"{step_s:g}", "--seed", str(seed), "--tripinfo-output", str(out),
            "--no-step-log", "true", "--duration-log.disable", "true", "--no-warnings", "true",
        ])
        if proc.returncode != 0 or not out.is_file():
            raise ScenarioError(source, "traffic.sumo_routes", f"sumo failed: {first_error(proc)}")
        durations = [float(t.duration) for t in sumolib.xml.parse(str(out), "tripinfo")]
    mean = sum(durations) / len(durations) if durations else None
    return TripStats(len(durations), mean)


def run_trip_stats(summary: dict) -> TripStats:  # type: ignore[type-arg]
    """Our numbers, from a run's summary.json."""
    t = summary["traffic"]
    return TripStats(int(t["trips_completed"]), t["mean_trip_duration_s"])
