"""What each stage checks and does. Fact checks (`*_done`) only read; actions compare the desired
state with the facts and change only the difference. Actions return an error message or None."""
from __future__ import annotations

import json
import os
import time

import yaml

from . import guards, paths, progress, secrets, tools
from .config import Node, Release
from .facts import IDENTITY, Facts, cluster_uid, condition, differences, json_stream
from .gitops import SourcedObject
from .reach import reach
from .render import write_if_changed
from .yamlio import load_all

FIELD_MANAGER = "talos-flux-bootstrap"
CRDS_FILE = paths.BUILD / "crds.yaml"
SEEDED_CRDS = paths.BUILD / "seeded-crds.json"      # beside build/crds.yaml (build/state/ holds stage records)
RAW_KUBECONFIG = paths.BUILD / ".talos-kubeconfig"
ESO_DEPLOYMENT = ("Deployment", "external-secrets", "external-secrets")
NEEDS_ESO = ("ExternalSecret", "ClusterSecretStore", "SecretStore")


def deadline(kind: str, default: float) -> float:
    """Seconds a wait may take: BOOTSTRAP_TIMEOUT_<KIND> or the default."""
    return float(os.environ.get(f"BOOTSTRAP_TIMEOUT_{kind.upper()}", default))


def wait_until(what: str, seconds: float, check, facts: Facts, interval: float = 1.0) -> str | None:
    """Poll check() (fresh facts each time) until it holds; an error naming what and why if not."""
    end = time.monotonic() + seconds
    progress.waiting(what, end)
    while True:
        facts.invalidate()
        ok, why = check()
        if ok:
            return None
        if time.monotonic() >= end:
            return f"gave up after {seconds:.0f}s waiting for {what}: {why}"
        time.sleep(min(interval, max(0.0, end - time.monotonic())))


# ----------------------------------------------------------------- Talos nodes

def talos_node_stage(node: Node, doc: str):
    """The stage that gives one node its machine config."""
    from .stages import Stage      # stages.py builds its table from these factories
    return Stage(f"node-{node.name}", doc, (f"build/talos/{node.name}.yaml", "build/talos/talosconfig.yaml"),
                       lambda facts: node_configured(facts, node), lambda facts: apply_node(facts, node))


def node_configured(facts: Facts, node: Node) -> tuple[bool, str]:
    """A node is done when its authenticated API answers (it left maintenance mode)."""
    fact = facts.talos_nodes()[node.address]
    if fact.state == "configured":
        return True, f"{node.name} ({node.address}) is configured"
    return False, f"{node.name} ({node.address}) is {fact.state}" + (f": {fact.reason}" if fact.reason else "")


def apply_node(facts: Facts, node: Node) -> str | None:
    """Maintenance node: insecure apply. Configured node: dry-run, then authenticated apply if needed."""
    fact = facts.talos_nodes()[node.address]
    if fact.state == "unreachable" or fact.state == "unknown":
        return f"node {node.name} ({node.address}) cannot be reached: {fact.reason}"
    config, error = secrets.inject_file(paths.BUILD / f"talos/{node.name}.yaml")
    if config is None:
        return error
    if fact.state == "maintenance":
        proof = _confirms_maintenance(node)
        if proof:
            return proof
        result = tools.talosctl_insecure(["apply-config", "--insecure", "-n", node.address, "-f", "/dev/stdin"],
                                         stdin=config, timeout=120)
        if not result.ok:
            return f"talosctl apply-config --insecure on {node.name}: {result.message()}"
        return wait_until(f"{node.name} to leave maintenance mode", deadline("node", 600),
                          lambda: node_configured(facts, node), facts)
    return _apply_authenticated(facts, node, config)


def _confirms_maintenance(node: Node) -> str | None:
    """The node itself must say it is in maintenance mode before it gets a config over the
    unauthenticated API (an expired client certificate also fails authentication)."""
    result = tools.talosctl_insecure(["get", "machinestatus", "--insecure", "-n", node.address, "-o", "json"],
                                     timeout=60)
    stages = [((item.get("spec") or {}).get("stage")) for item in json_stream(result.stdout)]
    if result.ok and stages == ["maintenance"]:
        return None
    found = f"stage {stages[0]}" if stages else result.message()
    return (f"refusing to send {node.name} ({node.address}) its config with --insecure: the node does not "
            f"confirm maintenance mode ({found}); if it was configured with other credentials, reset it first")


