"""`v2xsim export net` (#16 part 3): a GeoJSON scenario's roads as a SUMO net, read back with
sumolib: connected along every route, lanes / speeds / names carried over, geo-referenced."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.scenario.build import geojson_routes
from sim.scenario.loader import load_scenario

sumolib = pytest.importorskip("sumolib", reason="the v2xsim[sumo] extra is not installed")


@pytest.mark.parametrize("name", ["auto-city-loop", "airport-expressway-interchange",
                                  "auto-city-intersection-v2x"])
def test_exported_net_carries_every_route(tmp_path: Path, name: str) -> None:
    out = tmp_path / "x.net.xml"
    assert main(["export", "net", name, "--out", str(out)]) == 0
    net = sumolib.net.readNet(str(out), withInternal=False)
    projection, routes = geojson_routes(load_scenario(name, []))
    assert net.hasGeoProj()
    edges = net.getEdges()
    for route in routes:
        lon, lat = projection.to_wgs84(route.xy_m[[0, -1], 0], route.xy_m[[0, -1], 1]).T
        start_xy, end_xy = (net.convertLonLat2XY(float(a), float(b)) for a, b in zip(lon, lat))
        # The edges leaving the route's first point and those reaching its last point (another
        # route may end or pass there too).
        def near(xy: tuple[float, float], which: str) -> list:  # type: ignore[type-arg]
            return [e for e in edges if np.hypot(*np.subtract(
                getattr(e, which)().getCoord(), xy)) < 1.0]
        paths = [net.getShortestPath(a, b) for a in near(start_xy, "getFromNode")
                 for b in near(end_xy, "getToNode")]
        paths = [p for p in paths if p[0] is not None]
        assert paths, f"{route.id}: no path through the exported net"
        # SUMO's path length (edge lengths, junctions cut out) is the route's, less a few metres
        # per junction.
        path, length_m = min(paths, key=lambda p: abs(p[1] - route.length_m))
        assert length_m == pytest.approx(route.length_m, rel=0.03), route.id
        assert {e.getLaneNumber() for e in path} == {route.lanes}
        assert {e.getName() for e in path} <= set(route.road_names)
        limits = set(route.road_limits_mps) or {route.speed_limit_mps}
        assert all(min(abs(e.getSpeed() - v) for v in limits) < 0.01 for e in path)


def test_export_is_reproducible_and_signals_become_traffic_lights(tmp_path: Path) -> None:
    a, b = tmp_path / "a.net.xml", tmp_path / "b.net.xml"
    for out in (a, b):
        assert main(["export", "net", "auto-city-loop", "--out", str(out)]) == 0
    assert a.read_bytes() == b.read_bytes()
    net = sumolib.net.readNet(str(a))
    assert len(net.getTrafficLights()) >= 1


def test_export_net_of_a_sumo_scenario_is_refused(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "s.yaml").write_text("name: s\nnetwork: {sumo_net: none.net.xml}\n")
    code = main(["export", "net", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o.net.xml")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
