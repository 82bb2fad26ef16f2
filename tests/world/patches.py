"""Patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and a pragmatic strategic merge patch.

The strategic merge patch follows k8s.io/apimachinery/pkg/util/strategicpatch/patch.go for what helm and
kubectl send: ``null`` deletes, maps merge, lists with a known merge key (``containers`` by ``name``,
``volumeMounts`` by ``mountPath``, ...) merge element-wise, the directives ``$patch`` (merge/replace/
delete), ``$retainKeys``, ``$deleteFromPrimitiveList/<f>`` and ``$setElementOrder/<f>`` are honoured;
other lists are replaced. The merge-key table replaces the Go struct tags the real server reads.
"""
from __future__ import annotations

import copy

from .errors import ApiError, bad_request

# patchMergeKey of the built-in types, by field name (k8s.io/api core/v1 and apps/v1 struct tags).
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
    "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath", "imagePullSecrets": "name",
    "hostAliases": "ip", "conditions": "type", "ownerReferences": "uid", "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name", "schedulingGates": "name", "secrets": "name",
}
# Primitive lists whose patchStrategy is merge (a union rather than a replacement).
MERGE_PRIMITIVE_LISTS = {"finalizers"}


def merge_patch(target, patch):
    """Apply an RFC 7386 JSON merge patch and return the result (target is not modified)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _pointer(path: str) -> list[str]:
    """Split an RFC 6901 JSON pointer into unescaped tokens."""
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"invalid JSON pointer {path!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _container(doc, tokens: list[str]):
    """Walk to the parent of the pointer's last token."""
    cur = doc
    for tok in tokens[:-1]:
        if isinstance(cur, list):
            cur = cur[int(tok)]
        elif isinstance(cur, dict) and tok in cur:
            cur = cur[tok]
        else:
            raise KeyError(tok)
    return cur


def _get(doc, tokens):
    """Value at a pointer."""
    if not tokens:
        return doc
    parent = _container(doc, tokens)
    return parent[int(tokens[-1])] if isinstance(parent, list) else parent[tokens[-1]]


def _add(doc, tokens, value):
    """RFC 6902 add; returns the (possibly replaced) document."""
    if not tokens:
        return value
    parent, last = _container(doc, tokens), tokens[-1]
    if isinstance(parent, list):
        parent.insert(len(parent) if last == "-" else int(last), value)
    else:
        parent[last] = value
    return doc


def _remove(doc, tokens):
    """RFC 6902 remove; returns the removed value."""
    parent, last = _container(doc, tokens), tokens[-1]
    return parent.pop(int(last)) if isinstance(parent, list) else parent.pop(last)


def json_patch(target, ops):
    """Apply an RFC 6902 JSON patch and return the result (target is not modified)."""
    if not isinstance(ops, list):
        raise bad_request("json patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in ops:
        try:
            doc = _json_patch_op(doc, op)
        except ApiError:
            raise
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: "
                                           f"jsonpatch {op.get('op')} operation does not apply: doc is missing "
                                           f"path: \"{op.get('path')}\": {exc}") from exc
    return doc


def _json_patch_op(doc, op: dict):
    """Apply one JSON patch operation."""
    kind, tokens = op.get("op"), _pointer(op.get("path", ""))
    if kind == "add":
        return _add(doc, tokens, copy.deepcopy(op.get("value")))
    if kind == "remove":
        _remove(doc, tokens)
        return doc
    if kind == "replace":
        _get(doc, tokens)  # must exist
        if not tokens:
            return copy.deepcopy(op.get("value"))
        parent = _container(doc, tokens)
        key = int(tokens[-1]) if isinstance(parent, list) else tokens[-1]
        parent[key] = copy.deepcopy(op.get("value"))
        return doc
    if kind in ("move", "copy"):
        src = _pointer(op.get("from", ""))
        value = _remove(doc, src) if kind == "move" else copy.deepcopy(_get(doc, src))
        return _add(doc, tokens, value)
    if kind == "test":
        if _get(doc, tokens) != op.get("value"):
            raise ApiError(422, "Invalid", f"testing value {op.get('path')} failed")
        return doc
    raise bad_request(f"Unexpected kind: {kind}")


def _merge_key(field: str, patch_list: list, current) -> str | None:
    """The merge key for a list field, or None when the list is replaced."""
    if field == "ports":
        sample = [e for e in [*patch_list, *(current or [])] if isinstance(e, dict)]
        return "containerPort" if any("containerPort" in e for e in sample) else "port"
    return MERGE_KEYS.get(field)


def _strip(value):
    """Remove patch directives from a value being inserted wholesale."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items()
                if not k.startswith("$") and v is not None}
    if isinstance(value, list):
        return [_strip(v) for v in value if not (isinstance(v, dict) and v.get("$patch") == "delete")]
    return value


def _merge_list(field: str, current, patch_list: list) -> list:
    """Merge a patch list into the current list according to the field's strategy."""
    current = current if isinstance(current, list) else []
    if any(isinstance(e, dict) and e.get("$patch") == "replace" for e in patch_list):
        return [_strip(e) for e in patch_list if not (isinstance(e, dict) and "$patch" in e)]
    key = _merge_key(field, patch_list, current)
    if key and all(isinstance(e, dict) for e in patch_list):
        out = copy.deepcopy(current)
        for elem in patch_list:
            idx = next((i for i, c in enumerate(out) if isinstance(c, dict) and c.get(key) == elem.get(key)), None)
            if elem.get("$patch") == "delete":
                if idx is not None:
                    out.pop(idx)
            elif idx is None:
                out.append(_strip(elem))
            else:
                out[idx] = strategic_merge_patch(out[idx], elem)
        return out
    if field in MERGE_PRIMITIVE_LISTS:
        return current + [v for v in patch_list if v not in current]
    return _strip(patch_list)


def _order(values: list, order: list, key: str | None) -> list:
    """Reorder a merged list following a $setElementOrder hint; unknown elements keep their place at the end."""
    ident = (lambda e: e.get(key) if isinstance(e, dict) else e) if key else (lambda e: e)
    wanted = [ident(o) if isinstance(o, dict) else o for o in order]
    ranked = sorted(values, key=lambda e: wanted.index(ident(e)) if ident(e) in wanted else len(wanted))
    return ranked


def strategic_merge_patch(target, patch):
    """Apply a strategic merge patch and return the result (target is not modified)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip(patch)
    if directive == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    if "$retainKeys" in patch:
        keep = set(patch["$retainKeys"] or [])
        result = {k: v for k, v in result.items() if k in keep}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [v for v in result.get(field) or [] if v not in (value or [])]
        elif key.startswith("$"):
            continue
        elif value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = strategic_merge_patch(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _merge_list(key, result.get(key), value)
        else:
            result[key] = value
    for key, order in patch.items():
        if key.startswith("$setElementOrder/") and isinstance(result.get(key.split("/", 1)[1]), list):
            field = key.split("/", 1)[1]
            result[field] = _order(result[field], order or [], _merge_key(field, order or [], result[field]))
    return result