def _apply_authenticated(facts: Facts, node: Node, config: str) -> str | None:
    """Apply a changed config through the authenticated API (never --insecure)."""
    talosconfig, error = facts.talosconfig()
    if talosconfig is None:
        return error
    args = ["apply-config", "-n", node.address, "-f", "/dev/stdin"]
    check = tools.talosctl([*args, "--dry-run"], talosconfig, stdin=config, timeout=120)
    if not check.ok:
        return f"talosctl apply-config --dry-run on {node.name}: {check.message()}"
    if "No changes." in check.stdout:
        progress.say(f"node-{node.name}: the node already runs this config")
        return None
    result = tools.talosctl(args, talosconfig, stdin=config, timeout=120)
    return None if result.ok else f"talosctl apply-config on {node.name}: {result.message()}"


# ----------------------------------------------------------------- etcd, kubeconfig, nodes

def etcd_done(facts: Facts) -> tuple[bool, str]:
    """etcd runs on the first control-plane node."""
    return facts.etcd_running()


def etcd_bootstrap(facts: Facts) -> str | None:
    """`talosctl bootstrap` exactly once: never when etcd runs; AlreadyExists counts as done."""
    running, _ = facts.etcd_running()
    if running:
        return None
    talosconfig, error = facts.talosconfig()
    if talosconfig is None:
        return error
    first = facts.cluster.first_controlplane.address
    end = time.monotonic() + deadline("bootstrap", 600)
    progress.waiting(f"etcd bootstrap on {first} to be accepted", end)
    while True:
        result = tools.talosctl(["bootstrap", "-n", first], talosconfig, timeout=60)
        if result.ok:
            IDENTITY.unlink(missing_ok=True)    # a new cluster: its identity is learned on first contact
            break
        if "AlreadyExists" in result.stderr:
            break
        if "FailedPrecondition" not in result.stderr or time.monotonic() >= end:
            return f"talosctl bootstrap on {first}: {result.message()}"
        time.sleep(2)
    return wait_until(f"etcd on {first} to run", deadline("etcd", 600), facts.etcd_running, facts)


def kubeconfig_done(facts: Facts) -> tuple[bool, str]:
    """build/kubeconfig exists, the API server it names answers, and it is this cluster's (whose
    identity is learned right after each new `talosctl bootstrap`)."""
    kube = facts.kube()
    if not kube.reachable:
        return False, kube.reason
    if not IDENTITY.exists():
        return False, "the cluster was (re)bootstrapped: its kubeconfig and identity are not fetched yet"
    return True, "the API server answers and is this cluster's"


def fetch_kubeconfig(facts: Facts) -> str | None:
    """Fetch the admin kubeconfig from the first control plane; point it at that node for now."""
    if kubeconfig_done(facts)[0]:
        progress.say("kubeconfig: build/kubeconfig already reaches this cluster; kept")
        return None
    talosconfig, error = facts.talosconfig()
    if talosconfig is None:
        return error
    first = facts.cluster.first_controlplane.address
    RAW_KUBECONFIG.unlink(missing_ok=True)
    result = tools.talosctl(["kubeconfig", str(RAW_KUBECONFIG), "-n", first, "--force",
                             "--force-context-name", f"admin@{facts.cluster.name}"], talosconfig, timeout=60)
    if not result.ok:
        return f"talosctl kubeconfig from {first}: {result.message()}"
    error = write_kubeconfig(first, source=RAW_KUBECONFIG)
    RAW_KUBECONFIG.unlink(missing_ok=True)       # one copy of the admin credentials is enough
    if error:
        return error
    error = await_api(facts, f"the Kubernetes API server on {first} to answer", deadline("api", 600))
    if error is None and not IDENTITY.exists():     # first contact after a fresh `talosctl bootstrap`
        write_if_changed(IDENTITY, cluster_uid(facts.kube()) + "\n")
    return error


def await_api(facts: Facts, what: str, seconds: float) -> str | None:
    """Wait until an API server answers; an error at once if it is not this cluster's."""
    def answers() -> tuple[bool, str]:
        kube = facts.kube()
        return kube.reachable or kube.stranger, kube.reason or "the API server answers"
    error = wait_until(what, seconds, answers, facts)
    return error or (facts.kube().reason if facts.kube().stranger else None)


