"""Files the tool keeps: one atomic write-if-changed for all of them, so doit's md5 checker sees
unchanged artifacts as unchanged and a crash never leaves half a file."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

_parsed: dict[Path, tuple[tuple[int, int, int], object]] = {}


def write_if_changed(target: Path, content: str, mode: int = 0o644) -> bool:
    """Write content atomically (with `mode`; 0o600 for credentials) unless the file already holds
    exactly it; True if written."""
    data = content.encode("utf-8")
    _parsed.pop(target, None)       # a write within the clock's tick could otherwise look unchanged
    try:
        if target.read_bytes() == data:
            return False
    except OSError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def read_json(path: Path):
    """A JSON file's content, or None when it is missing or not JSON; parsed once per version of the
    file (a record read for every stage of a run stays linear). Callers must not change what it returns."""
    try:
        stat = path.stat()
    except OSError:
        return None
    version = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    known = _parsed.get(path)
    if known is not None and known[0] == version:
        return known[1]
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    _parsed[path] = (version, data)
    return data
