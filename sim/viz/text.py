"""Text the bundled font can draw: characters without a glyph are left out, not drawn as boxes.

pygame's default font has Latin, Greek and Cyrillic but no CJK; the Auto City street names are
bilingual ("创业大街 Chuangye Street"), so dropping what the font cannot draw keeps the readable
part. A system with a CJK font configured would keep the whole name (the check is per font).
"""

from __future__ import annotations

from typing import Any

from sim.viz._pygame import pygame

_MISSING = "\U0010fffd"  # a private-use code point: no font has a glyph for it
_HAS_GLYPH: dict[tuple[int, str], bool] = {}


def _has_glyph(font: Any, ch: str) -> bool:
    """Whether `font` draws `ch` as itself rather than as its missing-glyph box."""
    key = (id(font), ch)
    if key not in _HAS_GLYPH:
        if ch.isascii():
            _HAS_GLYPH[key] = True
        else:
            pg = pygame()
            a = pg.image.tobytes(font.render(ch, False, (255, 255, 255)), "RGB")
            b = pg.image.tobytes(font.render(_MISSING, False, (255, 255, 255)), "RGB")
            _HAS_GLYPH[key] = a != b
    return _HAS_GLYPH[key]


def legible(text: str, font: Any) -> str:
    """`text` without the characters `font` has no glyph for (a bilingual name such as
    "创业大街 Chuangye Street" keeps its Latin part when no CJK font is available)."""
    kept = "".join(ch for ch in text if _has_glyph(font, ch))
    return " ".join(kept.split())
