"""`op inject` in memory: references in, resolved text out through a pipe. The result is never
written to disk or logged; an op failure comes back as its own message and nothing else runs."""
from __future__ import annotations

from pathlib import Path

from .. import paths
from .gateway import Result, run


def _checked(result: Result, what: str) -> tuple[str | None, str]:
    """op's output, or its own error message."""
    if not result.ok:
        return None, f"op inject for {what} failed: {result.message()}"
    if not result.stdout.strip():
        return None, f"op inject for {what} returned nothing"
    return result.stdout, ""


def inject_text(template: str, what: str) -> tuple[str | None, str]:
    """Resolve the op:// references of template read from stdin; (text, "") or (None, op's message)."""
    return _checked(run("op", ["inject"], stdin=template, timeout=60), what)


def inject_file(path: Path) -> tuple[str | None, str]:
    """Resolve the references of one rendered file."""
    shown = paths.rel(path)
    if not path.is_file():
        return None, f"{shown} is missing (run `doit render` first)"
    return _checked(run("op", ["inject", "-i", shown], timeout=60), shown)
