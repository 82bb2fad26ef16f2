"""The one way from the settings files to a `Cluster`: each file is parsed once per run (with the
line of every key kept for messages); schema validation and the typed Cluster are built from those
same documents. Task creation, the `check` task and the apply stages all ask here."""
from __future__ import annotations

from functools import lru_cache

from .. import paths
from ..problems import Problem
from ..yamlio import Document, load_document
from .model import Cluster, build_cluster
from .schema import schema_problems, with_defaults

NAMES = (*paths.SETTINGS, "charts")


def source(name: str):
    """The file a settings name is read from (`charts` is bootstrap/charts.yaml)."""
    return paths.CHARTS_FILE if name == "charts" else paths.settings_file(name)


@lru_cache(maxsize=1)
def documents() -> tuple[dict[str, Document], tuple[Problem, ...]]:
    """Every settings file and charts.yaml, parsed; a file that cannot be read or parsed is a Problem."""
    docs, problems = {}, []
    for name in NAMES:
        doc, problem = load_document(source(name), paths.rel(source(name)))
        if problem:
            problems.append(problem)
        else:
            docs[name] = doc
    return docs, tuple(problems)


@lru_cache(maxsize=1)
def problems() -> tuple[Problem, ...]:
    """Load and schema problems of every settings file (jsonschema is only imported here)."""
    docs, found = documents()
    return found + tuple(p for name, doc in docs.items() for p in schema_problems(doc, name))


@lru_cache(maxsize=1)
def cluster() -> Cluster | None:
    """The typed Cluster, defaults filled; None when the files cannot make one (`check` says why).
    Not validated here: task creation must stay cheap, and every stage runs after `check`."""
    docs, found = documents()
    if found:
        return None
    try:
        return build_cluster({name: with_defaults(doc.data, name) for name, doc in docs.items()})
    except Exception:   # any shape problem is reported precisely by `check`
        return None


def forget() -> None:
    """Drop what was loaded (tests that edit settings files in-process)."""
    for cached in (documents, problems, cluster):
        cached.cache_clear()
