"""Build one folder of the GitOps tree the way Flux's kustomize-controller does (fluxcd/pkg
kustomize/kustomize_generator.go, Generator.generateKustomization): a folder with a kustomization file
is built by kustomize (here the real one, `kubectl kustomize --load-restrictor LoadRestrictionsNone`,
the restrictor kustomize-controller's BuildKustomization sets); a folder without one gets a generated
kustomization listing every .yaml/.yml file below it, recursively, except that a sub-folder holding a
kustomization file is built by kustomize and not descended into.

A file the generator would list but that is not YAML is a warning naming it (kustomize-controller
would fail the whole Kustomization; the drift check reads on), unless the file holds a bootstrap
chart's objects: then the check cannot say what Flux deploys, and it is a problem."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import yaml

from .. import paths
from ..problems import Problem
from ..tools import gateway
from ..yamlio import load_all_tolerant
from .gitops import SourcedObject, mapping

# konfig.RecognizedKustomizationFileNames() in sigs.k8s.io/kustomize/api/konfig/general.go.
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
CHART_KINDS = ("HelmRelease", "OCIRepository", "HelmRepository", "HelmChart")
CHART_KIND_TEXT = re.compile(r"^\s*kind:\s*[\"']?(" + "|".join(CHART_KINDS) + r")\b", re.M)
REMOTE = re.compile(r"^(https?://|git@|ssh://|git::|github\.com/|gitlab\.com/|bitbucket\.org/)|\?ref=")
OFFLINE = "a folder kubectl kustomize builds offline"
KUSTOMIZE_SECONDS = 60
PARALLEL = 8       # kubectl kustomize processes at once (each mostly waits: ~0.05 s of CPU)
INSTALL_KUBECTL = ("install kubectl (https://kubernetes.io/docs/tasks/tools/) or set KUBECTL=/path/to/kubectl; "
                   "folders without a kustomization file need no kubectl")


@dataclass
class Build:
    """What one folder builds to, and what got in the way."""

    objects: list[SourcedObject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def add(self, other: "Build") -> None:
        self.objects += other.objects
        self.warnings += other.warnings
        self.problems += other.problems


def kustomization_file(folder: Path) -> Path | None:
    """The folder's kustomization file, if it has one."""
    return next((folder / n for n in KUSTOMIZATION_FILES if (folder / n).is_file()), None)


def holds_chart(text: str, charts: tuple[str, ...]) -> bool:
    """Whether a file's text declares a chart-bearing kind and names one of the bootstrap charts."""
    return bool(CHART_KIND_TEXT.search(text)) and any(re.search(rf"\b{re.escape(c)}\b", text) for c in charts)


def unreadable(shown: str, why: str, text: str, charts: tuple[str, ...], line: int | None = None,
               wanted: str = "YAML that kustomize can read") -> Build:
    """A file the check cannot read: a problem if it holds a bootstrap chart's objects, else a warning."""
    if holds_chart(text, charts):
        return Build(problems=[Problem(shown, "", f"{wanted} (it holds a bootstrap chart's objects, so its "
                                       "versions must be known)", why, line)])
    return Build(warnings=[f"{shown}: not read ({why}); it names no bootstrap chart, so the drift check "
                           "goes on without it"])


@lru_cache(maxsize=None)
def read_file(path: Path, charts: tuple[str, ...]) -> Build:
    """The Kubernetes objects of one file the generated kustomization lists (read once per run: a
    parent's generated kustomization and a child Kustomization often list the same file)."""
    shown = paths.rel(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        return unreadable(shown, f"an error: {err}", "", charts)
    try:
        docs = load_all_tolerant(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        return unreadable(shown, f"a YAML error{where}: {getattr(err, 'problem', None) or err}", text, charts,
                          mark.line + 1 if mark else None)
    return Build([SourcedObject(shown, i, d) for i, d in enumerate(docs) if isinstance(d, dict) and "kind" in d])


def generated(folder: Path, charts: tuple[str, ...]) -> Build:
    """Flux's generated kustomization of a folder without a kustomization file."""
    listing: list[tuple[str, Path]] = []
    for current, dirs, files in os.walk(folder):
        dirs.sort()
        here = Path(current)
        for name in list(dirs):
            if kustomization_file(here / name):
                dirs.remove(name)
                listing.append(("kustomize", here / name))
        listing += [("file", here / name) for name in sorted(files) if name.endswith((".yaml", ".yml"))]
    prefetch([path for how, path in listing if how == "kustomize"], charts)
    build = Build()
    for how, path in listing:
        build.add(kustomize(path, charts) if how == "kustomize" else read_file(path, charts))
    return build


def prefetch(folders: list[Path], charts: tuple[str, ...]) -> None:
    """Build the kustomize folders among these side by side (each `kubectl kustomize` is a process of
    its own); the results wait in kustomize's cache, in whatever order they are asked for."""
    todo = [f for f in dict.fromkeys(folders) if kustomization_file(f)]
    if len(todo) > 1:
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(todo))) as pool:
            list(pool.map(lambda f: kustomize(f, charts), todo))


