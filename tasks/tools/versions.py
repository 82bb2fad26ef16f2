"""The tools on PATH (or their override variables) and their versions, against the oldest versions
this project supports: a table, one row per tool, each with the command that prints its version."""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .gateway import OVERRIDES, binary, run


@dataclass(frozen=True)
class Tool:
    """One tool: how to ask its version, the oldest supported and why that one."""

    name: str
    args: tuple[str, ...]
    minimum: str
    why: str


# The minimums are the versions the project is tested with (tests/world/binaries.py pins kubectl,
# helm and helmfile; the simulated talosctl and op report v1.13.9 and 2.32.0).
TOOLS = (
    Tool("talosctl", ("version", "--client", "--short"), "1.13.0",
         "talosctl must match the nodes' Talos minor (talos.yaml talosVersion)"),
    Tool("kubectl", ("version", "--client", "-o", "json"), "1.32.0", "server-side apply of the CRDs and resources"),
    Tool("helm", ("version", "--short"), "3.17.0", "--wait-for-jobs and take-ownership as the releases use them"),
    Tool("helmfile", ("version", "-o", "short"), "0.166.0", "plain-YAML helmfiles read alike by v0.166+ and v1"),
    Tool("op", ("--version",), "2.0.0", "op v2 commands: inject, item get, item create"),
)
VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class Found:
    """What one tool answered: its version, or why there is none."""

    tool: Tool
    version: str = ""
    error: str = ""

    @property
    def too_old(self) -> bool:
        return bool(self.version) and as_tuple(self.version) < as_tuple(self.tool.minimum)

    def fix(self) -> str:
        """What to do about a missing or old tool."""
        return (f"install {self.tool.name} {self.tool.minimum} or newer on PATH, or point "
                f"{OVERRIDES[self.tool.name]} at it")


def as_tuple(version: str) -> tuple[int, ...]:
    """'v1.13.9' -> (1, 13, 9)."""
    match = VERSION.search(version)
    return tuple(int(part) for part in match.groups()) if match else ()


def ask(tool: Tool) -> Found:
    """Run the tool's version command; the first version number it prints is its version."""
    result = run(tool.name, list(tool.args), timeout=30)
    if not result.ok:
        return Found(tool, error=result.message())
    match = VERSION.search(result.stdout)
    if not match:
        return Found(tool, error=f"{binary(tool.name)} printed no version number")
    return Found(tool, version=".".join(match.groups()))


def tool_versions(names: tuple[str, ...] | None = None) -> list[Found]:
    """Every tool of the table (or those named), asked side by side."""
    wanted = [tool for tool in TOOLS if names is None or tool.name in names]
    with ThreadPoolExecutor(max_workers=len(wanted) or 1) as pool:
        return list(pool.map(ask, wanted))
