"""WGS84 longitude/latitude to local east/north metres, once, at load.

A local tangent plane (ENU) on the WGS84 ellipsoid about the scenario origin: exact at the origin
and within a few centimetres over the 30 km of a Changchun scenario (the error grows with the
square of the distance from the origin, as the Earth curves away from the plane). The ellipsoid is
used rather than a sphere because, at Changchun's 44 degrees N, a 6371 km sphere overstates
east-west distances by about 0.27 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

WGS84_A_M = 6_378_137.0
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)


def _ecef(lon_deg: ArrayLike, lat_deg: ArrayLike) -> NDArray[np.float64]:
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    n = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * np.sin(lat) ** 2)
    return np.stack(
        [
            n * np.cos(lat) * np.cos(lon),
            n * np.cos(lat) * np.sin(lon),
            n * (1.0 - WGS84_E2) * np.sin(lat),
        ],
        axis=-1,
    )


@dataclass(frozen=True)
class LocalProjection:
    """Projects WGS84 (lon, lat) to (east_m, north_m) on the tangent plane at the origin."""

    origin_lon_deg: float
    origin_lat_deg: float

    def to_local(self, lon_deg: ArrayLike, lat_deg: ArrayLike) -> NDArray[np.float64]:
        """Returns an array (..., 2) of east/north metres."""
        lon0 = np.radians(self.origin_lon_deg)
        lat0 = np.radians(self.origin_lat_deg)
        d = _ecef(lon_deg, lat_deg) - _ecef(self.origin_lon_deg, self.origin_lat_deg)
        east = -np.sin(lon0) * d[..., 0] + np.cos(lon0) * d[..., 1]
        north = (
            -np.sin(lat0) * np.cos(lon0) * d[..., 0]
            - np.sin(lat0) * np.sin(lon0) * d[..., 1]
            + np.cos(lat0) * d[..., 2]
        )
        return np.stack([east, north], axis=-1)

    def to_wgs84(self, east_m: ArrayLike, north_m: ArrayLike) -> NDArray[np.float64]:
        """Inverse of `to_local` on the ellipsoid surface (for display and exports): (..., 2) lon/lat."""
        lon0 = np.radians(self.origin_lon_deg)
        lat0 = np.radians(self.origin_lat_deg)
        e = np.asarray(east_m, dtype=np.float64)
        n = np.asarray(north_m, dtype=np.float64)
        o = _ecef(self.origin_lon_deg, self.origin_lat_deg)
        x = o[0] - np.sin(lon0) * e - np.sin(lat0) * np.cos(lon0) * n
        y = o[1] + np.cos(lon0) * e - np.sin(lat0) * np.sin(lon0) * n
        z = o[2] + np.cos(lat0) * n
        lon = np.arctan2(y, x)
        p = np.hypot(x, y)
        lat = np.arctan2(z, p * (1.0 - WGS84_E2))
        for _ in range(5):  # Bowring-style fixed point; converges to < 1e-12 rad in a few steps
            nn = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * np.sin(lat) ** 2)
            h = p / np.cos(lat) - nn
            lat = np.arctan2(z, p * (1.0 - WGS84_E2 * nn / (nn + h)))
        return np.stack([np.degrees(lon), np.degrees(lat)], axis=-1)
