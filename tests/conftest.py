"""Shared fixtures: tiny hand-built worlds and scenario files written on the fly."""

from __future__ import annotations

from pathlib import Path

import pytest

# The helpers assert (e.g. tests.helpers.radio.compare): give their failures pytest's detailed
# messages, as when they lived in test modules. Must run before tests.helpers.* is imported.
pytest.register_assert_rewrite("tests.helpers")


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    from tests.helpers.scenarios import tiny_scenario

    return tiny_scenario(tmp_path)
