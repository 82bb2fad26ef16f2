"""A small model of server-side apply and ``metadata.managedFields``.

Simplifications (enough for kubectl and helm, stated so nobody relies on more): every list is atomic
(owned and replaced as a whole, where the real server merges keyed lists element-wise); ownership is
tracked per manager and operation in the real ``FieldsV1`` shape (``{"f:data": {"f:key": {}}}``);
an Apply conflicts with another manager's field only when the values differ, and ``force`` moves the
field to the applier; fields an applier stops applying are removed unless another manager owns them.
Conflict texts follow k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go.
"""
from __future__ import annotations

import copy

from .errors import apply_conflict

SKIP_TOP = {"apiVersion", "kind"}
SKIP_META = {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
             "deletionTimestamp", "selfLink", "deletionGracePeriodSeconds", "generateName"}
_MISSING = object()


def _skip(path: tuple) -> bool:
    """True for identity and system fields that no manager owns."""
    return (len(path) == 1 and path[0] in SKIP_TOP) or (len(path) == 2 and path[0] == "metadata"
                                                         and path[1] in SKIP_META)


def field_paths(obj) -> set[tuple]:
    """Leaf paths of an object (maps recursed, lists and scalars are leaves)."""
    out: set[tuple] = set()

    def walk(node, prefix):
        """Collect leaves under prefix."""
        if isinstance(node, dict) and node:
            for key, value in node.items():
                if not _skip(prefix + (key,)):
                    walk(value, prefix + (key,))
        elif node is not None and prefix:
            out.add(prefix)

    walk(obj, ())
    return out


def to_fields_v1(paths: set[tuple]) -> dict:
    """Encode paths as a FieldsV1 tree."""
    root: dict = {}
    for path in sorted(paths):
        node = root
        for key in path:
            node = node.setdefault(f"f:{key}", {})
    return root


def from_fields_v1(tree: dict) -> set[tuple]:
    """Decode a FieldsV1 tree into paths (a node without f: children is a leaf)."""
    out: set[tuple] = set()

    def walk(node, prefix):
        """Collect leaves of the FieldsV1 tree under prefix."""
        children = {k[2:]: v for k, v in (node or {}).items() if k.startswith("f:")}
        if not children and prefix:
            out.add(prefix)
        for key, sub in children.items():
            walk(sub, prefix + (key,))

    walk(tree, ())
    return out


def get_at(obj, path: tuple):
    """Value at a path, or _MISSING."""
    cur = obj
    for key in path:
        if not isinstance(cur, dict) or key not in cur:
            return _MISSING
        cur = cur[key]
    return cur


def delete_at(obj: dict, path: tuple) -> None:
    """Delete the value at a path and prune maps it leaves empty."""
    parents = []
    cur = obj
    for key in path[:-1]:
        if not isinstance(cur, dict) or key not in cur:
            return
        parents.append((cur, key))
        cur = cur[key]
    if isinstance(cur, dict):
        cur.pop(path[-1], None)
    for parent, key in reversed(parents):
        if parent[key] == {}:
            del parent[key]
        else:
            break


def deep_merge(base, overlay):
    """Merge overlay into a copy of base: maps recursively, everything else replaced."""
    if not (isinstance(base, dict) and isinstance(overlay, dict)):
        return copy.deepcopy(overlay)
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        if value is None:
            continue
        out[key] = deep_merge(out.get(key), value)
    return out


def _overlaps(a: tuple, b: tuple) -> bool:
    """True when one path is a prefix of (or equal to) the other."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def _clashes(live: dict, applied: dict, p: tuple, q: tuple) -> bool:
    """Whether applying leaf p conflicts with another manager's leaf q (empty maps merge, never clash)."""
    if not _overlaps(p, q) or get_at(live, p) == get_at(applied, p):
        return False
    return get_at(applied, p) != {} and get_at(live, q) != {}


def path_string(path: tuple) -> str:
    """fieldpath.Path.String() for map fields: '.data.key'."""
    return "".join(f".{k}" for k in path)


