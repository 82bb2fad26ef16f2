"""Where things live: the repository layout and the whole build/ layout, in one place.

Everything the tool writes is under build/ (git-ignored); stage inputs and records name these
constants, never string literals."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_ROOT_PREFIX = str(ROOT) + os.sep

# ----------------------------------------------------------------- the repository (user-edited)
BOOTSTRAP = ROOT / "bootstrap"
VALUES = BOOTSTRAP / "values"
CHARTS_FILE = BOOTSTRAP / "charts.yaml"
RESOURCES_FILE = BOOTSTRAP / "resources.yaml"
HELMFILE_DIR = BOOTSTRAP / "helmfile.d"
CRDS_HELMFILE = HELMFILE_DIR / "00-crds.yaml"           # plain YAML including build/helmfile/00-crds.yaml
APPS_HELMFILE = HELMFILE_DIR / "01-apps.yaml"           # plain YAML including build/helmfile/01-apps.yaml
TEMPLATES = ROOT / "templates"
SETTINGS_SCHEMAS = Path(__file__).resolve().parent / "settings" / "schemas"

# The settings files under bootstrap/values/, each validated by tasks/settings/schemas/<name>.schema.yaml.
SETTINGS = ("common", "talos", "cilium", "kube-vip", "cert-manager", "external-secrets",
            "onepassword-store", "flux-operator", "flux-instance", "spegel")

# ----------------------------------------------------------------- build/ (tool-written)
BUILD = ROOT / "build"
# Rendered artifacts live in these folders only (stale files there are removed by `check`).
RENDERED_DIRS = ("talos", "values", "manifests", "flux", "helmfile")
TALOSCONFIG = BUILD / "talos" / "talosconfig.yaml"     # op:// references only
RENDERED_CRDS_HELMFILE = BUILD / "helmfile" / "00-crds.yaml"
RENDERED_APPS_HELMFILE = BUILD / "helmfile" / "01-apps.yaml"
KUBECONFIG = BUILD / "kubeconfig"                       # the admin kubeconfig: holds a client key (0600)
IDENTITY = BUILD / "cluster-identity"                   # kube-system uid of the cluster this tool built
STATE = BUILD / "state"                                 # per-stage digests of the inputs it succeeded with
LOCK = BUILD / ".bootstrap.lock"                        # one run at a time
EVENTS = BUILD / "events.jsonl"                         # the structured event log
CRDS = BUILD / "crds.yaml"                              # the CRDs seeded in step 3
SEEDED_CRDS = BUILD / "seeded-crds.json"                # their names, for a cheap done check
API_KINDS = BUILD / "api-kinds.json"                    # kinds the one kubectl get asked for last time (a hint)
RELEASE_FACTS = BUILD / "release-facts.json"            # each Helm release Secret's reading, by its sha256 (no values)
PLAN = BUILD / "plan.json"                              # the last `doit plan`: each stage's decision and reasons
GRAPH = BUILD / "graph"                                 # `doit graph`: stages.dot (and stages.svg with Graphviz)
RENDERED_RECORD = BUILD / "rendered.json"               # sha256 of every artifact `doit render` wrote
SCHEMA_CACHE = ROOT / ".cache" / "schemas"              # fetched upstream schemas (default)


def settings_file(name: str) -> Path:
    """The settings file bootstrap/values/<name>.yaml."""
    return VALUES / f"{name}.yaml"


def node_config(node: str) -> Path:
    """The rendered Talos machine config of one node."""
    return BUILD / "talos" / f"{node}.yaml"


def release_values(release: str) -> Path:
    """The rendered Helm values of one release."""
    return BUILD / "values" / f"{release}.yaml"


def stage_record(stage: str) -> Path:
    """The input digests a stage last succeeded with."""
    return STATE / f"{stage}.json"


def unsafe_build() -> str | None:
    """Why build/ may not be written, if it may not: it, or a folder the tool writes in it, is a
    symbolic link (writes and deletions would land outside the checkout)."""
    for folder in (BUILD, STATE, *(BUILD / d for d in RENDERED_DIRS)):
        if folder.is_symlink():
            return (f"{rel(folder)} is a symbolic link (to {os.readlink(folder)}): the tool writes only into a "
                    f"real folder inside the checkout; replace the link with a folder")
    return None


def inside_build(path: Path | str) -> bool:
    """Whether a path names a place inside build/ (no `..` escapes it)."""
    return os.path.normpath(str(path)).startswith(str(BUILD) + os.sep)


def rel(path: Path | str) -> str:
    """A path as the user sees it: relative to the repository root when inside it. doit runs
    in the root, so these also keep its state valid when the checkout moves. Cheap for paths
    built from ROOT (no filesystem call): task creation calls it for every dependency."""
    text = str(path)
    if text.startswith(_ROOT_PREFIX):
        return text[len(_ROOT_PREFIX):]
    if not os.path.isabs(text):
        return text
    try:
        return str(Path(text).resolve().relative_to(ROOT))
    except ValueError:
        return text
