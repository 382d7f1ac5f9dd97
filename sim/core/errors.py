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
        where = f"{source}: {key_path}" if key_path else source
        super().__init__(f"{where}: {message}")
