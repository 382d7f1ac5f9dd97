"""`Camera`: the mapping between world metres (x east, y north) and window pixels (y down).

A camera is a centre in metres plus a scale in pixels per metre; it never rotates (north is up, as
on the map the road data comes from). It is pure arithmetic, vectorized over numpy arrays, so the
renderer can project 10,000 vehicles with a handful of array operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Zoom limits [px/m]: from a whole 100 km corridor on one screen to a single vehicle filling it.
MIN_SCALE_PX_PER_M = 0.005
MAX_SCALE_PX_PER_M = 80.0
ZOOM_STEP = 1.25


@dataclass
class Camera:
    width_px: int
    height_px: int
    center_x_m: float = 0.0
    center_y_m: float = 0.0
    scale_px_per_m: float = 1.0

    def to_screen(self, x_m: ArrayLike, y_m: ArrayLike) -> tuple[NDArray[np.float64],
                                                                 NDArray[np.float64]]:
        """Pixel coordinates (float) of world points."""
        s = self.scale_px_per_m
        px = (np.asarray(x_m, dtype=np.float64) - self.center_x_m) * s + self.width_px / 2.0
        py = self.height_px / 2.0 - (np.asarray(y_m, dtype=np.float64) - self.center_y_m) * s
        return px, py

    def to_world(self, px: ArrayLike, py: ArrayLike) -> tuple[NDArray[np.float64],
                                                             NDArray[np.float64]]:
        """World metres of pixel positions (the inverse of `to_screen`)."""
        s = self.scale_px_per_m
        x = (np.asarray(px, dtype=np.float64) - self.width_px / 2.0) / s + self.center_x_m
        y = (self.height_px / 2.0 - np.asarray(py, dtype=np.float64)) / s + self.center_y_m
        return x, y

    def point_to_screen(self, x_m: float, y_m: float) -> tuple[float, float]:
        px, py = self.to_screen(x_m, y_m)
        return float(px), float(py)

    def point_to_world(self, px: float, py: float) -> tuple[float, float]:
        x, y = self.to_world(px, py)
        return float(x), float(y)

    def visible_bounds_m(self, margin_px: float = 0.0) -> tuple[float, float, float, float]:
        """xmin, ymin, xmax, ymax of the world area on screen, widened by `margin_px`."""
        x0, y1 = self.point_to_world(-margin_px, -margin_px)
        x1, y0 = self.point_to_world(self.width_px + margin_px, self.height_px + margin_px)
        return x0, y0, x1, y1

    def resize(self, width_px: int, height_px: int) -> None:
        self.width_px, self.height_px = int(width_px), int(height_px)

    def pan_px(self, dx_px: float, dy_px: float) -> None:
        """Moves the view so that the map follows a drag of (dx, dy) pixels."""
        self.center_x_m -= dx_px / self.scale_px_per_m
        self.center_y_m += dy_px / self.scale_px_per_m

    def zoom(self, factor: float, anchor_px: tuple[float, float] | None = None) -> None:
        """Scales by `factor`, keeping the world point under `anchor_px` (default: centre) fixed."""
        if anchor_px is None:
            anchor_px = (self.width_px / 2.0, self.height_px / 2.0)
        ax, ay = self.point_to_world(*anchor_px)
        self.scale_px_per_m = float(np.clip(self.scale_px_per_m * factor, MIN_SCALE_PX_PER_M,
                                            MAX_SCALE_PX_PER_M))
        # Put (ax, ay) back under the anchor pixel.
        nx, ny = self.point_to_world(*anchor_px)
        self.center_x_m += ax - nx
        self.center_y_m += ay - ny

    def look_at(self, x_m: float, y_m: float, scale_px_per_m: float | None = None) -> None:
        self.center_x_m, self.center_y_m = float(x_m), float(y_m)
        if scale_px_per_m is not None:
            self.scale_px_per_m = float(np.clip(scale_px_per_m, MIN_SCALE_PX_PER_M,
                                                MAX_SCALE_PX_PER_M))

    def fit(self, bounds_m: tuple[float, float, float, float], margin: float = 0.05) -> None:
        """Centres on `bounds_m` (xmin, ymin, xmax, ymax) and zooms so that all of it is visible."""
        x0, y0, x1, y1 = bounds_m
        if not all(np.isfinite(bounds_m)):
            return
        w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
        scale = min(self.width_px / w, self.height_px / h) * (1.0 - 2 * margin)
        self.look_at((x0 + x1) / 2.0, (y0 + y1) / 2.0, scale)