def write_kubeconfig(host: str, source=None) -> str | None:
    """build/kubeconfig from source (default: itself) with its server at host:6443, mapped by
    BOOTSTRAP_ADDRESS_MAP (TLS still verified against the cluster CA under the real address).
    Written atomically, owner-only; an error message if it cannot be."""
    try:
        config = yaml.safe_load((source or tools.KUBECONFIG).read_text())
        mapped_host, mapped_port = reach(host, 6443)
    except (OSError, ValueError, yaml.YAMLError) as err:
        return f"cannot write build/kubeconfig: {err}"
    for entry in config.get("clusters") or []:
        entry["cluster"]["server"] = f"https://{mapped_host}:{mapped_port}"
        if (mapped_host, mapped_port) != (host, 6443):
            entry["cluster"]["tls-server-name"] = host
        else:
            entry["cluster"].pop("tls-server-name", None)
    write_if_changed(tools.KUBECONFIG, yaml.safe_dump(config, sort_keys=True), mode=0o600)
    return None


def nodes_registered(facts: Facts) -> tuple[bool, str]:
    """Every node of the inventory is a Kubernetes Node."""
    kube = facts.kube()
    if not kube.reachable:
        return False, kube.reason
    missing = sorted({n.name for n in facts.cluster.nodes} - kube.names("Node"))
    return (not missing), ("all nodes registered" if not missing else "not registered yet: " + ", ".join(missing))


def wait_nodes(facts: Facts) -> str | None:
    """Wait (with a deadline) for the API and every node to register."""
    return wait_until("every node to register with the API server", deadline("nodes", 900),
                      lambda: nodes_registered(facts), facts, interval=2.0)


# ----------------------------------------------------------------- objects

def file_objects(rel: str) -> list[dict]:
    """The Kubernetes objects of a repository-relative file."""
    return [d for d in load_all((paths.ROOT / rel).read_text()) if isinstance(d, dict) and "kind" in d]


def objects_present(facts: Facts, objects: list[dict]) -> tuple[bool, str]:
    """All objects exist in the cluster (their content may hold secrets only op can resolve)."""
    kube = facts.kube()
    if not kube.reachable:
        return False, kube.reason
    missing = [d for d in differences(kube, objects) if d.endswith(" is missing")]
    return (not missing), ("all objects present" if not missing else "; ".join(missing))


def objects_current(facts: Facts, objects: list[dict]) -> tuple[bool, str]:
    """All objects exist in the cluster with the desired fields (a hand edit counts as drift)."""
    kube = facts.kube()
    if not kube.reachable:
        return False, kube.reason
    drift = differences(kube, objects)
    return (not drift), ("all objects present and current" if not drift else "; ".join(drift))


def apply_objects(text: str, what: str, facts: Facts) -> str | None:
    """Server-side apply of a YAML stream held in memory (stdin, never a file), unless every object
    already matches; then say so and change nothing."""
    try:
        objects = [d for d in load_all(text) if isinstance(d, dict) and "kind" in d]
    except yaml.YAMLError as err:
        return f"{what} is not valid YAML after rendering: {getattr(err, 'problem', err)}"
    if facts.kube().reachable and not differences(facts.kube(), objects):
        progress.say(f"{what}: every object already matches; nothing applied")
        return None
    result = tools.kubectl(["apply", "--server-side", "--force-conflicts", f"--field-manager={FIELD_MANAGER}",
                            "-f", "-"], stdin=text, timeout=180)
    return None if result.ok else f"kubectl apply of {what}: {result.message()}"


def resources_done(facts: Facts) -> tuple[bool, str]:
    """The namespaces and secrets of bootstrap/resources.yaml exist."""
    return objects_present(facts, file_objects("bootstrap/resources.yaml"))


def apply_resources(facts: Facts) -> str | None:
    """op inject (in memory) then kubectl apply: an op failure stops before kubectl sees anything."""
    injected, error = secrets.inject_file(paths.RESOURCES_FILE)
    if injected is None:
        return error
    return apply_objects(injected, "bootstrap/resources.yaml", facts)


# ----------------------------------------------------------------- CRDs

def crds_done(facts: Facts) -> tuple[bool, str]:
    """Every CRD seeded last time exists and is Established."""
    try:
        names = json.loads(SEEDED_CRDS.read_text())
    except (OSError, ValueError):
        return False, f"no record of seeded CRDs ({paths.rel(SEEDED_CRDS)} is missing)"
    kube = facts.kube()
    if not kube.reachable:
        return False, kube.reason
    pending = [n for n in names if (condition(kube.get("CustomResourceDefinition", n), "Established")
                                    or {}).get("status") != "True"]
    return (not pending), ("all CRDs Established" if not pending else "missing or not Established: " + ", ".join(pending))


