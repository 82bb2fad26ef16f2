"""A Flux Kustomization's own `spec.patches`, which kustomize-controller adds to the folder's kustomization
(fluxcd/pkg kustomize/kustomize_generator.go, Generator.WriteFile) and kustomize applies before the
namespace (PatchTransformer runs before NamespaceTransformer in kustomize's builtin order).

Each patch is a strategic-merge patch (for custom resources such as HelmRelease and OCIRepository that is a
merge: mappings merged, lists replaced, null deletes a key) or a JSON 6902 list of operations (add,
remove, replace), applied to the objects its `target` selects (kind, name and namespace as regular
expressions, group, version, labelSelector and annotationSelector as `key=value` lists); a
strategic-merge patch without a target selects the object of its own kind and name."""
from __future__ import annotations

import copy
import re

import yaml

from ..yamlio import load_all_tolerant
from .gitops import SourcedObject, mapping


class PatchError(ValueError):
    """A patch the check cannot apply (said as a warning)."""


def _matches(pattern: object, value: str) -> bool:
    return pattern in (None, "") or re.fullmatch(str(pattern), value) is not None


def _selected(target: dict, o: SourcedObject) -> bool:
    """Whether a patch target (kustomize's Selector) selects an object."""
    group, _, version = str(o.obj.get("apiVersion", "")).rpartition("/")
    meta = mapping(o.obj.get("metadata"))
    for key, field in (("labelSelector", "labels"), ("annotationSelector", "annotations")):
        wanted = [p.split("=", 1) for p in str(target.get(key) or "").split(",") if "=" in p]
        if any(mapping(meta.get(field)).get(k.strip()) != v.strip() for k, v in wanted):
            return False
    return (_matches(target.get("kind"), o.kind) and _matches(target.get("name"), o.name)
            and _matches(target.get("namespace"), o.namespace) and target.get("group") in (None, "", group)
            and target.get("version") in (None, "", version))


def merge(base: object, patch: object) -> object:
    """A strategic-merge patch on a custom resource: mappings merged, anything else replaced, null deletes."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(base.get(key), value)
    return out


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise PatchError(f"JSON pointer {path!r} does not start with /")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json6902(obj: dict, operations: list) -> dict:
    """add, remove and replace operations on a copy of obj."""
    obj = copy.deepcopy(obj)
    for op in operations:
        op = mapping(op)
        *parents, last = _pointer(str(op.get("path", "")))
        node = obj
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node.get(key) if isinstance(node, dict) else None
            if node is None:
                raise PatchError(f"path {op.get('path')!r} does not exist")
        kind = op.get("op")
        if kind not in ("add", "remove", "replace"):
            raise PatchError(f"operation {kind!r} is not evaluated")
        if isinstance(node, list):
            index = len(node) if last == "-" else int(last)
            node.pop(index) if kind == "remove" else node.insert(index, op.get("value")) if kind == "add" \
                else node.__setitem__(index, op.get("value"))
        elif kind == "remove":
            node.pop(last, None)
        else:
            node[last] = op.get("value")
    return obj


def _one(patch: dict, objects: list[SourcedObject], via: str) -> list[SourcedObject]:
    """The objects with one spec.patches entry applied."""
    docs = load_all_tolerant(str(patch.get("patch") or ""))
    body = docs[0] if len(docs) == 1 else docs
    target = mapping(patch.get("target"))
    if isinstance(body, dict) and not target:
        target = {"kind": body.get("kind"), "name": re.escape(str(mapping(body.get("metadata")).get("name", "")))}
    out = []
    for o in objects:
        if _selected(target, o):
            obj = json6902(o.obj, body) if isinstance(body, list) else merge(o.obj, body)
            o = SourcedObject(o.file, o.index, obj, via, o.unresolved)
        out.append(o)
    return out


def apply(patches: list, objects: list[SourcedObject], where: str, via: str) -> tuple[list[SourcedObject], list[str]]:
    """Every spec.patches entry in order (a patched object says `via` what patched it); one that cannot
    be applied is a warning naming it."""
    warnings = []
    for i, patch in enumerate(patches):
        try:
            objects = _one(mapping(patch), objects, via)
        except (PatchError, yaml.YAMLError, ValueError, IndexError, KeyError, TypeError, re.error) as err:
            warnings.append(f"{where}: spec.patches[{i}] not applied ({err}); the check reads the objects unpatched")
    return objects, warnings
