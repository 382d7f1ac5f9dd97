"""The run directory: manifest, summary and CSV tables, each written atomically.

A file is written to a temporary name and renamed, so a crash never leaves a half-written JSON.
`summary.json` holds only simulated results (no wall-clock numbers) so that the same scenario and
seed give byte-identical summaries; timing goes into `manifest.json`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sim.core.errors import V2xSimError

#: What a run directory's manifest says while the run is going (written before the run starts,
#: so a `kill -9` leaves it saying so) and after: "complete", "interrupted" or "failed".
STATUS_RUNNING = "running"


class OutputDirError(V2xSimError):
    """An output directory we must not write into (user files in it); the message says why."""


def _is_ours(directory: Path, marker: str, keys: set[str]) -> bool:
    doc = read_json(directory / marker)
    return doc is not None and keys <= doc.keys()


def is_run_dir(path: Path) -> bool:
    """A directory a v2xsim run wrote: its manifest names the scenario and the versions."""
    return _is_ours(path, "manifest.json", {"scenario", "versions"})


def is_sweep_dir(path: Path) -> bool:
    """A directory a v2xsim sweep (or bench) wrote: its sweep.json lists the points."""
    return _is_ours(path, "sweep.json", {"scenario", "points"})


def check_output_dir(path: Path, what: str = "run", force: bool = False) -> None:
    """Refuses to write into an existing, non-empty directory that v2xsim did not write.

    Why: a typo in `--out` (a home directory, a project folder) must not mix run files into the
    user's files or overwrite one of the same name. Our own run (or sweep) directory is fine:
    re-running into it replaces its outputs. `force` accepts any directory; nothing in it is ever
    deleted, only files of the output names are replaced. Raises `OutputDirError`.
    """
    if not path.exists():
        return
    if not path.is_dir():
        raise OutputDirError(f"--out {path}: exists and is not a directory")
    ours = is_sweep_dir(path) if what == "sweep" else is_run_dir(path)
    if force or ours:
        return
    try:
        entries = sorted(e.name for e in path.iterdir())
    except OSError as exc:
        raise OutputDirError(f"--out {path}: cannot list the directory ({exc.strerror})") from None
    if entries:
        raise OutputDirError(
            f"--out {path}: not empty and not a v2xsim {what} directory ({len(entries)} "
            f"entries, e.g. {entries[0]!r:.60}); choose a new directory, or pass --force to write "
            "into it (files of the output names are replaced, nothing is deleted)")


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_json(path: Path, data: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


#: Run-directory JSON files are a few kB; a bigger one is not ours (and is not read whole).
MAX_JSON_BYTES = 16 << 20


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from a file, or None if it is missing, unreadable or not an object.

    Only regular files up to `MAX_JSON_BYTES` are read: a run directory comes from users and other
    tools, and a FIFO or `/dev/zero` in place of `summary.json` must not hang or fill memory.
    """
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_JSON_BYTES:
            return None
        with open(path, "rb") as f:
            raw = f.read(MAX_JSON_BYTES + 1)
        data = json.loads(raw.decode("utf-8")) if len(raw) <= MAX_JSON_BYTES else None
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow(["" if v is None else (f"{v:.6f}" if isinstance(v, float) else v) for v in row])
    write_atomic(path, buf.getvalue())


def mark_aborted(run_dir: Path) -> None:
    """Turns a manifest still saying "running" into "interrupted" (the run was aborted while it
    wrapped up, e.g. a second Ctrl-C): the directory must not look like a run still going."""
    manifest = read_json(run_dir / "manifest.json")
    if manifest is not None and manifest.get("status") == STATUS_RUNNING:
        write_json(run_dir / "manifest.json", {**manifest, "interrupted": True,
                                               "status": "interrupted"})
