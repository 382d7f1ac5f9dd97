"""A run's trace as SUMO floating car data (FCD XML, the format of `sumo --fcd-output`) and CSV.

Streams the state frames of `trace.msgpack` one at a time, so memory stays bounded whatever the
run's length. Per vehicle and frame: id, x, y (metres in the run's frame: the SUMO net's own x/y
for a scenario on a SUMO network, local east/north about the scenario origin otherwise), angle
(degrees clockwise from north, as SUMO), type (the v2xsim vehicle class), speed, acceleration,
lane and route index. sumolib and SUMO's tools read it (`sumolib.xml.parse(file, "timestep")`).
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from sim.io.trace import Frame, TraceFormatError, TraceReader
from vehicles.classes import CLASS_BY_CODE

_INTEGER = ("vehicle_id", "cls", "lane", "route")
_REAL = ("x_m", "y_m", "heading_rad", "v_mps", "a_mps2")


def _check_state(trace_path: Path, fr: Frame) -> None:
    """A state frame from a damaged or foreign trace is refused, not half exported."""
    for name in (*_INTEGER, *_REAL):
        col = fr.cols.get(name)
        kinds = "biu" if name in _INTEGER else "biuf"
        if col is None or col.ndim != 1 or col.dtype.kind not in kinds:
            raise TraceFormatError(f"{trace_path}: state frame at t={fr.t_s:g} s: column {name!r} "
                                   "missing or not a numeric vector")


def export_fcd(trace_path: Path, xml_path: Path, csv_path: Path | None = None) -> int:
    """Writes FCD XML (and CSV) from a trace; returns the number of vehicle records written.
    Each file is written to a temporary name and renamed at the end (nothing half-written)."""
    names = {code: c.name for code, c in CLASS_BY_CODE.items()}
    tmp_xml = xml_path.with_name(xml_path.name + ".part")
    tmp_csv = csv_path.with_name(csv_path.name + ".part") if csv_path else None
    n = 0
    try:
        n = _export(trace_path, tmp_xml, tmp_csv, names)
    except BaseException:  # nothing half-written stays behind
        tmp_xml.unlink(missing_ok=True)
        if tmp_csv:
            tmp_csv.unlink(missing_ok=True)
        raise
    os.replace(tmp_xml, xml_path)
    if tmp_csv and csv_path:
        os.replace(tmp_csv, csv_path)
    return n


def _export(trace_path: Path, tmp_xml: Path, tmp_csv: Path | None, names: dict[int, str]) -> int:
    n = 0
    with ExitStack() as stack:
        reader = stack.enter_context(TraceReader(trace_path))
        x = stack.enter_context(open(tmp_xml, "w", encoding="utf-8"))
        c = stack.enter_context(open(tmp_csv, "w", encoding="utf-8")) if tmp_csv else None
        x.write('<?xml version="1.0" encoding="UTF-8"?>\n<fcd-export>\n')
        if c:
            c.write("time_s,id,x_m,y_m,angle_deg,type,speed_mps,accel_mps2,lane,route\n")
        for fr in reader:
            if fr.kind != "state":
                continue
            _check_state(trace_path, fr)
            cols = fr.cols
            # rounded as printed, then wrapped: 359.999 is 0.00, never 360.00
            angle = np.mod(np.round(90.0 - np.degrees(cols["heading_rad"].astype(np.float64)), 2),
                           360.0)
            x.write(f'    <timestep time="{fr.t_s:.2f}">\n')
            for k in range(fr.n):  # text output: one line per record is the format
                vid = int(cols["vehicle_id"][k])
                typ = names.get(int(cols["cls"][k]), "car")
                xm, ym = float(cols["x_m"][k]), float(cols["y_m"][k])
                v, a = float(cols["v_mps"][k]), float(cols["a_mps2"][k])
                ln, rt = int(cols["lane"][k]), int(cols["route"][k])
                x.write(f'        <vehicle id="{vid}" x="{xm:.2f}" y="{ym:.2f}" '
                        f'angle="{angle[k]:.2f}" type="{typ}" speed="{v:.2f}" '
                        f'acceleration="{a:.2f}" lane="{ln}" route="{rt}"/>\n')
                if c:
                    c.write(f"{fr.t_s:.2f},{vid},{xm:.2f},{ym:.2f},{angle[k]:.2f},{typ},"
                            f"{v:.2f},{a:.2f},{ln},{rt}\n")
            x.write("    </timestep>\n")
            n += fr.n
        x.write("</fcd-export>\n")
    return n

