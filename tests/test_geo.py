"""Projection accuracy: local ENU metres against great-circle and ellipsoidal distances."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.core.geo import LocalProjection

# Junctions from docs/routes.md (lat, lon).
FEIYUE_DONGFENG = (43.8472, 125.2240)
XIHUAN_HAOYUE = (43.8880, 125.2311)
EXPRESSWAY_K0 = (43.8952, 125.45836)  # first RSU site
EXPRESSWAY_K20 = (43.97439, 125.68017)


def haversine_m(a: tuple[float, float], b: tuple[float, float], r_m: float = 6_371_008.8) -> float:
    (la1, lo1), (la2, lo2) = (map(math.radians, a)), (map(math.radians, b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * r_m * math.asin(math.sqrt(h))


def vincenty_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Vincenty's inverse formula on WGS84 (mm accuracy): the ellipsoidal ground truth."""
    A, F = 6_378_137.0, 1 / 298.257223563
    B = A * (1 - F)
    L = math.radians(b[1] - a[1])
    U1 = math.atan((1 - F) * math.tan(math.radians(a[0])))
    U2 = math.atan((1 - F) * math.tan(math.radians(b[0])))
    lam = L
    for _ in range(200):
        sl, cl = math.sin(lam), math.cos(lam)
        ss = math.hypot(math.cos(U2) * sl, math.cos(U1) * math.sin(U2) - math.sin(U1) * math.cos(U2) * cl)
        cs = math.sin(U1) * math.sin(U2) + math.cos(U1) * math.cos(U2) * cl
        sig = math.atan2(ss, cs)
        sa = math.cos(U1) * math.cos(U2) * sl / ss
        c2a = 1 - sa**2
        c2sm = cs - 2 * math.sin(U1) * math.sin(U2) / c2a
        C = F / 16 * c2a * (4 + F * (4 - 3 * c2a))
        prev = lam
        lam = L + (1 - C) * F * sa * (sig + C * ss * (c2sm + C * cs * (-1 + 2 * c2sm**2)))
        if abs(lam - prev) < 1e-13:
            break
    u2 = c2a * (A**2 - B**2) / B**2
    AA = 1 + u2 / 16384 * (4096 + u2 * (-768 + u2 * (320 - 175 * u2)))
    BB = u2 / 1024 * (256 + u2 * (-128 + u2 * (74 - 47 * u2)))
    ds = BB * ss * (c2sm + BB / 4 * (cs * (-1 + 2 * c2sm**2)
                                     - BB / 6 * c2sm * (-3 + 4 * ss**2) * (-3 + 4 * c2sm**2)))
    return B * AA * (sig - ds)


def local_distance(proj: LocalProjection, a, b) -> float:  # type: ignore[no-untyped-def]
    p = proj.to_local(np.array([a[1], b[1]]), np.array([a[0], b[0]]))
    return float(np.hypot(*(p[1] - p[0])))


def test_north_south_distance_matches_haversine_within_0_1_percent() -> None:
    proj = LocalProjection(125.2275, 43.8676)
    d = local_distance(proj, FEIYUE_DONGFENG, XIHUAN_HAOYUE)
    assert d == pytest.approx(haversine_m(FEIYUE_DONGFENG, XIHUAN_HAOYUE), rel=1e-3)


@pytest.mark.parametrize("a,b", [(FEIYUE_DONGFENG, XIHUAN_HAOYUE), (EXPRESSWAY_K0, EXPRESSWAY_K20)])
def test_distances_match_the_ellipsoid_within_0_01_percent(a, b) -> None:  # type: ignore[no-untyped-def]
    proj = LocalProjection((a[1] + b[1]) / 2, (a[0] + b[0]) / 2)
    assert local_distance(proj, a, b) == pytest.approx(vincenty_m(a, b), rel=1e-4)


def test_east_west_haversine_differs_by_the_known_sphere_error() -> None:
    """The 6371 km sphere overstates east-west distances at 44 N by ~0.27 %: the reason for ENU."""
    a, b = (43.9, 125.4), (43.9, 125.6)
    proj = LocalProjection(125.5, 43.9)
    ratio = haversine_m(a, b) / local_distance(proj, a, b)
    assert 0.9965 < ratio < 0.9985


def test_origin_maps_to_zero_and_inverse_round_trips() -> None:
    proj = LocalProjection(125.5, 43.9)
    assert np.allclose(proj.to_local(125.5, 43.9), 0.0, atol=1e-6)
    lon = np.array([125.3, 125.5, 125.7])
    lat = np.array([43.8, 43.9, 44.0])
    xy = proj.to_local(lon, lat)
    back = proj.to_wgs84(xy[:, 0], xy[:, 1])
    assert np.allclose(back[:, 0], lon, atol=1e-7) and np.allclose(back[:, 1], lat, atol=1e-7)


def test_east_is_x_and_north_is_y() -> None:
    proj = LocalProjection(125.5, 43.9)
    east = proj.to_local(125.51, 43.9)
    north = proj.to_local(125.5, 43.91)
    assert east[0] > 800 and abs(east[1]) < 1
    assert north[1] > 1100 and abs(north[0]) < 1e-6
