"""kube-scheduler's filters, as pure functions over stored objects.

Filters (k8s.io/kubernetes pkg/scheduler/framework/plugins/..., in the default plugin order):
NodeUnschedulable, TaintToleration (NoSchedule/NoExecute, tainttoleration/taint_toleration.go),
NodeAffinity (nodeSelector + required node affinity, nodeaffinity/node_affinity.go), NodePorts
(nodeports/node_ports.go) and required InterPodAffinity (interpodaffinity/filtering.go). Each node that
fails records the first failing filter's reason; the message is FitError.Error
(pkg/scheduler/framework/types.go). Resources (NodeResourcesFit), volumes and preemption are not modelled."""
from __future__ import annotations

from collections import Counter

NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
# Preemption cannot help with these reasons (framework.UnschedulableAndUnresolvable).
UNRESOLVABLE = ("node(s) were unschedulable", "node(s) had untolerated taint",
                "node(s) didn't match Pod's node affinity/selector", "node(s) didn't match pod affinity rules")


def _meta(obj: dict) -> dict:
    """metadata of an object (empty when absent)."""
    return obj.get("metadata") or {}


def tolerates(tolerations: list, taint: dict) -> bool:
    """Toleration.ToleratesTaint (k8s.io/api core/v1/toleration.go) for any of the tolerations."""
    for t in tolerations or []:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        if t.get("key") and t.get("key") != taint.get("key"):
            continue
        operator = t.get("operator") or "Equal"
        if operator == "Exists" or (operator == "Equal" and (t.get("value") or "") == (taint.get("value") or "")):
            return True
    return False


def untolerated(tolerations: list, node: dict, effects=("NoSchedule", "NoExecute")) -> dict | None:
    """The first taint of the node with one of the effects that the tolerations do not tolerate."""
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") in effects and not tolerates(tolerations, taint):
            return taint
    return None


def _expression(expr: dict, value) -> bool:
    """One NodeSelectorRequirement against a label (or field) value, None when absent."""
    op, values = expr.get("operator"), expr.get("values") or []
    if op == "In":
        return value is not None and value in values
    if op == "NotIn":
        return value is None or value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt") and value is not None and values:
        try:
            return int(value) > int(values[0]) if op == "Gt" else int(value) < int(values[0])
        except ValueError:
            return False
    return False


def _term(term: dict, node: dict) -> bool:
    """A NodeSelectorTerm: every matchExpression (labels) and matchField (metadata.name) holds."""
    labels = _meta(node).get("labels") or {}
    fields = {"metadata.name": _meta(node).get("name")}
    return (all(_expression(e, labels.get(e.get("key"))) for e in term.get("matchExpressions") or [])
            and all(_expression(e, fields.get(e.get("key"))) for e in term.get("matchFields") or []))


def node_affinity_matches(spec: dict, node: dict) -> bool:
    """nodeSelector and requiredDuringSchedulingIgnoredDuringExecution (ORed terms) both match."""
    labels = _meta(node).get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution")
    terms = (required or {}).get("nodeSelectorTerms")
    return not required or any(_term(t, node) for t in terms or [])


