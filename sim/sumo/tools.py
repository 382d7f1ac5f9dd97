"""The SUMO programs of the `eclipse-sumo` wheel (netconvert, netgenerate, duarouter, sumo).

The wheel installs SUMO under the `sumo` package; `SUMO_HOME` is set from it for the child
processes (SUMO's own tools look there), never taken from the user's environment first, so a
system install cannot shadow the pinned wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


class SumoUnavailable(RuntimeError):
    """The sumo extra is not installed."""


def sumo_home() -> Path:
    try:
        import sumo
    except ImportError:
        raise SumoUnavailable("SUMO is not installed: pip install 'v2xsim[sumo]'") from None
    return Path(sumo.SUMO_HOME)


def binary(name: str) -> Path:
    path = sumo_home() / "bin" / name
    if not path.is_file():
        raise SumoUnavailable(f"the eclipse-sumo wheel has no {name} ({path})")
    return path


def run_tool(name: str, args: Sequence[str], cwd: Path | None = None,
             timeout_s: float = 600.0) -> subprocess.CompletedProcess[str]:
    """Runs a SUMO program; returns the completed process (the caller checks returncode)."""
    env = dict(os.environ, SUMO_HOME=str(sumo_home()))
    return subprocess.run([str(binary(name)), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout_s, check=False)


def run_script(name: str, args: Sequence[str], cwd: Path | None = None,
               timeout_s: float = 600.0) -> subprocess.CompletedProcess[str]:
    """Runs one of SUMO's Python tools (`tools/<name>`, e.g. randomTrips.py) with this interpreter
    (sumolib is installed in it); returns the completed process."""
    tool = sumo_home() / "tools" / name
    if not tool.is_file():
        raise SumoUnavailable(f"the eclipse-sumo wheel has no tools/{name} ({tool})")
    env = dict(os.environ, SUMO_HOME=str(sumo_home()))
    return subprocess.run([sys.executable, str(tool), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout_s, check=False)


def first_error(proc: subprocess.CompletedProcess[str]) -> str:
    """The first `Error:` line of a SUMO program's output (else its last line)."""
    lines = [ln.strip() for ln in (proc.stderr + "\n" + proc.stdout).splitlines() if ln.strip()]
    err = [ln for ln in lines if ln.startswith("Error")]
    return (err or lines or [f"exit code {proc.returncode}"])[0]
