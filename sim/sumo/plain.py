"""SUMO plain XML (`.nod.xml`, `.edg.xml`) written from our geometry, and netconvert run on it.

Plain XML is netconvert's own input format: nodes with positions (and a type: priority or
traffic_light), edges between nodes with lanes, speed, shape and name. netconvert then computes
what a hand-written converter would get wrong: junction shapes, internal lanes, connections,
right-of-way and traffic-light programs. Node positions are written in lon/lat and projected by
netconvert to UTM, so the net keeps a geo-reference (`location`) that lon/lat RSUs and maps line
up with. Used by `v2xsim export net` and by the Auto City net script.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
from numpy.typing import NDArray

from sim.sumo.tools import first_error, run_tool


class NetconvertError(RuntimeError):
    """netconvert refused the plain files (its first error line is the message)."""


@dataclass(frozen=True)
class PlainNode:
    id: str
    lon: float
    lat: float
    type: str = "priority"  # or traffic_light, ...


@dataclass(frozen=True)
class PlainEdge:
    id: str
    from_node: str
    to_node: str
    lonlat_shape: NDArray[np.float64]  # (K, 2) from the from-node to the to-node
    lanes: int
    speed_mps: float
    name: str = ""
    priority: int = -1  # -1: netconvert's default


def _fmt(shape: NDArray[np.float64]) -> str:
    return " ".join(f"{lon:.7f},{lat:.7f}" for lon, lat in shape)


def write_plain(nodes: Sequence[PlainNode], edges: Sequence[PlainEdge],
                prefix: Path) -> tuple[Path, Path]:
    """`prefix.nod.xml` and `prefix.edg.xml`, in the given order (so the output is reproducible)."""
    nod = prefix.with_name(prefix.name + ".nod.xml")
    edg = prefix.with_name(prefix.name + ".edg.xml")
    lines = ["<nodes>"]
    lines += [f'    <node id={quoteattr(n.id)} x="{n.lon:.7f}" y="{n.lat:.7f}" type="{n.type}"/>'
              for n in nodes]
    nod.write_text("\n".join([*lines, "</nodes>", ""]), encoding="utf-8")
    lines = ["<edges>"]
    for e in edges:
        prio = f' priority="{e.priority}"' if e.priority >= 0 else ""
        name = f" name={quoteattr(e.name)}" if e.name else ""
        lines.append(f'    <edge id={quoteattr(e.id)} from={quoteattr(e.from_node)} '
                     f'to={quoteattr(e.to_node)} numLanes="{e.lanes}" speed="{e.speed_mps:.2f}"'
                     f'{prio}{name} shape="{_fmt(e.lonlat_shape)}"/>')
    edg.write_text("\n".join([*lines, "</edges>", ""]), encoding="utf-8")
    return nod, edg


def netconvert_plain(nodes: Sequence[PlainNode], edges: Sequence[PlainEdge], out: Path,
                     options: Sequence[str] = ()) -> None:
    """Writes the plain files to a temporary directory and runs netconvert on them into `out`.
    Raises NetconvertError with netconvert's first error."""
    with tempfile.TemporaryDirectory(prefix="v2xsim-plain-") as tmp:
        nod, edg = write_plain(nodes, edges, Path(tmp) / "net")
        proc = run_tool("netconvert", [
            "--node-files", str(nod), "--edge-files", str(edg), "--proj.utm", "true",
            "--output-file", str(out), "--output.street-names", "true",
            "--no-turnarounds", "true", "--offset.disable-normalization", "false",
            "--no-warnings", "true", *options])
    if proc.returncode != 0 or not out.is_file():
        raise NetconvertError(first_error(proc))
    _drop_generated_comment(out)


def _drop_generated_comment(path: Path) -> None:
    """netconvert heads its output with a comment naming the date and its input paths (here a
    temporary directory); without it the same input gives the same bytes."""
    text = path.read_text(encoding="utf-8")
    start = text.find("<!-- generated on")
    if start >= 0:
        end = text.index("-->", start) + len("-->")
        text = text[:start] + text[end:].lstrip("\n")
        path.write_text(text, encoding="utf-8")