def build_folder(folder: Path, charts: tuple[str, ...]) -> Build:
    """One folder, built as kustomize-controller builds a Kustomization's spec.path."""
    return kustomize(folder, charts) if kustomization_file(folder) else generated(folder, charts)


@lru_cache(maxsize=None)
def kustomize(folder: Path, charts: tuple[str, ...]) -> Build:
    """A folder with a kustomization file, built by the real kustomize in kubectl (once per run)."""
    kfile = paths.rel(kustomization_file(folder))
    remote = remote_resources(folder)
    if remote:
        return unreadable(kfile, f"remote resources ({', '.join(remote[:3])}), which the offline check does not "
                          "fetch", "\n".join(_texts(folder)), charts, wanted=OFFLINE)
    result = gateway.run("kubectl", ["kustomize", "--load-restrictor", "LoadRestrictionsNone", str(folder)],
                         timeout=KUSTOMIZE_SECONDS, logged=False)
    if result.returncode == 127:
        return Build(problems=[Problem(kfile, "", "kubectl, to build this folder with kustomize as Flux does",
                                       "no kubectl on PATH and no KUBECTL set", hint=INSTALL_KUBECTL)])
    if not result.ok:
        return unreadable(kfile, f"kubectl kustomize failed: {result.message().splitlines()[-1]}",
                          "\n".join(_texts(folder)), charts, wanted=OFFLINE)
    try:
        docs = load_all_tolerant(result.stdout)
    except yaml.YAMLError as err:
        return unreadable(kfile, f"kubectl kustomize printed YAML that does not parse: {err}", "", charts)
    origins = _origins(folder)
    return Build([SourcedObject(origins.get(_identity(d), kfile), i, d, via=kfile)
                  for i, d in enumerate(docs) if isinstance(d, dict) and "kind" in d])


def _texts(folder: Path) -> list[str]:
    return [p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.rglob("*.y*ml"))]


def remote_resources(folder: Path, seen: set | None = None) -> list[str]:
    """The remote bases (URLs, git repositories) a kustomization names, directly or through the local
    folders it names: kubectl would fetch them, and the check stays offline."""
    seen = set() if seen is None else seen
    kfile = kustomization_file(folder)
    if kfile is None or folder in seen:
        return []
    seen.add(folder)
    try:
        docs = load_all_tolerant(kfile.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return []       # kubectl kustomize says what is wrong with it
    doc = docs[0] if docs and isinstance(docs[0], dict) else {}
    found = []
    for entry in [*(doc.get("resources") or []), *(doc.get("components") or []), *(doc.get("bases") or [])]:
        entry = str(entry)
        if REMOTE.search(entry):
            found.append(entry)
        elif (folder / entry).is_dir():
            found += remote_resources((folder / entry).resolve(), seen)
    return found


def _identity(doc: dict) -> tuple[str, str]:
    return str(doc.get("kind", "")), str(mapping(doc.get("metadata")).get("name", ""))


def _origins(folder: Path) -> dict[tuple[str, str], str]:
    """(kind, name) -> the file below a kustomize folder that declares it, to name it in findings."""
    found: dict[tuple[str, str], str] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix in (".yaml", ".yml") and path.name not in KUSTOMIZATION_FILES and path.is_file():
            try:
                docs = load_all_tolerant(path.read_text(encoding="utf-8"))
            except (yaml.YAMLError, OSError, UnicodeDecodeError):
                continue
            for doc in docs:
                if isinstance(doc, dict):
                    found.setdefault(_identity(doc), paths.rel(path))
    return found
