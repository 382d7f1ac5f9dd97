"""The sweep's own input errors (bench configurations, cluster address, arguments).

They subclass `V2xSimError`, so the CLI reports them exactly like scenario errors: one line, exit 2.
Grid syntax and grid keys are reported as `ScenarioError` with source `--grid`, since they are
scenario overrides.
"""

from __future__ import annotations

from sim.core.errors import V2xSimError


class SweepError(V2xSimError):
    """Bad sweep input that is not a scenario problem, said in one line with what to do."""
