"""Label and field selectors, parsed and matched like k8s apimachinery ``pkg/labels`` and ``pkg/fields``.

Label selector syntax: comma-separated requirements ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``,
``k notin (a,b)``, ``k``, ``!k``, ``k>N``, ``k<N``. Field selectors: ``path=v``, ``path==v``, ``path!=v``
over the field labels a resource supports; an unsupported label is rejected like the real server does
(``field label not supported: <label>``, k8s.io/apiserver pkg/registry/generic/registry/store.go).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import bad_request

_KEY = r"[A-Za-z0-9](?:[-A-Za-z0-9_./]*[A-Za-z0-9])?"
_SET_RE = re.compile(rf"^\s*(!?)\s*({_KEY})\s+(in|notin)\s*\((.*)\)\s*$")
_OP_RE = re.compile(rf"^\s*({_KEY})\s*(==|=|!=|>|<)\s*(.*?)\s*$")
_EXISTS_RE = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")


@dataclass(frozen=True)
class Requirement:
    """One label requirement: key, operator and values."""

    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!", "gt", "lt"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict) -> bool:
        """True when labels satisfy the requirement."""
        has = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return has
        if self.op == "!":
            return not has
        if self.op in ("=", "in"):
            return has and value in self.values
        if self.op in ("!=", "notin"):
            return not has or value not in self.values
        if self.op in ("gt", "lt"):
            try:
                lhs, rhs = int(value), int(self.values[0])
            except (TypeError, ValueError):
                return False
            return lhs > rhs if self.op == "gt" else lhs < rhs
        return False


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p for p in parts if p.strip()]


def _parse_requirement(text: str) -> Requirement:
    """Parse one label requirement or raise a 400 like the real server."""
    m = _SET_RE.match(text)
    if m:
        if m.group(1):
            raise bad_request(f"unable to parse requirement: found '{text.strip()}'")
        values = tuple(v.strip() for v in m.group(4).split(",") if v.strip())
        return Requirement(m.group(2), m.group(3), values)
    m = _OP_RE.match(text)
    if m:
        op = {"==": "=", "=": "=", "!=": "!=", ">": "gt", "<": "lt"}[m.group(2)]
        return Requirement(m.group(1), op, (m.group(3),))
    m = _EXISTS_RE.match(text)
    if m:
        return Requirement(m.group(2), "!" if m.group(1) else "exists")
    raise bad_request(f"unable to parse requirement: <nil>: Invalid value: \"{text.strip()}\": "
                      f"invalid label selector")


def parse_labels(selector: str | None) -> list[Requirement]:
    """Parse a label selector string into requirements (empty selector matches everything)."""
    return [_parse_requirement(p) for p in _split_top(selector or "")]


def match_labels(reqs: list[Requirement], obj: dict) -> bool:
    """True when the object's labels satisfy all requirements."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(r.matches(labels) for r in reqs)


@dataclass(frozen=True)
class FieldTerm:
    """One field selector term."""

    path: str
    equal: bool
    value: str


def parse_fields(selector: str | None, allowed: tuple[str, ...]) -> list[FieldTerm]:
    """Parse a field selector, rejecting labels the resource does not support."""
    terms = []
    for part in _split_top(selector or ""):
        m = re.match(r"^\s*([^!=\s]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise bad_request(f"invalid selector: '{selector}'; can't understand '{part}'")
        path, op, value = m.groups()
        if path not in allowed:
            raise bad_request(f"field label not supported: {path}")
        terms.append(FieldTerm(path, op != "!=", value))
    return terms


def field_value(obj: dict, path: str) -> str:
    """The string value of a dotted field path ('' when absent), as field sets render it."""
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def match_fields(terms: list[FieldTerm], obj: dict) -> bool:
    """True when the object satisfies all field terms."""
    return all((field_value(obj, t.path) == t.value) == t.equal for t in terms)
