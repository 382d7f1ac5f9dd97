"""Typed exceptions. Library code raises these; only the CLI turns them into messages and exit codes."""

from __future__ import annotations


class V2xSimError(Exception):
    """Base class of every error the simulator raises on purpose."""


class ScenarioError(V2xSimError):
    """Bad scenario input: names the file, the key path and what is allowed, in one line."""

    def __init__(self, source: str, key_path: str, message: str) -> None:
        self.source = source
        self.key_path = key_path
        self.message = message
        # args are the constructor's, so the error can be re-created from them (simpy re-raises
        # a failed process's exception as type(exc)(*exc.args); pickling for Dask does too).
        super().__init__(source, key_path, message)

    def __str__(self) -> str:
        where = f"{self.source}: {self.key_path}" if self.key_path else self.source
        return f"{where}: {self.message}"
