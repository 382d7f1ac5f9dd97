"""Reading a file a user named, safely: regular files only, a size cap, strict decoding.

Scenario files, maps and SUMO inputs come from users and other tools. A path that names a FIFO
or `/dev/zero` would block or never end, a Windows editor saves UTF-16, a path may hold a NUL
byte or be longer than the file system allows: each of these becomes one `ScenarioError` naming
the file, never a hang, a `UnicodeDecodeError` or an `OSError` traceback.

Size caps (bytes) are per kind of file, generous for real inputs and small enough that the parse
stays within a few hundred MB of memory:
- scenario YAML: 1 MiB (the shipped ones are a few kB; our checked loader reads a worst-case
  file of short list items at about 0.5 MiB/s),
- GeoJSON maps: 32 MiB (json holds ~5x the text size as Python objects),
- SUMO `.net.xml` / `.rou.xml`: 256 MiB (city nets are tens of MB; sumolib keeps the net in
  memory).
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
import unicodedata
from pathlib import Path

from sim.core.errors import ScenarioError

KiB, MiB = 1024, 1024 * 1024
MAX_YAML_BYTES = 1 * MiB
MAX_JSON_BYTES = 32 * MiB
MAX_SUMO_BYTES = 256 * MiB

#: BOMs we decode, longest first (the UTF-32-LE BOM begins with the UTF-16-LE one).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)

_KINDS = (
    (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _size(n: int) -> str:
    return f"{n / MiB:.0f} MiB" if n >= MiB else f"{n / KiB:.0f} KiB"


def _path_problem(exc: BaseException) -> str:
    """What is wrong with a path, in words (ValueError: the NUL byte os refuses)."""
    if isinstance(exc, ValueError):
        return "the path contains a NUL byte"
    assert isinstance(exc, OSError)
    if exc.errno == errno.ENOENT:
        return "file not found"
    if exc.errno == errno.ENAMETOOLONG:
        return "file name too long"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ELOOP:
        return "too many levels of symbolic links"
    if exc.errno == errno.ENOTDIR:
        return "a part of the path is not a directory"
    return f"cannot read ({(exc.strerror or str(exc)).lower()})"


def path_exists(path: Path) -> bool:
    """`Path.exists` that answers False, not raises, for a NUL byte or a too long name (the
    reader then says what is wrong)."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def check_regular_file(path: Path, max_bytes: int, source: str | None = None,
                       key: str = "") -> int:
    """The size of `path` if it is a regular file within `max_bytes`, else a ScenarioError.

    Named by `source`/`key` (the scenario and key that named the file) when given, else by the
    path itself. For files another program reads (SUMO's): the check is all we can do."""
    where, what = (source, key) if source is not None else (str(path), "")
    prefix = f"{path}: " if source is not None else ""
    try:
        st = os.stat(path)
    except (OSError, ValueError) as exc:
        raise ScenarioError(where, what, prefix + _path_problem(exc)) from None
    return _checked(st, path, max_bytes, where, what, prefix)


def _checked(st: os.stat_result, path: Path, max_bytes: int, where: str, what: str,
             prefix: str) -> int:
    for test, kind in _KINDS:
        if test(st.st_mode):
            raise ScenarioError(where, what, f"{prefix}is {kind}, expected a regular file")
    if not stat.S_ISREG(st.st_mode):
        raise ScenarioError(where, what, f"{prefix}is not a regular file")
    if st.st_size > max_bytes:
        raise ScenarioError(where, what, f"{prefix}is {_size(st.st_size)}, larger than the "
                                         f"{_size(max_bytes)} this kind of file may be")
    return int(st.st_size)


def read_bytes(path: Path, max_bytes: int, source: str | None = None, key: str = "") -> bytes:
    """The bytes of a regular file of at most `max_bytes` (see `check_regular_file`)."""
    check_regular_file(path, max_bytes, source, key)
    where, what = (source, key) if source is not None else (str(path), "")
    prefix = f"{path}: " if source is not None else ""
    try:
        # O_NONBLOCK: if the path was swapped for a FIFO since the check, open does not block.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError) as exc:
        raise ScenarioError(where, what, prefix + _path_problem(exc)) from None
    try:
        with os.fdopen(fd, "rb") as f:
            _checked(os.fstat(f.fileno()), path, max_bytes, where, what, prefix)
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise ScenarioError(where, what, prefix + _path_problem(exc)) from None
    if len(data) > max_bytes:  # grew since the check
        raise ScenarioError(where, what, f"{prefix}is larger than the {_size(max_bytes)} this "
                                         "kind of file may be")
    return data


def decode_text(data: bytes, source: str) -> str:
    """UTF-8 (with or without BOM), or UTF-16/UTF-32 with a BOM; anything else is refused with the
    byte offset of the first byte that does not decode. NUL characters are refused too: they mean
    UTF-16/32 without a BOM, or a binary file."""
    encoding, name, skip = "utf-8", "UTF-8", 0
    for bom, enc, label in _BOMS:
        if data.startswith(bom):
            encoding, name, skip = enc, label, len(bom)
            break
    try:
        text = data[skip:].decode(encoding)
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        line = data[:offset].count(b"\n") + 1 if name == "UTF-8" else None
        at = f"byte offset {offset}" + (f" (line {line})" if line else "")
        bad = data[offset:offset + 1].hex()
        hint = ("; save it as UTF-8" if name == "UTF-8" else "")
        raise ScenarioError(source, "", f"not valid {name} text: byte 0x{bad} at {at} cannot be "
                                        f"decoded{hint}") from None
    nul = text.find("\x00")
    if nul >= 0:
        offset = skip + len(text[:nul].encode(encoding))
        raise ScenarioError(source, "", f"NUL byte at byte offset {offset}: a binary file, or "
                                        "UTF-16/UTF-32 without a byte order mark? Save it as UTF-8")
    return text


def read_text(path: Path, max_bytes: int, source: str | None = None, key: str = "") -> str:
    """`read_bytes` then `decode_text`: a user's text file as str, or one clean error."""
    return decode_text(read_bytes(path, max_bytes, source, key), str(path))


#: Characters refused in scenario strings: every control (Cc) but tab and newlines, and every
#: format character (Cf: bidi overrides, zero-width and BOM) but the joiners some scripts need.
_ALLOWED_CONTROLS = frozenset("\t\n\r\u200c\u200d")


def first_control_char(text: str) -> int:
    """Index of the first character that could rewrite a terminal or reorder text, or -1."""
    for i, ch in enumerate(text):
        if ch not in _ALLOWED_CONTROLS and unicodedata.category(ch) in ("Cc", "Cf"):
            return i
    return -1


def printable(text: str) -> str:
    """`text` on one line with control and format characters escaped (\\x1b, \\u202e, \\n), for
    printing text that came from a user's file."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch == " " or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)
