"""Polyline geometry in local metres: arc length, closest approach, cutting.

Used once at load to chain roads into routes through junctions that may lie anywhere along a road
(a cross street meets an arterial mid-block, not at its end).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def arc_length_m(xy_m: FloatArray) -> FloatArray:
    return np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy_m, axis=0).T))])


def project_to_polyline(points: FloatArray, line: FloatArray) -> tuple[FloatArray, FloatArray]:
    """For each point: distance to the polyline and arc position of the nearest point on it."""
    a, b = line[:-1], line[1:]
    ab = b - a
    ap = points[:, None, :] - a[None, :, :]
    t = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0.0, 1.0)
    nearest = a[None] + t[..., None] * ab[None]
    d = np.hypot(*(points[:, None, :] - nearest).transpose(2, 0, 1))
    seg = d.argmin(axis=1)
    s = arc_length_m(line)
    rows = np.arange(len(points))
    seg_len = np.hypot(*ab.T)
    return d[rows, seg], s[seg] + t[rows, seg] * seg_len[seg]


def distance_to_polyline_m(points: FloatArray, line: FloatArray) -> FloatArray:
    return project_to_polyline(points, line)[0]


def closest_approach(p: FloatArray, q: FloatArray) -> tuple[float, float, float]:
    """(arc position on p, arc position on q, distance) where two polylines come closest.

    Checks every vertex of each line against the other line, which is exact for lines that cross
    near a vertex and within the vertex spacing otherwise (enough for junction finding).
    """
    d_pq, s_q = project_to_polyline(p, q)
    d_qp, s_p = project_to_polyline(q, p)
    i, j = int(d_pq.argmin()), int(d_qp.argmin())
    s_p_all = arc_length_m(p)
    s_q_all = arc_length_m(q)
    if d_pq[i] <= d_qp[j]:
        return float(s_p_all[i]), float(s_q[i]), float(d_pq[i])
    return float(s_p[j]), float(s_q_all[j]), float(d_qp[j])


def point_at(line: FloatArray, s_m: float) -> FloatArray:
    s = arc_length_m(line)
    return np.array([np.interp(s_m, s, line[:, 0]), np.interp(s_m, s, line[:, 1])])


def cut(line: FloatArray, s_from_m: float, s_to_m: float) -> FloatArray:
    """The part of `line` between two arc positions, in that direction (reversed if from > to)."""
    s = arc_length_m(line)
    lo, hi = sorted((s_from_m, s_to_m))
    inner = line[(s > lo) & (s < hi)]
    piece = np.vstack([point_at(line, lo), inner, point_at(line, hi)])
    return piece if s_from_m <= s_to_m else piece[::-1]
