"""The one base model of every scenario spec: the rules that hold for every key.

- unknown keys are refused, specs are frozen, types are strict (no "3" for 3);
- no NaN or infinity in any float (`allow_inf_nan=False`): a `.nan` threshold or distance bin
  would be accepted and then compare false everywhere, silently;
- no control or format characters in any string (ANSI escapes, bidi overrides, NUL): names and
  ids are printed to terminals and written into outputs; tab and newlines are fine (descriptions);
- a time window `at_s`/`until_s` (faults, scripted events) must end after it begins.

Kept in one place so a new spec section cannot forget one of them. The character rule is
duplicated from `sim.core.input_file` on purpose: `sim.spec` is the layer below `sim.core`.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

_ALLOWED_CONTROLS = frozenset("\t\n\r\u200c\u200d")


def _bad_char(text: str) -> str | None:
    for i, ch in enumerate(text):
        if ch not in _ALLOWED_CONTROLS and unicodedata.category(ch) in ("Cc", "Cf", "Cs"):
            return f"control or format character U+{ord(ch):04X} at position {i} is not allowed"
    return None


def _check_strings(value: Any) -> None:
    """Raises ValueError for a bad character in a string, or in one inside lists and mappings."""
    if isinstance(value, str):
        if not value.isprintable():  # fast path: plain text is printable
            problem = _bad_char(value)
            if problem:
                raise ValueError(problem)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            _check_strings(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_strings(k)
            _check_strings(v)


class SpecModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        _check_strings(value)
        return value

    @model_validator(mode="after")
    def _window_ends_after_start(self) -> Any:
        at, until = getattr(self, "at_s", None), getattr(self, "until_s", None)
        if isinstance(at, (int, float)) and isinstance(until, (int, float)) and until <= at:
            raise ValueError(f"until_s ({until:g}) must be after at_s ({at:g})")
        return self
