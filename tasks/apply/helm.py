"""Helm release stages: one per row of bootstrap/charts.yaml `releases`, each installing or
upgrading its release with `helmfile sync` when the cluster does not run it as rendered."""
from __future__ import annotations

from .. import paths, report, tools
from ..facts import Facts
from ..facts.kube import KubeFacts
from ..facts.releases import ReleaseFact, values_digest
from ..settings.model import Release
from ..yamlio import load_all
from .api import needs_api
from .waits import deadline

# How to unblock a release an interrupted helm left behind (helm/helm#10599): an install that never
# completed is removed; an interrupted upgrade or rollback goes back to the previous revision
# (never an uninstall: that would take down a running CNI or Flux).
RECOVERY = {"pending-install": "uninstall", "pending-upgrade": "rollback", "pending-rollback": "rollback"}


@needs_api
def release_done(facts: Facts, kube: KubeFacts, release: Release) -> tuple[bool | None, str]:
    """Deployed, at the pinned chart version, with exactly the rendered values; None once a Flux
    HelmRelease owns it (the hand-off is the goal, not drift)."""
    if kube.get("HelmRelease", release.name, release.namespace) is not None:
        # Handed off: Flux reconciles this release now; re-syncing would fight it.
        return None, f"release {release.name} is managed by Flux (HelmRelease {release.namespace}/{release.name})"
    found = kube.releases.get(release.name)
    if found is None:
        return False, f"release {release.name} is not installed"
    if found.status != "deployed":
        return False, f"release {release.name} is {found.status}"
    if found.chart_version != release.version:
        return False, f"release {release.name} runs chart {found.chart_version}, pinned {release.version}"
    wanted = (load_all(paths.release_values(release.name).read_text()) or [{}])[0]
    if found.values_digest != values_digest(wanted):
        return False, f"release {release.name} values differ from build/values/{release.name}.yaml"
    missing = missing_objects(kube, found)
    if missing:
        return False, f"release {release.name}: " + "; ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
    return True, f"release {release.name} {release.version} deployed with the rendered values, its objects ready"


def missing_objects(kube: KubeFacts, release: ReleaseFact) -> list[str]:
    """The objects of the release's stored manifest that are gone, or workloads that are not ready."""
    out = []
    for kind, namespace, name in release.objects:
        if not kube.served(kind):
            out.append(f"{kind} {name}: the API no longer serves {kind}")
            continue
        # Helm puts namespaced objects without a namespace into the release's namespace.
        obj = kube.get(kind, name, namespace or release.namespace) or kube.get(kind, name, namespace)
        where = f"{kind} {namespace + '/' if namespace else ''}{name}"
        if obj is None:
            out.append(f"{where} is missing")
        elif (why := not_ready(obj)) is not None:
            out.append(f"{where} is not ready ({why})")
    return out


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")


def not_ready(obj: dict) -> str | None:
    """Why a workload is not ready, the way helm --wait sees it (pkg/kube/ready.go), or None."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if obj.get("kind") not in WORKLOADS:
        return None
    if (status.get("observedGeneration") or 0) < (_meta(obj).get("generation") or 0):
        return "its controller has not seen the latest spec"
    if obj.get("kind") in ("Deployment", "StatefulSet"):
        wanted, ready = spec.get("replicas", 1), status.get("readyReplicas") or 0
        return None if ready >= wanted else f"{ready}/{wanted} replicas ready"
    if obj.get("kind") == "DaemonSet":
        wanted, ready = status.get("desiredNumberScheduled") or 0, status.get("numberReady") or 0
        return None if ready >= wanted else f"{ready}/{wanted} pods ready"
    return None


def sync_release(facts: Facts, release: Release) -> str | None:
    """Recover a stuck release, then `helmfile sync` this release only."""
    done, _ = release_done(facts, release)
    if done is not False:
        return None
    found = facts.kube().releases.get(release.name)
    if found is not None and found.status.startswith("pending-"):
        error = _recover_pending(release, found.status)
        if error:
            return error
    result = tools.helmfile(["-f", paths.rel(paths.APPS_HELMFILE), "--selector", f"name={release.name}", "sync"],
                            timeout=deadline("release", 900))
    return None if result.ok else f"helmfile sync of {release.name}: {result.message()}"


def _recover_pending(release: Release, status: str) -> str | None:
    """Unblock a release stuck in a pending-* state, or say why it cannot be done safely."""
    verb = RECOVERY.get(status)
    if verb is None:
        return f"release {release.name} is {status}; resolve it with helm by hand, then rerun"
    report.say(f"release-{release.name}: recovering from {status} ({verb})")
    args = [verb, release.name, "-n", release.namespace, "--wait"]
    result = tools.run("helm", args, timeout=deadline("release", 900))
    return None if result.ok else f"helm {args[0]} of stuck release {release.name}: {result.message()}"
