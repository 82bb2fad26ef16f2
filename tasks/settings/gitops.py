"""Kubernetes objects with the file they came from (SourcedObject), the GitOps ("home-ops") tree's folder
and files named in common.yaml, and reading the objects of given YAML files (bootstrap/resources.yaml).
What Flux reconciles from the tree is fluxtree's; read-only."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .. import paths
from ..problems import Problem
from ..yamlio import load_all


@dataclass(frozen=True)
class SourcedObject:
    """A Kubernetes object and the file it was read from."""

    file: str
    index: int
    obj: dict
    via: str = ""                       # the kustomization.yaml that built it, if kustomize did
    unresolved: tuple = ()              # (variable, where it should come from) left by post-build substitution

    @property
    def kind(self) -> str:
        return self.obj.get("kind", "")

    @property
    def name(self) -> str:
        return mapping(self.obj.get("metadata")).get("name", "")

    @property
    def namespace(self) -> str:
        return mapping(self.obj.get("metadata")).get("namespace", "")


def mapping(value: object) -> dict:
    """value if it is a mapping, else {}: objects read from Git or resources.yaml may be shaped
    wrongly (a string where a mapping belongs), and the checks must read them without crashing."""
    return value if isinstance(value, dict) else {}


def tree_root(gitops_path: str) -> Path:
    """The GitOps tree's folder (relative paths are relative to the repository root)."""
    root = Path(gitops_path)
    return root if root.is_absolute() else paths.ROOT / root


def tree_files(gitops_path: str) -> list[Path]:
    """Every file of the tree (outside .git), sorted: what the check depends on. kustomize reads more
    than YAML (a configMapGenerator's .json or .env, a kustomization named `Kustomization`)."""
    root = tree_root(gitops_path)
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and ".git" not in p.relative_to(root).parts)


def read_objects(files: list[Path]) -> tuple[list[SourcedObject], list[Problem]]:
    """Every mapping document with a kind in the given files; unparsable files become Problems."""
    objects, problems = [], []
    for file in files:
        shown = paths.rel(file)
        try:
            docs = load_all(file.read_text(encoding="utf-8"))
        except (yaml.YAMLError, OSError, UnicodeDecodeError) as err:
            mark = getattr(err, "problem_mark", None)
            problems.append(Problem(shown, "", "valid YAML", f"an error: {getattr(err, 'problem', err)}",
                                    mark.line + 1 if mark else None))
            continue
        objects += [SourcedObject(shown, i, d) for i, d in enumerate(docs) if isinstance(d, dict) and "kind" in d]
    return objects, problems
