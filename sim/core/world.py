"""`World`: the run-time state of one run, and the small protocols the engine drives it through.

The engine knows four kinds of component, by protocol only:
- a **mobility model** (ours: `vehicles.mobility.Mobility`; SUMO's later) that keeps the fleet in
  a column table and moves it one step at a time;
- a **medium** (`sim.radio.medium.SidelinkMedium`) that evaluates the sidelink batch by batch;
- **participants**: subsystems that act around each radio batch (the roadside network, the V2X
  applications, ...). They run in the order of `World.participants`, documented in
  `sim.core.engine`; a new subsystem joins by being added to that list, without editing the
  engine. `Participant` gives no-op defaults, so a participant implements only what it needs;
- **observers** that read the state (summary, trace, viewer) and never change it.

The builder (`sim.scenario.build`) assembles a `World` from a validated scenario; nothing here
imports a layer above `sim.core` (the spec leaf is below it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

from sim.core.rng import RngTree
from sim.core.road import RouteGeometry
from sim.core.signals import SignalTable, StopLines
from sim.core.streets import StreetMap
from sim.core.table import ColumnTable
from sim.spec.schema import ScenarioSpec

if TYPE_CHECKING:
    import simpy

P = TypeVar("P", bound="Participant")


class MobilityModel(Protocol):
    """Moves the fleet; the engine calls `place_initial` and `update_positions` once at t = 0,
    then `step(t)` after simpy reached each step boundary t."""

    @property
    def table(self) -> ColumnTable: ...

    @property
    def pedestrians(self) -> ColumnTable | None:
        """VRUs (pedestrians, cyclists), None when the scenario has none."""

    def place_initial(self) -> None: ...

    def update_positions(self) -> None: ...

    def step(self, now_ms: int) -> None: ...

    def close(self) -> None:
        """Releases what the model holds outside Python (an external simulator); called once
        after the run, also after a crash or an interrupt."""


class Medium(Protocol):
    """Evaluates radio batches [t0, t0 + n) with the fleet's positions taken at `state_ms`."""

    @property
    def bsm_period_ms(self) -> int: ...

    def batch(self, t0_ms: int, n_subframes: int, state_ms: int | None = None) -> Any:
        """Returns the batch's `sim.radio.medium.RadioBatch` (typed `Any` here: the engine only
        hands it on, and `sim.core` does not import the radio)."""


class Sites(Protocol):
    """Roadside sites as the layers above the radio read them."""

    @property
    def xy_m(self) -> NDArray[np.float64]: ...
    @property
    def signal_idx(self) -> NDArray[np.int64]: ...

    def __len__(self) -> int: ...


class Participant:
    """A subsystem that acts around radio batches. Every hook is a no-op by default.

    Per mobility step the engine calls, for each participant in `World.participants` order:
    `before_batch` (simpy time is at the batch start), then after the medium evaluated the batch
    `after_batch`, and at the end of the step `on_step`. `start` runs once before the first step.
    """

    def start(self, env: simpy.Environment, world: World) -> None:
        """Starts the participant's own simpy processes (queues, scripted faults)."""

    def before_batch(self, world: World, t0_ms: int, n_ms: int) -> None:
        """Hands the medium what must be on the air in [t0, t0 + n)."""

    def after_batch(self, world: World, batch: Any) -> None:
        """Acts on what the batch delivered (a `sim.radio.medium.RadioBatch`)."""

    def on_step(self, world: World, now_ms: int) -> None:
        """Runs once per mobility step, after the step's batches."""


class Observer(Protocol):
    """Reads the run (summary, trace, viewer); must not change it."""

    def on_start(self, world: World) -> None: ...
    def on_radio_batch(self, world: World, batch: Any) -> None: ...
    def on_step(self, world: World, now_ms: int) -> None: ...
    def on_end(self, world: World, now_ms: int, interrupted: bool) -> None: ...


@dataclass
class World:
    """Everything a run changes or reads, assembled by `sim.scenario.build.build_world`."""

    spec: ScenarioSpec
    geometry: RouteGeometry
    mobility: MobilityModel
    rsus: Sites
    medium: Medium
    rng: RngTree
    signals: SignalTable | None
    stop_lines: StopLines | None
    step_ms: int
    duration_ms: int
    radio_batch_ms: int
    #: Batch participants in engine order (see `Participant`): roadside first (it puts the RSU
    #: downlink on the air and forwards what RSUs heard), then the applications.
    participants: list[Participant] = field(default_factory=list)
    #: SHA-256 of every data file the scenario read (for the manifest).
    data_hashes: dict[str, str] = field(default_factory=dict)
    #: Every street of the network with its lanes and stop bars, for drawing (SUMO nets only).
    streets: StreetMap | None = None
    #: What the viewer frames when it opens (xmin, ymin, xmax, ymax; the scenario's `view:`);
    #: None: the whole network.
    view_bounds_m: tuple[float, float, float, float] | None = None

    @property
    def pedestrians(self) -> ColumnTable | None:
        return self.mobility.pedestrians

    def participant(self, kind: type[P]) -> P | None:
        """The participant of class `kind` (e.g. the roadside network), or None."""
        return next((p for p in self.participants if isinstance(p, kind)), None)
