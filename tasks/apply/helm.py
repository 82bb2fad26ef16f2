"""Helm release stages: one per row of bootstrap/charts.yaml `releases`, each installing or
upgrading its release with `helmfile sync` when the cluster does not run it as rendered."""
from __future__ import annotations

from .. import paths, report, tools
from ..facts import Facts
from ..facts.kube import KubeFacts
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
    if found.values != wanted:
        return False, f"release {release.name} values differ from build/values/{release.name}.yaml"
    return True, f"release {release.name} {release.version} deployed with the rendered values"


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