def describe_manager(entry: dict) -> str:
    """printManager: '"kubectl"' for Apply, '"helm" using v1 at <time>' for Update."""
    text = f'"{entry.get("manager", "")}"'
    if entry.get("subresource"):
        text += f' with subresource "{entry["subresource"]}"'
    if entry.get("operation") == "Update":
        text += f" using {entry.get('apiVersion', '')}"
        if entry.get("time"):
            text += f" at {entry['time']}"
    return text


def _entries(obj: dict | None) -> list[dict]:
    """managedFields of an object (copied)."""
    return copy.deepcopy(((obj or {}).get("metadata") or {}).get("managedFields") or [])


def _entry(manager, operation, api_version, now, paths, subresource) -> dict:
    """One managedFields entry."""
    e = {"manager": manager, "operation": operation, "apiVersion": api_version, "time": now,
         "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(paths)}
    if subresource:
        e["subresource"] = subresource
    return e


def _same(entry: dict, manager: str, operation: str, subresource: str) -> bool:
    """True when an entry belongs to this manager/operation/subresource."""
    return (entry.get("manager") == manager and entry.get("operation") == operation
            and entry.get("subresource", "") == (subresource or ""))


def apply(live: dict | None, applied: dict, manager: str, api_version: str, force: bool, now: str,
          subresource: str = "") -> dict:
    """Server-side apply of an applied configuration onto the live object; returns the new object."""
    entries = _entries(live)
    new_paths = field_paths(applied)
    mine = [e for e in entries if _same(e, manager, "Apply", subresource)]
    others = [e for e in entries if not _same(e, manager, "Apply", subresource)]
    prev = set().union(*(from_fields_v1(e.get("fieldsV1") or {}) for e in mine)) if mine else set()
    base = copy.deepcopy(live) if live else {}
    other_sets = [(e, from_fields_v1(e.get("fieldsV1") or {})) for e in others]
    conflicts = []
    for entry, owned in other_sets:
        for p in sorted(new_paths):
            if any(_clashes(base, applied, p, q) for q in owned):
                conflicts.append((describe_manager(entry), path_string(p), entry, p))
    if conflicts and not force:
        raise apply_conflict([(m, f) for m, f, _, _ in conflicts])
    for entry, owned in other_sets:
        lost = {q for q in owned for _, _, e, p in conflicts if e is entry and _overlaps(p, q)}
        if lost:
            owned -= lost
            entry["fieldsV1"] = to_fields_v1(owned)
    still_owned = set().union(*(o for _, o in other_sets)) if other_sets else set()
    for p in prev - new_paths:
        if not any(_overlaps(p, q) for q in still_owned):
            delete_at(base, p)
    result = deep_merge(base, applied)
    kept = [e for e, owned in other_sets if owned]
    result.setdefault("metadata", {})["managedFields"] = kept + [
        _entry(manager, "Apply", api_version, now, new_paths, subresource)]
    return result


def record_update(old: dict | None, new: dict, manager: str, api_version: str, now: str,
                  subresource: str = "") -> None:
    """Record an Update operation's ownership in new.metadata.managedFields (in place)."""
    entries = _entries(old)
    new_paths = field_paths(new)
    changed = {p for p in new_paths if old is None or get_at(old, p) != get_at(new, p)}
    gone = field_paths(old) - new_paths if old else set()
    out, mine = [], set()
    for e in entries:
        owned = from_fields_v1(e.get("fieldsV1") or {})
        if _same(e, manager, "Update", subresource):
            mine = owned
            continue
        owned = {q for q in owned if not any(_overlaps(q, p) for p in changed | gone)}
        if owned:
            e["fieldsV1"] = to_fields_v1(owned)
            out.append(e)
    mine = (mine | changed) - gone
    mine = {p for p in mine if get_at(new, p) is not _MISSING}
    if mine:
        out.append(_entry(manager, "Update", api_version, now, mine, subresource))
    new.setdefault("metadata", {})["managedFields"] = out