def seed_crds(facts: Facts) -> str | None:
    """Template 00-crds.yaml without envoy-gateway, keep the CRDs, apply them, wait until Established."""
    result = tools.run("helmfile", ["-f", "bootstrap/helmfile.d/00-crds.yaml", "template", "-q",
                                    "--selector", "name!=envoy-gateway"], timeout=300)
    if not result.ok:
        return f"helmfile template of 00-crds.yaml: {result.message()}"
    try:
        documents = load_all(result.stdout)
    except yaml.YAMLError as err:
        return f"helmfile template of 00-crds.yaml printed unreadable YAML: {err}"
    crds = [d for d in documents if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition"]
    envoy = guards.envoy_crds([SourcedObject("00-crds.yaml", i, d) for i, d in enumerate(crds)])
    if envoy:
        return "refusing to seed envoy-gateway CRDs: " + ", ".join(found for *_, found in envoy)
    text = "".join("---\n" + yaml.safe_dump(c, sort_keys=True) for c in crds)
    write_if_changed(CRDS_FILE, text)
    error = apply_objects(text, "the seeded CRDs", facts)
    if error:
        return error
    # Names only, so the done check stays cheap.
    write_if_changed(SEEDED_CRDS, json.dumps(sorted(c["metadata"]["name"] for c in crds), indent=1) + "\n")
    return wait_until("the seeded CRDs to be Established", deadline("crds", 300), lambda: crds_done(facts), facts)


# ----------------------------------------------------------------- releases

def release_stage(release: Release):
    """The stage that installs or upgrades one Helm release."""
    from .stages import Stage
    return Stage(f"release-{release.name}", f"Helm release {release.name} ({release.chart} {release.version})",
                       (f"build/values/{release.name}.yaml", "bootstrap/charts.yaml",
                        "bootstrap/helmfile.d/01-apps.yaml"),
                       lambda facts: release_done(facts, release), lambda facts: sync_release(facts, release))


def release_done(facts: Facts, release: Release) -> tuple[bool | None, str]:
    """Deployed, at the pinned chart version, with exactly the rendered values; None once a Flux
    HelmRelease owns it (the hand-off is the goal, not drift)."""
    kube = facts.kube()
    if not kube.reachable:
        return False, kube.reason
    flux = kube.get("HelmRelease", release.name, release.namespace)
    if flux is not None:     # handed off: Flux reconciles this release now; re-syncing would fight it
        return None, f"release {release.name} is managed by Flux (HelmRelease {release.namespace}/{release.name})"
    found = kube.releases.get(release.name)
    if found is None:
        return False, f"release {release.name} is not installed"
    if found.status != "deployed":
        return False, f"release {release.name} is {found.status}"
    if found.chart_version != release.version:
        return False, f"release {release.name} runs chart {found.chart_version}, pinned {release.version}"
    wanted = (load_all((paths.BUILD / f"values/{release.name}.yaml").read_text()) or [{}])[0]
    if found.values != wanted:
        return False, f"release {release.name} values differ from build/values/{release.name}.yaml"
    return True, f"release {release.name} {release.version} deployed with the rendered values"


def sync_release(facts: Facts, release: Release) -> str | None:
    """Recover a stuck release, check the ESO invariant, then `helmfile sync` this release only."""
    done, _ = release_done(facts, release)
    if done is not False:
        return None
    found = facts.kube().releases.get(release.name)
    if found is not None and found.status.startswith("pending-"):
        error = _recover_pending(release, found.status)
        if error:
            return error
    result = tools.run("helmfile", ["-f", "bootstrap/helmfile.d/01-apps.yaml", "--selector", f"name={release.name}",
                                    "sync"], timeout=deadline("release", 900))
    return None if result.ok else f"helmfile sync of {release.name}: {result.message()}"


# How to unblock a release an interrupted helm left behind (helm/helm#10599): an install that never
# completed is removed; an interrupted upgrade or rollback goes back to the previous revision
# (never an uninstall: that would take down a running CNI or Flux).
RECOVERY = {"pending-install": "uninstall", "pending-upgrade": "rollback", "pending-rollback": "rollback"}


def _recover_pending(release: Release, status: str) -> str | None:
    """Unblock a release stuck in a pending-* state, or say why it cannot be done safely."""
    verb = RECOVERY.get(status)
    if verb is None:
        return f"release {release.name} is {status}; resolve it with helm by hand, then rerun"
    progress.say(f"release-{release.name}: recovering from {status} ({verb})")
    args = [verb, release.name, "-n", release.namespace, "--wait"]
    result = tools.run("helm", args, timeout=deadline("release", 900))
    return None if result.ok else f"helm {args[0]} of stuck release {release.name}: {result.message()}"


# ----------------------------------------------------------------- manifests

def manifest_stage(artifact):
    """The stage that applies one rendered manifest file (artifacts.py says which, and when)."""
    from .stages import Stage
    rel = f"build/{artifact.target}"
    return Stage(artifact.stage, f"Apply {rel}", (rel,), lambda facts: objects_current(facts, file_objects(rel)),
                       lambda facts: apply_manifest(facts, rel))


def eso_present(facts: Facts) -> tuple[bool, str]:
    """The External Secrets Operator deployment exists (invariant before any ExternalSecret)."""
    kind, namespace, name = ESO_DEPLOYMENT
    if not facts.kube().reachable:
        return False, facts.kube().reason
    if facts.kube().get(kind, name, namespace) is None:
        return False, f"the External Secrets Operator deployment {namespace}/{name} is missing"
    return True, "External Secrets Operator present"


def apply_manifest(facts: Facts, rel: str) -> str | None:
    """Wait for the kinds' CRDs, enforce the ESO invariant, apply server-side."""
    objects = file_objects(rel)
    if any(o["kind"] in NEEDS_ESO for o in objects):
        ok, why = eso_present(facts)
        if not ok:
            return f"refusing to apply {rel}: {why} (the operator must exist before any ExternalSecret)"
    kinds = sorted({o["kind"] for o in objects} - {"Namespace", "Secret", "ConfigMap"})
    error = wait_until(f"the API to serve {', '.join(kinds)}", deadline("crds", 300),
                       lambda: _kinds_served(facts, kinds), facts)
    return error or apply_objects((paths.ROOT / rel).read_text(), rel, facts)


def _kinds_served(facts: Facts, kinds: list[str]) -> tuple[bool, str]:
    """Every kind has an Established CRD."""
    kube = facts.kube()
    if not kube.reachable:
        return False, kube.reason
    served = {(crd.get("spec") or {}).get("names", {}).get("kind") for (k, _, _), crd in kube.objects.items()
              if k == "CustomResourceDefinition" and
              (condition(crd, "Established") or {}).get("status") == "True"}
    missing = [k for k in kinds if k not in served]
    return (not missing), ("served" if not missing else "no Established CRD for " + ", ".join(missing))


# ----------------------------------------------------------------- VIP, Flux

def vip_done(facts: Facts) -> tuple[bool, str]:
    """build/kubeconfig already names the VIP and the API answers there."""
    vip = facts.cluster.settings["kube-vip"]["vip"]
    host, port = reach(vip, 6443)
    try:
        config = yaml.safe_load(tools.KUBECONFIG.read_text())
        server = config["clusters"][0]["cluster"]["server"]
        server_name = config["clusters"][0]["cluster"].get("tls-server-name", host)
    except (OSError, KeyError, IndexError, TypeError, yaml.YAMLError):
        return False, "build/kubeconfig is missing"
    if server != f"https://{host}:{port}" or server_name != vip:
        return False, f"build/kubeconfig points at {server}, not the VIP {vip}"
    kube = facts.kube()
    return kube.reachable, ("the API answers on the VIP" if kube.reachable else kube.reason)


def switch_to_vip(facts: Facts) -> str | None:
    """Once kube-vip runs, point build/kubeconfig at the VIP (falls back if the VIP does not answer)."""
    vip = facts.cluster.settings["kube-vip"]["vip"]
    error = write_kubeconfig(vip) or await_api(facts, f"the API server to answer on the VIP {vip}",
                                               deadline("vip", 300))
    if error:
        write_kubeconfig(facts.cluster.first_controlplane.address)
    return error


FLUX_OBJECTS = (("GitRepository", "flux-system"), ("Kustomization", "cluster"), ("FluxInstance", "flux"))


def flux_ready(facts: Facts) -> tuple[bool, str]:
    """The Git source, the cluster Kustomization and the FluxInstance report Ready=True."""
    kube = facts.kube()
    if not kube.reachable:
        return False, kube.reason
    namespace = facts.cluster.settings["flux-instance"]["namespace"]
    for kind, name in FLUX_OBJECTS:
        ready = condition(kube.get(kind, name, namespace), "Ready")
        if kube.get(kind, name, namespace) is None:
            return False, f"{kind} {namespace}/{name} does not exist"
        if (ready or {}).get("status") != "True":
            message = (ready or {}).get("message") or "no Ready condition yet"
            return False, f"{kind} {namespace}/{name} is not Ready: {message}"
    return True, "Flux reconciles the cluster root"


def wait_flux(facts: Facts) -> str | None:
    """Wait for Flux to reconcile; fail naming the object and its condition message."""
    return wait_until("Flux to reconcile the cluster root", deadline("flux", 600), lambda: flux_ready(facts), facts,
                      interval=2.0)
