"""Colours and on-screen sizes, in one place so that the legend, the HUD and the drawing agree.

The palette is chosen for a dark map: vehicle classes are far apart in hue (blue car, yellow bus,
red truck, violet logistics van, green sanitation vehicle) so they stay distinguishable as single
pixels, and nothing the simulator draws shares the RSU orange.
"""

from __future__ import annotations

from vehicles.classes import CLASS_BY_CODE

RGB = tuple[int, int, int]

BACKGROUND: RGB = (24, 28, 32)
ASPHALT: RGB = (58, 62, 68)
ROAD_EDGE: RGB = (200, 200, 200)
LANE_MARK: RGB = (170, 170, 170)
MEDIAN: RGB = (210, 180, 60)
ROAD_FAR: RGB = (110, 115, 122)  # a carriageway too thin to draw as a surface
STREET_FAR: RGB = (120, 126, 136)  # a street network seen whole: lighter than asphalt, reads as a map
STREET_NAME: RGB = (225, 228, 232)
BUILDING: RGB = (52, 46, 44)  # footprints that block radio links (map.buildings_nlos): warm grey
BUILDING_EDGE: RGB = (92, 82, 76)
STREET_NAME_SHADOW: RGB = (10, 10, 12)

#: Colour per vehicle class name; every class in `vehicles.classes` must have one.
CLASS_COLOURS: dict[str, RGB] = {
    "car": (80, 160, 255),
    "bus": (255, 210, 60),
    "truck": (235, 70, 60),
    "logistics": (185, 110, 255),
    "sanitation": (70, 210, 110),
    "emergency": (255, 140, 150),
}
UNKNOWN_CLASS: RGB = (200, 200, 200)
PEDESTRIAN: RGB = (255, 255, 140)  # VRU dots (pedestrians, cyclists)
#: Index = class code.
CLASS_COLOUR_BY_CODE: tuple[RGB, ...] = tuple(
    CLASS_COLOURS.get(CLASS_BY_CODE[c].name, UNKNOWN_CLASS) for c in range(len(CLASS_BY_CODE))
)

VEHICLE_OUTLINE: RGB = (15, 15, 18)
L3_MARK: RGB = (255, 255, 255)
L4_MARK: RGB = (255, 60, 220)
V2X_MARK: RGB = (0, 240, 240)
TX_RING: RGB = (0, 220, 235)
EBW_WARNING: RGB = (255, 176, 0)  # amber halo: under an emergency brake warning
SELECTED: RGB = (255, 255, 255)  # with a dark rim: readable on every class colour

RSU_FILL: RGB = (255, 140, 0)
RSU_BORDER: RGB = (20, 20, 20)
RSU_COVERAGE: RGB = (150, 95, 30)
RSU_DOWN: RGB = (120, 120, 120)  # an RSU in an outage: grey, crossed out, no coverage circle
RSU_DOWN_CROSS: RGB = (235, 50, 50)

#: Signal head colour per state code (sim.core.signals GREEN=0, YELLOW=1, RED=2); unknown: grey.
SIGNAL_COLOURS: tuple[RGB, ...] = ((40, 235, 90), (255, 200, 0), (255, 40, 40))
SIGNAL_UNKNOWN: RGB = (120, 120, 120)
SIGNAL_HOUSING: RGB = (10, 10, 12)
SIGNAL_EVIDENCED: RGB = (245, 245, 245)  # intersection box outline, solid
SIGNAL_SYNTHETIC: RGB = (175, 180, 190)  # intersection box outline, corners only (dashed)
STOP_LINE: RGB = (240, 240, 240)

LINK_OK: RGB = (90, 255, 120)
LINK_LOST: RGB = (230, 70, 70)
LINK_ALPHA = 110  # links are drawn translucent (0-255)

TEXT: RGB = (235, 235, 235)
TEXT_DIM: RGB = (160, 165, 170)
TEXT_WARN: RGB = (255, 200, 60)
PANEL_BG = (0, 0, 0, 170)  # RGBA, drawn with per-surface alpha

#: RSU marker half size [px] (smaller far out, where it would hide the traffic passing it), and
#: the minimum on-screen car length [px] for each level of detail.
RSU_HALF_PX = 6
RSU_HALF_PX_FAR = 4
RSU_NEAR_SCALE_PX_PER_M = 0.15
RECT_MIN_LENGTH_PX = 3.0  # below: vehicles are 2x2 pixel dots
OUTLINE_MIN_LENGTH_PX = 9.0  # from here: dark outline (and selection box)
MARKER_MIN_LENGTH_PX = 14.0  # from here: automation / V2X markers on the roof
TX_RING_MIN_LENGTH_PX = 3.0  # transmission rings need the vehicle to be visible as a shape

#: Signal glyph in world metres, clamped to stay legible far out: the intersection box half size
#: (at least the RSU marker plus a margin, since RSUs often stand at the junction), head radius, and
#: head distance from the centre (between the box and the stop lines, 15 m before the centre).
SIGNAL_BOX_HALF_M = 9.0
SIGNAL_HEAD_R_M = 1.5
SIGNAL_HEAD_R_PX = (4, 8)
SIGNAL_HEAD_OFFSET_M = 12.0
SIGNAL_ROAD_HALF_M = 8.0  # labels keep this clear of the junction's road centre lines
STOP_LINE_M = 0.5  # painted width
STOP_BAR_M = 1.0  # a signal-controlled lane's stop bar, drawn in its link's colour (as SUMO does)
STOP_LINE_MIN_LANE_PX = 2.0  # drawn once a lane is this wide on screen

#: Default RSU planning radius drawn as the coverage circle [m].
DEFAULT_RSU_RADIUS_M = 500.0


def rsu_half_px(scale_px_per_m: float) -> int:
    return RSU_HALF_PX if scale_px_per_m >= RSU_NEAR_SCALE_PX_PER_M else RSU_HALF_PX_FAR


def signal_glyph_px(scale_px_per_m: float) -> tuple[float, float, float]:
    """(box half size, head offset from the centre, head radius) [px] at this zoom."""
    s = scale_px_per_m
    box = max(SIGNAL_BOX_HALF_M * s, RSU_HALF_PX + 4.0)
    head = min(max(SIGNAL_HEAD_R_M * s, SIGNAL_HEAD_R_PX[0]), SIGNAL_HEAD_R_PX[1])
    offset = max(SIGNAL_HEAD_OFFSET_M * s, box + head + 4.0)
    return box, offset, head


ATTRIBUTION = "\u00a9 OpenStreetMap contributors, ODbL 1.0"

# Edge (MEC) servers and their backhaul links.
EDGE_FILL: RGB = (120, 230, 120)
EDGE_DOWN: RGB = (230, 60, 60)
EDGE_BORDER: RGB = (10, 40, 10)
BACKHAUL: RGB = (90, 150, 90)
GAUGE_BUSY: RGB = (120, 230, 120)
GAUGE_QUEUE: RGB = (255, 176, 0)


def edge_half_px(scale_px_per_m: float) -> int:
    """Half-size of the edge glyph: a bit larger than an RSU so it reads as the hub."""
    return rsu_half_px(scale_px_per_m) + 2
