"""A throw-away copy of the project to run doit in, and helpers to run and inspect it."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
# What the tests lose without each ../shared folder (said in the summary, a failure in CI).
SHARED_PARTS = {
    "schemas": "the upstream-schema checks ran as warnings only (a violation would not fail)",
    "charts": "releases were installed from stand-in charts, not the real upstream charts",
}


def in_ci() -> bool:
    """CI runs (CI=true, set by .ci/run) must not quietly run weaker tests."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing_shared() -> dict[str, str]:
    """The ../shared folders that are absent, with what the tests lose without them."""
    return {part: lost for part, lost in SHARED_PARTS.items() if not (SHARED / part).is_dir()}


def require_shared(part: str) -> Path:
    """../shared/<part> for a test that needs it: skipped with the reason when absent, failed in CI."""
    import pytest
    folder = SHARED / part
    if folder.is_dir():
        return folder
    why = f"../shared/{part} is absent ({folder}): {SHARED_PARTS[part]}"
    if in_ci():
        pytest.fail(f"{why}; CI must run with it")
    pytest.skip(why)
# What a copy leaves out: state, caches and outputs of the checkout it came from.
IGNORED = shutil.ignore_patterns(".git", "build", ".cache", ".doit.db*", "__pycache__", ".pytest_cache",
                                 ".world", "*.egg-info", "tests", "benchmarks")


@dataclass
class Project:
    """A copy of the repository in a temporary folder."""

    root: Path

    @classmethod
    def copy(cls, dest: Path) -> "Project":
        """Copy the repository (without outputs and state) to dest."""
        shutil.copytree(REPO_ROOT, dest, ignore=IGNORED)
        return cls(dest)

    def doit(self, *args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run doit in the copy; output captured as text."""
        full_env = {**os.environ, **(env or {})}
        return subprocess.run([sys.executable, "-m", "doit", *args], cwd=self.root, env=full_env,
                              capture_output=True, text=True, timeout=timeout)

    def path(self, rel: str) -> Path:
        return self.root / rel

    def read_yaml(self, rel: str):
        return yaml.safe_load(self.path(rel).read_text())

    def read_yaml_all(self, rel: str) -> list:
        return [d for d in yaml.safe_load_all(self.path(rel).read_text()) if d is not None]

    def write_yaml(self, rel: str, data) -> None:
        self.path(rel).write_text(yaml.safe_dump(data, sort_keys=False))

    def snapshot(self, folder: str = "build") -> dict[str, tuple[str, int]]:
        """sha256 and mtime_ns of every file under folder."""
        base = self.path(folder)
        return {str(p.relative_to(base)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
                for p in sorted(base.rglob("*")) if p.is_file()}


def executed_tasks(output: str) -> list[str]:
    """Names of the tasks that ran (the reporter's `ran  <task>  <seconds> s  <reason>` lines), in order."""
    return [line.split()[1] for line in output.splitlines() if line.startswith("ran  ")]


def skipped_tasks(output: str) -> list[str]:
    """Names of the tasks found up to date (`up to date  <task> ...` lines: printed with BOOTSTRAP_VERBOSE=1)."""
    return [line.split()[3] for line in output.splitlines() if line.startswith("up to date  ")]
