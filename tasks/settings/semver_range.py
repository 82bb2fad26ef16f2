"""Semantic-version ranges the way Flux reads `spec.ref.semver` and `spec.chart.spec.version`: the
Masterminds/semver v3 constraint syntax (`||` between alternatives, `,` or spaces between comparators
that must all hold; `=`, `!=`, `>`, `>=`, `<`, `<=`, `~`, `~>`, `^`, `x`/`*` wildcards, `a - b`
hyphen ranges; a leading `v` is allowed). A pre-release version only satisfies a range that names a
pre-release itself, as in Masterminds v3.

Written here because no Python library reads this syntax: the `semver` package has no ranges, and
node-semver follows npm's grammar (no `,` between comparators)."""
from __future__ import annotations

import re

VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
PART = re.compile(r"^v?([0-9xX*]+)(?:\.([0-9xX*]+))?(?:\.([0-9xX*]+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
COMPARATOR = re.compile(r"^(!=|>=|=>|<=|=<|~>|[=><~^])?\s*(\S+)$")
HYPHEN = re.compile(r"(\S+)\s+-\s+(\S+)")
WILD = ("x", "X", "*")


class RangeError(ValueError):
    """A range that is not Masterminds syntax."""


def parse_version(text: str) -> tuple | None:
    """(major, minor, patch, prerelease) of an exact version, or None."""
    m = VERSION.match(str(text).strip())
    if not m:
        return None
    return int(m[1]), int(m[2] or 0), int(m[3] or 0), m[4] or ""


def _key(v: tuple) -> tuple:
    """Sort key: a pre-release sorts before its release; identifiers compare numerically when numeric."""
    pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in v[3].split(".")) if v[3] else ((2, 0, ""),)
    return v[0], v[1], v[2], pre


def _cmp(a: tuple, b: tuple) -> int:
    return (_key(a) > _key(b)) - (_key(a) < _key(b))


def _bounds(op: str, text: str) -> list[tuple[str, tuple]]:
    """One comparator as primitive (op, version) tests, all of which must hold."""
    m = PART.match(text)
    if not m:
        raise RangeError(f"{text!r} is not a version")
    parts = [m[1], m[2], m[3]]
    given = next((i for i, p in enumerate(parts) if p is None or p in WILD), 3)
    nums = [int(p) if i < given else 0 for i, p in enumerate(parts)]
    low = (*nums, m[4] or "")
    if given == 0:
        return [] if op in ("", "=", ">=", "<=", "~", "~>", "^") else [("<", (0, 0, 0, ""))]
    up = _next(nums, given - 1)
    if op in ("", "=") and given < 3:
        return [(">=", low), ("<", up)]
    if op in ("~", "~>"):
        return [(">=", low), ("<", _next(nums, min(given - 1, 1)))]
    if op == "^":
        first = next((i for i, n in enumerate(nums[:given]) if n), given - 1)
        return [(">=", low), ("<", _next(nums, min(first, 2)))]
    if given < 3 and op == ">":
        return [(">=", up)]
    if given < 3 and op == "<=":
        return [("<", up)]
    if given < 3 and op == "!=":
        return [("!=range", (low, up))]
    return [({"": "=", "=>": ">=", "=<": "<="}.get(op, op), low)]


def _next(nums: list[int], index: int) -> tuple:
    """The first version past nums at one position: (1, 2, 3) at 1 -> 1.3.0-0 (below every 1.3 pre-release)."""
    bumped = [*nums[:index], nums[index] + 1] + [0] * (2 - index)
    return (*bumped, "0")


def _holds(v: tuple, op: str, c) -> bool:
    if op == "!=range":
        return not (_cmp(v, c[0]) >= 0 and _cmp(v, c[1]) < 0)
    d = _cmp(v, c)
    return {"=": d == 0, "!=": d != 0, ">": d > 0, ">=": d >= 0, "<": d < 0, "<=": d <= 0}[op]


def parse_range(text: str) -> list[list[tuple[str, tuple]]]:
    """Alternatives, each a list of primitive tests; RangeError when the text is not a range."""
    alternatives = []
    for alternative in str(text).split("||"):
        alternative = HYPHEN.sub(r">=\1,<=\2", alternative.strip())
        words = re.sub(r"(!=|>=|=>|<=|=<|~>|[=><~^])\s+", r"\1", alternative).replace(",", " ").split()
        if not words:
            raise RangeError(f"{text!r} has an empty alternative")
        tests = []
        for word in words:
            m = COMPARATOR.match(word)
            if not m:
                raise RangeError(f"{word!r} is not a comparator")
            tests += _bounds(m[1] or "", m[2])
        alternatives.append(tests)
    return alternatives


def satisfies(version: str, range_text: str) -> bool:
    """Whether an exact version is in a range (RangeError for a range that is not Masterminds syntax)."""
    v = parse_version(version)
    ranges = parse_range(range_text)
    if v is None:
        return False
    for tests in ranges:
        prerelease_ok = not v[3] or any(c[3] and c[:3] == v[:3] for _, c in tests if isinstance(c[0], int))
        if prerelease_ok and all(_holds(v, op, c) for op, c in tests):
            return True
    return False
