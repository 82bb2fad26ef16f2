"""Files the tool keeps: one atomic write-if-changed for all of them, so doit's md5 checker sees
unchanged artifacts as unchanged and a crash never leaves half a file."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_if_changed(target: Path, content: str, mode: int = 0o644) -> bool:
    """Write content atomically (with `mode`; 0o600 for credentials) unless the file already holds
    exactly it; True if written."""
    data = content.encode("utf-8")
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
