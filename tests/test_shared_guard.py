"""Tests cannot quietly weaken: without ../shared the run says what it ran without, and in CI it
refuses to run at all."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

from tests.project import REPO_ROOT


def _pytest_in_a_copy_without_shared(tmp_path, ci: bool) -> subprocess.CompletedProcess:
    """Run one small test module in a copy of the repository that has no ../shared beside it."""
    copy = tmp_path / "lonely" / "repo"
    shutil.copytree(REPO_ROOT, copy, ignore=shutil.ignore_patterns(".git", "build", ".cache", ".doit.db*",
                                                                  "__pycache__", ".pytest_cache", "*.egg-info"))
    (copy / ".cache").symlink_to(REPO_ROOT / ".cache")      # the pinned binaries, fetched by this session
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    if ci:
        env["CI"] = "true"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_problems.py"],
                          cwd=copy, env=env, capture_output=True, text=True, timeout=120)


def test_without_shared_the_summary_says_what_was_not_exercised(tmp_path):
    result = _pytest_in_a_copy_without_shared(tmp_path, ci=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ran without ../shared/schemas: the upstream-schema checks ran as warnings only" in result.stdout
    assert "ran without ../shared/charts: releases were installed from stand-in charts" in result.stdout


def test_in_ci_a_missing_shared_folder_fails_the_session(tmp_path):
    result = _pytest_in_a_copy_without_shared(tmp_path, ci=True)
    assert result.returncode == 4, result.stdout + result.stderr          # pytest's usage-error exit code
    assert "CI runs need ../shared: ../shared/schemas is absent" in result.stdout + result.stderr
