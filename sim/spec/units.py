"""Unit conversions, applied once at load so that everything inside the simulator is SI."""

from __future__ import annotations

import math

KMH_PER_MPS = 3.6
MS_PER_S = 1000


def kmh_to_mps(speed_kmh: float) -> float:
    return speed_kmh / KMH_PER_MPS


def mps_to_kmh(speed_mps: float) -> float:
    return speed_mps * KMH_PER_MPS


def deg_to_rad(angle_deg: float) -> float:
    return math.radians(angle_deg)


def per_hour_to_per_s(rate_per_h: float) -> float:
    return rate_per_h / 3600.0


def s_to_ms(time_s: float) -> int:
    """Seconds to integer milliseconds (the engine's clock); rounds to the nearest ms."""
    return int(round(time_s * MS_PER_S))
