"""The apply chain as a table. Each stage names its inputs, how the live cluster shows it done
(a fact check), and its action. The decision "run or not" is one function, `decide`, used by the
doit `uptodate` check, by the action itself (so a run after lost doit state still changes
nothing) and by the dry-run plan."""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import actions, artifacts, paths
from .config import Cluster
from .facts import Facts
from .render import write_if_changed

STATE = paths.BUILD / "state"          # per-stage digests of the inputs it last succeeded with


@dataclass(frozen=True)
class Decision:
    """Whether a stage has work to do, and why."""

    run: bool
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        return ("would run: " if self.run else "up to date: ") + "; ".join(self.reasons)


@dataclass(frozen=True)
class Stage:
    """One step of the bootstrap."""

    name: str
    doc: str
    # Repository-relative files the stage applies. The tool's own code is deliberately not an
    # input: upgrading the tool must not re-apply a converged cluster (rendering code changes
    # reach the stages through the artifacts they change).
    inputs: tuple[str, ...]
    done: Callable[[Facts], tuple[bool | None, str]]     # what the cluster shows (None: no longer ours)
    apply: Callable[[Facts], str | None]                 # returns an error message or None

    def files(self) -> list[Path]:
        return [paths.ROOT / f for f in self.inputs]


def digest(stage: Stage) -> dict[str, str]:
    """sha256 of each input file ('missing' when absent)."""
    out = {}
    for file in stage.files():
        try:
            out[paths.rel(file)] = hashlib.sha256(file.read_bytes()).hexdigest()
        except OSError:
            out[paths.rel(file)] = "missing"
    return out


def recorded(stage: Stage) -> dict[str, str] | None:
    """The input digests the stage last succeeded with, if recorded."""
    try:
        return json.loads((STATE / f"{stage.name}.json").read_text())
    except (OSError, ValueError):
        return None


def record(stage: Stage) -> None:
    """Remember the inputs a stage succeeded with (names and hashes only, nothing secret)."""
    write_if_changed(STATE / f"{stage.name}.json", json.dumps(digest(stage), indent=1, sort_keys=True))


def changed_inputs(stage: Stage) -> list[str]:
    """Input files that differ from the last success (all of them if there was none)."""
    before, now = recorded(stage), digest(stage)
    if before is None:
        return ["no record of a previous success"]
    return [f"{name} changed" for name in sorted(now) if before.get(name) != now[name]]


def decide(stage: Stage, facts: Facts) -> Decision:
    """Run when the inputs changed since the last success or the cluster does not show it done."""
    done, why = _safe_done(stage, facts)
    if done is None:            # handed off (e.g. Flux owns the release now): local inputs no longer apply
        return Decision(False, (why,))
    changed = changed_inputs(stage)
    reasons = ([] if done else [why]) + changed
    return Decision(bool(reasons), tuple(reasons) or (why,))


def _safe_done(stage: Stage, facts: Facts) -> tuple[bool, str]:
    """A fact check that never raises into doit."""
    try:
        return stage.done(facts)
    except Exception as err:   # a probe must answer "not done", never abort the run
        return False, f"could not tell ({type(err).__name__}: {err})"


def stage_table(cluster: Cluster) -> list[Stage]:
    """Every stage in the required order."""
    first, others = cluster.first_controlplane, [n for n in cluster.nodes if n != cluster.first_controlplane]
    manifests = [a for a in artifacts.cluster_catalogue(cluster) if a.stage]
    stages = [actions.talos_node_stage(first, "Apply the Talos config to the first control-plane node"),
              Stage("etcd-bootstrap", "Bootstrap etcd exactly once on the first control-plane node",
                    ("build/talos/talosconfig.yaml",), actions.etcd_done, actions.etcd_bootstrap),
              Stage("kubeconfig", "Fetch the kubeconfig into build/ (pointing at the first control plane)",
                    ("build/talos/talosconfig.yaml",), actions.kubeconfig_done, actions.fetch_kubeconfig)]
    stages += [actions.talos_node_stage(node, f"Join node {node.name} ({node.role})") for node in others]
    stages += [Stage("nodes-ready", "Wait for the API server and for every node to register",
                     ("bootstrap/values/talos.yaml",), actions.nodes_registered, actions.wait_nodes),
               Stage("resources", "op inject bootstrap/resources.yaml | kubectl apply --server-side",
                     ("bootstrap/resources.yaml",), actions.resources_done, actions.apply_resources),
               Stage("crds", "Seed CRDs from 00-crds.yaml (envoy-gateway excluded) and wait until Established",
                     ("bootstrap/helmfile.d/00-crds.yaml", "bootstrap/charts.yaml"),
                     actions.crds_done, actions.seed_crds)]
    for release in cluster.releases:
        stages.append(actions.release_stage(release))
        stages += [actions.manifest_stage(a) for a in manifests if a.applied_after == release.name]
        if release.name == "kube-vip":
            stages.append(Stage("api-vip", "Point build/kubeconfig at the control-plane VIP once kube-vip serves it",
                                ("bootstrap/values/kube-vip.yaml",), actions.vip_done, actions.switch_to_vip))
    stages.append(Stage("flux-ready", "Verify Flux reconciles: source, Kustomization and instance Ready",
                        ("build/flux/sync.yaml",), actions.flux_ready, actions.wait_flux))
    return stages


def run_stage(stage: Stage, facts: Facts) -> str | None:
    """The doit action: do the difference, or say why there is nothing to do."""
    from .progress import event, say
    started = time.monotonic()
    decision = decide(stage, facts)
    if not decision.run:
        say(f"{stage.name}: nothing to do ({'; '.join(decision.reasons)})")
        record(stage)
        return None
    say(f"{stage.name}: {'; '.join(decision.reasons)}")
    error = stage.apply(facts)
    facts.invalidate()
    event("stage", name=stage.name, ok=error is None, seconds=round(time.monotonic() - started, 3))
    if error:
        return error
    record(stage)
    return None
