"""Vehicle classes and automation levels, with the parameters that differ between them.

Sizes follow TR 37.885 §6.1.2 where it gives them (type 1/2 passenger car 5.0 x 2.0 x 1.6 m, type 3
bus/truck 13 x 2.6 x 3 m); the logistics van and the sanitation vehicle are typical Chinese
light/medium commercial sizes (assumptions, documented in the README). Acceleration limits are
IDM defaults per class (Treiber & Kesting, Traffic Flow Dynamics, Table 11.2) and class speed caps
follow Chinese expressway rules (trucks and buses <= 100 km/h) and the low-speed L4 service
vehicles of the Jilin demonstrations. The emergency vehicle (ambulance) is a Chinese type-B
ambulance on a light-van chassis (about 5.9 x 2.0 x 2.6 m, assumption); on duty it may exceed
the limit and pass red signals (Road Traffic Safety Law of the PRC, Art. 53), modelled by
`limit_factor` and `ignores_signals`.

Class names are a contract: applications (e.g. an emergency-vehicle warning) read the `cls`
column of the vehicle table and compare it with `VEHICLE_CLASSES[name].code`. Names and codes:
car 0, bus 1, truck 2, logistics 3, sanitation 4, emergency 5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class VehicleClass:
    code: int
    name: str
    length_m: float
    width_m: float
    height_m: float
    max_accel_mps2: float
    comfort_decel_mps2: float
    min_gap_m: float
    max_speed_mps: float
    #: Desired speed relative to the posted limit before the driver's own factor (1 = the limit).
    limit_factor: float = 1.0
    #: Passes red signals (emergency vehicles on duty); counts no red-light violation.
    ignores_signals: bool = False


VEHICLE_CLASSES: dict[str, VehicleClass] = {
    c.name: c
    for c in (
        VehicleClass(0, "car", 5.0, 2.0, 1.6, 1.5, 2.0, 2.0, 180 / 3.6),
        VehicleClass(1, "bus", 13.0, 2.6, 3.0, 1.0, 1.5, 2.5, 100 / 3.6),
        VehicleClass(2, "truck", 13.0, 2.6, 3.0, 0.8, 1.5, 2.5, 100 / 3.6),
        VehicleClass(3, "logistics", 6.0, 2.1, 2.5, 1.2, 1.8, 2.0, 80 / 3.6),
        VehicleClass(4, "sanitation", 7.5, 2.4, 3.0, 0.8, 1.5, 2.5, 40 / 3.6),
        VehicleClass(5, "emergency", 5.9, 2.0, 2.6, 2.0, 2.5, 2.0, 120 / 3.6, 1.2, True),
    )
}
CLASS_BY_CODE = {c.code: c for c in VEHICLE_CLASSES.values()}
#: Class codes by name, for applications that select vehicles by class (`table["cls"] == ...`).
CAR, BUS, TRUCK, LOGISTICS, SANITATION, EMERGENCY = (
    VEHICLE_CLASSES[n].code for n in ("car", "bus", "truck", "logistics", "sanitation", "emergency")
)

AUTOMATION_LEVELS = ("L0", "L1", "L2", "L3", "L4")
#: Levels at which the automated driving system, not a human, reacts (SAE J3016 L3+).
AUTOMATED_FROM_LEVEL = 3


def class_table(field: str) -> np.ndarray:
    """A lookup array indexed by class code, e.g. ``class_table('length_m')[cls]``."""
    return np.array([getattr(CLASS_BY_CODE[i], field) for i in range(len(CLASS_BY_CODE))])
