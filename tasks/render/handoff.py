"""The hand-off preview: for each bootstrap release the GitOps tree manages, the chart values where the
bootstrap's rendered values and the tree's HelmRelease differ, which is what Flux's helm-controller
will change when it first upgrades the release with the tree's values. Offline: settings, rendered
values and the tree's objects only."""
from __future__ import annotations

from dataclasses import dataclass

import yaml

from ..problems import child_path
from ..settings.gitops import SourcedObject, mapping
from ..settings.model import Cluster, Release
from .templates import deep_merge

MAX_SHOWN = 80


@dataclass(frozen=True)
class Handoff:
    """One release the tree manages, and how Flux's values differ from the bootstrap's."""

    release: str
    file: str                          # the tree file holding the HelmRelease
    changes: tuple[str, ...]           # "path: bootstrap -> tree" lines, sorted by path


def tree_values(helmrelease: SourcedObject, objects: list[SourcedObject]) -> dict:
    """The values Flux installs: spec.valuesFrom (ConfigMaps/Secrets in the tree, in order), then spec.values."""
    spec, merged = mapping(helmrelease.obj.get("spec")), {}
    for ref in spec.get("valuesFrom") or []:
        ref = mapping(ref)
        source = next((o for o in objects if o.kind == ref.get("kind") and o.name == ref.get("name")
                       and o.namespace == helmrelease.namespace), None)
        data = mapping(source.obj.get("data") or source.obj.get("stringData")) if source else {}
        text = data.get(ref.get("valuesKey") or "values.yaml")
        if isinstance(text, str):
            try:
                merged = deep_merge(merged, mapping(yaml.safe_load(text)))
            except yaml.YAMLError:
                continue
    return deep_merge(merged, mapping(spec.get("values")))


def flatten(values: object, prefix: str = "") -> dict[str, object]:
    """Key path -> leaf value (lists are leaves: Helm replaces them whole)."""
    if not isinstance(values, dict) or not values:
        return {prefix: values} if prefix else {}
    out = {}
    for key, value in values.items():
        out.update(flatten(value, child_path(prefix, str(key))))
    return out


def differences(bootstrap: dict, tree: dict) -> tuple[str, ...]:
    """What changes from the bootstrap's values to the tree's, one line per key path."""
    before, after = flatten(bootstrap), flatten(tree)
    lines = []
    for path in sorted(set(before) | set(after)):
        if path not in after:
            lines.append(f"{path}: {_show(before[path])} -> chart default")
        elif path not in before:
            lines.append(f"{path}: chart default -> {_show(after[path])}")
        elif before[path] != after[path]:
            lines.append(f"{path}: {_show(before[path])} -> {_show(after[path])}")
    return tuple(lines)


def _show(value: object) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip().removesuffix("...").strip()
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 1] + "…"


def _helmrelease(release: Release, objects: list[SourcedObject]) -> SourcedObject | None:
    """The tree's HelmRelease of a bootstrap release: same name and namespace."""
    return next((o for o in objects if o.kind == "HelmRelease" and o.name == release.name
                 and o.namespace == release.namespace), None)


def handoffs(cluster: Cluster, rendered: dict[str, str], objects: list[SourcedObject]) -> list[Handoff]:
    """For each bootstrap release the tree manages, what Flux will change."""
    out = []
    for release in cluster.releases:
        helmrelease = _helmrelease(release, objects)
        text = rendered.get(f"values/{release.name}.yaml")
        if helmrelease is None or text is None:
            continue
        bootstrap = mapping(yaml.safe_load(text))
        out.append(Handoff(release.name, helmrelease.file,
                           differences(bootstrap, tree_values(helmrelease, objects))))
    return out


def summary(found: list[Handoff], where: str) -> list[str]:
    """The preview as lines: a heading, then per release its count of differences and each difference."""
    if not found:
        return []
    lines = [f"hand-off: what Flux changes when it takes over (HelmReleases of {where})"]
    for handoff in found:
        changed = f"{len(handoff.changes)} value(s) differ" if handoff.changes else "same values"
        lines.append(f"  {handoff.release}: {changed} ({handoff.file})")
        lines += [f"      {line}" for line in handoff.changes]
    return lines