def label_selector_matches(selector: dict, labels: dict) -> bool:
    """A LabelSelector (matchLabels + matchExpressions) against labels."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    return all(_expression(e, labels.get(e.get("key"))) for e in selector.get("matchExpressions") or [])


def _matches(term: dict, owner: dict, pod: dict) -> bool:
    """Whether pod matches a PodAffinityTerm of owner (namespaces default to owner's)."""
    return (_meta(pod).get("namespace") in (term.get("namespaces") or [_meta(owner).get("namespace")])
            and label_selector_matches(term.get("labelSelector") or {}, _meta(pod).get("labels") or {}))


def _domain(node: dict | None, key: str):
    """The node's topology domain for a key (its label value), None when unlabelled."""
    return (_meta(node).get("labels") or {}).get(key) if node else None


def _required(pod: dict, kind: str) -> list[dict]:
    """A pod's required podAffinity or podAntiAffinity terms."""
    affinity = (pod.get("spec") or {}).get("affinity") or {}
    return (affinity.get(kind) or {}).get("requiredDuringSchedulingIgnoredDuringExecution") or []


def _affinity_fits(pod: dict, node: dict, placed: list[tuple[dict, dict]]) -> str | None:
    """InterPodAffinity Filter over the bound pods (with their nodes), in its order: the pod's affinity
    (which a pod matching its own terms satisfies while no pod in the cluster matches them: the first
    pod of a group), its anti-affinity, then the existing pods' anti-affinity."""
    same = lambda term, where: _domain(node, term.get("topologyKey", "")) is not None and \
        _domain(node, term.get("topologyKey", "")) == _domain(where, term.get("topologyKey", ""))
    terms = _required(pod, "podAffinity")
    matching = [where for other, where in placed if all(_matches(t, pod, other) for t in terms)]
    alone = not matching and all(_matches(t, pod, pod) for t in terms)
    if terms and not alone and not all(any(same(t, where) for where in matching) for t in terms):
        return "node(s) didn't match pod affinity rules"
    if any(_matches(t, pod, other) and same(t, where)
           for t in _required(pod, "podAntiAffinity") for other, where in placed):
        return "node(s) didn't match pod anti-affinity rules"
    for other, where in placed:
        if any(_matches(t, other, pod) and same(t, where) for t in _required(other, "podAntiAffinity")):
            return "node(s) didn't satisfy existing pods anti-affinity rules"
    return None


def _host_ports(pod: dict) -> set:
    """(protocol, port) pairs a pod takes on its node (hostPort, or containerPort with hostNetwork)."""
    spec = pod.get("spec") or {}
    out = set()
    for c in spec.get("containers") or []:
        for p in c.get("ports") or []:
            port = p.get("hostPort") or (p.get("containerPort") if spec.get("hostNetwork") else None)
            if port:
                out.add((p.get("protocol", "TCP"), port))
    return out


def filter_node(pod: dict, node: dict, placed: list[tuple[dict, dict]]) -> str | None:
    """Why the pod cannot go to the node (the first failing filter, in the default plugin order of
    pkg/scheduler/apis/config/v1/default_plugins.go), or None."""
    spec, name = pod.get("spec") or {}, _meta(node).get("name")
    tolerations = spec.get("tolerations") or []
    if (node.get("spec") or {}).get("unschedulable") and not tolerates(
            tolerations, {"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule"}):
        return "node(s) were unschedulable"
    taint = untolerated(tolerations, node)
    if taint is not None:
        return f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}"
    if not node_affinity_matches(spec, node):
        return "node(s) didn't match Pod's node affinity/selector"
    used = set().union(*(_host_ports(p) for p, where in placed if _meta(where).get("name") == name))
    if _host_ports(pod) & used:
        return "node(s) didn't have free ports for the requested pod ports"
    return _affinity_fits(pod, node, placed)


def fit_error(reasons: list[str]) -> str:
    """FitError.Error: the reasons histogram, then the preemption diagnosis."""
    n = len(reasons)
    if not n:
        return "no nodes available to schedule pods"
    histogram = lambda items: ", ".join(f"{c} {r}" for r, c in sorted(Counter(items).items()))
    preemption = ["Preemption is not helpful for scheduling" if r.startswith(UNRESOLVABLE)
                  else "No preemption victims found for incoming pod" for r in reasons]
    return f"0/{n} nodes are available: {histogram(reasons)}. preemption: 0/{n} nodes are available: " \
           f"{histogram(preemption)}."


def choose_node(pod: dict, nodes: list[dict], pods: list[dict]) -> tuple[str | None, str]:
    """(node, "") for the feasible node with the fewest pods of the pod's owner, then the fewest pods (a
    stand-in for the default scores: PodTopologySpread's system default, NodeResourcesFit); else
    (None, the FitError message)."""
    by_name = {_meta(n).get("name"): n for n in nodes}
    placed = [(p, by_name[p["spec"]["nodeName"]]) for p in pods
              if (p.get("spec") or {}).get("nodeName") in by_name and _meta(p).get("uid") != _meta(pod).get("uid")]
    reasons, feasible = [], []
    for node in nodes:
        why = filter_node(pod, node, placed)
        if why:
            reasons.append(why)
        else:
            feasible.append(node)
    if not feasible:
        return None, fit_error(reasons)
    owners = lambda p: [r.get("uid") for r in _meta(p).get("ownerReferences") or []]
    on = lambda node: [p for p, where in placed if where is node]
    load = lambda node: (sum(1 for p in on(node) if owners(p) == owners(pod)), len(on(node)), _meta(node)["name"])
    return _meta(min(feasible, key=load))["name"], ""
