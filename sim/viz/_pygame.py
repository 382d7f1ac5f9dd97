"""The one place that imports pygame, on first use, so `import sim.viz` stays display-free."""

from __future__ import annotations

import os
from types import ModuleType


def pygame() -> ModuleType:
    """The pygame(-ce) module with its font system ready; raises ImportError if not installed."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame as pg

    if not pg.font.get_init():
        pg.font.init()
    return pg
