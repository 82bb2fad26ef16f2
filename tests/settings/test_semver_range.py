"""Masterminds/semver v3 ranges, as Flux reads OCIRepository spec.ref.semver and chart versions."""
from __future__ import annotations

import pytest

from tasks.settings.semver_range import RangeError, satisfies

CASES = [
    ("1.19.4", "1.19.x", True), ("1.20.0", "1.19.x", False),
    ("1.19.4", ">=1.19.0 <1.20.0", True), ("1.20.1", ">=1.19.0, <1.20.0", False),
    ("1.19.4", ">= 1.19.0, < 1.20.0", True),
    ("1.19.4", "~1.19.0", True), ("1.20.0", "~1.19", False),
    ("1.19.4", "^1.18", True), ("2.0.0", "^1.18", False),
    ("0.7.4", "^0.7.0", True), ("0.8.0", "^0.7.0", False), ("0.0.4", "^0.0.3", False),
    ("v1.21.1", "v1.21.x", True), ("1.2.3", "1.0.0 - 1.2.3", True), ("1.2.4", "1.0.0 - 1.2.3", False),
    ("1.0.0", "<1.0.0 || >=2.0.0", False), ("2.1.0", "<1.0.0 || >=2.0.0", True),
    ("1.19.4", "*", True), ("1.19.4", "1.19.4", True), ("1.19.5", "1.19.4", False), ("1.19.4", "!=1.19.4", False),
    ("1.3.0", ">1.2", True), ("1.2.9", ">1.2", False), ("1.2.0", "<=1.2", True), ("1.3.0", "<=1.2", False),
    # A pre-release is only in a range that names a pre-release of the same version.
    ("1.20.0-rc.1", ">=1.19.0", False), ("1.20.0-rc.1", ">=1.20.0-rc.0", True),
]


@pytest.mark.parametrize("version, constraint, inside", CASES)
def test_version_in_range(version, constraint, inside):
    assert satisfies(version, constraint) is inside


@pytest.mark.parametrize("constraint", [">>1.0", "1.2.3.4", "latest", "1.0 ||"])
def test_what_is_not_a_range_is_said(constraint):
    with pytest.raises(RangeError):
        satisfies("1.0.0", constraint)
