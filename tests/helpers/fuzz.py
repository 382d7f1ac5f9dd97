"""The fuzz budget (`pytest --fuzz-long`, set by tests/conftest.py) and the one property every
reader of user input must have: success, or exit 2 with one clean `v2xsim: error:` line."""

from __future__ import annotations

import contextlib
import io
import resource
import signal
from collections.abc import Iterator
from types import FrameType

from hypothesis import HealthCheck, settings

#: Set from the command line by tests/conftest.py before the test modules are imported.
LONG = False
#: Examples per test in a long run, per example of the short (CI) budget.
LONG_FACTOR = 100
#: A hostile input may not raise the peak memory of the process by more than this.
MAX_GROWTH_KB = 600 * 1024

_baseline_kb: list[int] = []


def budget(examples: int) -> settings:
    """Short and reproducible in CI (derandomized); random and `LONG_FACTOR` times longer with
    --fuzz-long. No example database: the regression files in tests/data/fuzz_regressions are
    the memory of what was found."""
    return settings(
        max_examples=examples * (LONG_FACTOR if LONG else 1), deadline=None, database=None,
        derandomize=not LONG, print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                               HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


class Hang(AssertionError):
    pass


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_cli(argv: list[str], timeout_s: int = 30) -> tuple[int, str]:
    """`sim.cli.main(argv)` in this process: (exit code, stderr). Raises on a traceback (any
    exception), a hang (`Hang`) or too much memory."""
    from sim.cli import main

    if not _baseline_kb:
        _baseline_kb.append(_peak_kb())
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), time_limit(timeout_s):
        code = main(argv)
    grown = _peak_kb() - _baseline_kb[0]
    assert grown < MAX_GROWTH_KB, f"{argv}: peak memory grew by {grown / 1024:.0f} MB"
    return code, err.getvalue()


def assert_clean(code: int, err: str, argv: list[str] | None = None) -> None:
    """Exit 0, or exit 2 with exactly one printable `v2xsim: error: ...` line on stderr."""
    if code == 0:
        return
    lines = err.strip().splitlines()
    assert code == 2, f"{argv}: exit {code}, stderr: {err[-2000:]}"
    assert len(lines) == 1, f"{argv}: {len(lines)} lines on stderr: {err[-2000:]}"
    assert lines[0].startswith("v2xsim: error: "), lines[0]
    assert lines[0].isprintable(), f"unprintable characters reach the terminal: {lines[0]!r}"
