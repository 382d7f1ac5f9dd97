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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fuzz-long", action="store_true", default=False,
                     help="fuzz the input readers (tests/test_fuzz_inputs.py) with a long, "
                          "random budget instead of the short reproducible one")


def pytest_configure(config: pytest.Config) -> None:
    from tests.helpers import fuzz

    fuzz.LONG = bool(config.getoption("--fuzz-long"))
