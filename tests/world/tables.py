"""Server-side ``meta.k8s.io/v1`` Table rendering, for ``kubectl get`` without ``-o``.

Column sets mimic the real printers (k8s.io/kubernetes pkg/printers/internalversion/printers.go) for the
common kinds; CRDs use their ``additionalPrinterColumns`` (simple JSONPath), else Name and Age. Ages are
rendered like k8s.io/apimachinery/pkg/util/duration.HumanDuration.
"""
from __future__ import annotations

import datetime as dt
import json
import re

NAME_COL = {"name": "Name", "type": "string", "format": "name", "priority": 0,
            "description": "Name must be unique within a namespace."}
AGE_COL = {"name": "Age", "type": "string", "format": "", "priority": 0,
           "description": "CreationTimestamp is a timestamp representing the server time when this object was created."}


def human_duration(seconds: float) -> str:
    """duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m" if s % 60 == 0 else f"{m}m{s % 60}s"
    if m < 180:
        return f"{m}m"
    h = m // 60
    if h < 8:
        return f"{h}h" if m % 60 == 0 else f"{h}h{m % 60}m"
    if h < 48:
        return f"{h}h"
    if h < 24 * 8:
        return f"{h // 24}d" if h % 24 == 0 else f"{h // 24}d{h % 24}h"
    if h < 24 * 365 * 2:
        return f"{h // 24}d"
    if h < 24 * 365 * 8:
        days = (h // 24) % 365
        return f"{h // 24 // 365}y" if days == 0 else f"{h // 24 // 365}y{days}d"
    return f"{h // 24 // 365}y"


def age(obj: dict) -> str:
    """Human age of an object from its creationTimestamp."""
    ts = (obj.get("metadata") or {}).get("creationTimestamp")
    if not ts:
        return "<unknown>"
    created = dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    return human_duration((dt.datetime.now(dt.timezone.utc) - created).total_seconds())


def jsonpath(obj, path: str) -> list:
    """Evaluate a small JSONPath subset: .a.b, [n], [*], [?(@.k=="v")]."""
    tokens = re.findall(r"\[\?\(@\.([\w.-]+)\s*==\s*[\"']([^\"']*)[\"']\)\]|\[(\*|\d+)\]|\.?([^.\[\]]+)",
                        path.strip().lstrip("{").rstrip("}"))
    values = [obj]
    for fkey, fval, index, name in tokens:
        nxt = []
        for v in values:
            if name and isinstance(v, dict) and name in v:
                nxt.append(v[name])
            elif index == "*" and isinstance(v, list):
                nxt.extend(v)
            elif index and isinstance(v, list) and int(index) < len(v):
                nxt.append(v[int(index)])
            elif fkey and isinstance(v, list):
                nxt.extend(e for e in v if isinstance(e, dict) and [str(x) for x in jsonpath(e, "." + fkey)][:1] == [fval])
        values = nxt
    return values


def _g(obj, path, default=""):
    """First JSONPath result, or default."""
    found = jsonpath(obj, path)
    return found[0] if found else default


def _node_status(o):
    """Ready/NotReady as kubectl prints it."""
    ready = _g(o, '.status.conditions[?(@.type=="Ready")].status', "Unknown")
    return "Ready" if ready == "True" else "NotReady"


def _roles(o):
    """Node roles from node-role.kubernetes.io/* labels."""
    labels = (o.get("metadata") or {}).get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    return ",".join(roles) or "<none>"


def _ports(o):
    """Service ports as 'port/proto,...'."""
    ports = [f"{p.get('port')}/{p.get('protocol', 'TCP')}" if not p.get("nodePort")
             else f"{p.get('port')}:{p.get('nodePort')}/{p.get('protocol', 'TCP')}"
             for p in (o.get("spec") or {}).get("ports") or []]
    return ",".join(ports) or "<none>"


def _external_ip(o):
    """External IP column of Services."""
    spec = o.get("spec") or {}
    if spec.get("type") == "LoadBalancer":
        ing = ((o.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        return ",".join(i.get("ip") or i.get("hostname", "") for i in ing) or "<pending>"
    return ",".join(spec.get("externalIPs") or []) or "<none>"


def _col(name, fn, typ="string"):
    """A (column definition, cell function) pair."""
    return ({"name": name, "type": typ, "format": "", "description": "", "priority": 0}, fn)


BUILTIN_COLUMNS = {
    ("", "namespaces"): [_col("Status", lambda o: _g(o, ".status.phase"))],
    ("", "nodes"): [_col("Status", _node_status), _col("Roles", _roles), "AGE",
                    _col("Version", lambda o: _g(o, ".status.nodeInfo.kubeletVersion"))],
    ("", "pods"): [_col("Ready", lambda o: f"{sum(1 for c in _g(o, '.status.containerStatuses', []) if c.get('ready'))}"
                                            f"/{len(_g(o, '.spec.containers', []))}"),
                   _col("Status", lambda o: "Completed" if _g(o, ".status.phase") == "Succeeded" else _g(o, ".status.phase", "Pending")),
                   _col("Restarts", lambda o: 0, "integer")],
    ("apps", "deployments"): [_col("Ready", lambda o: f"{_g(o, '.status.readyReplicas', 0)}/{_g(o, '.spec.replicas', 1)}"),
                              _col("Up-to-date", lambda o: _g(o, ".status.updatedReplicas", 0), "integer"),
                              _col("Available", lambda o: _g(o, ".status.availableReplicas", 0), "integer")],
    ("apps", "replicasets"): [_col("Desired", lambda o: _g(o, ".spec.replicas", 1), "integer"),
                              _col("Current", lambda o: _g(o, ".status.replicas", 0), "integer"),
                              _col("Ready", lambda o: _g(o, ".status.readyReplicas", 0), "integer")],
    ("apps", "statefulsets"): [_col("Ready", lambda o: f"{_g(o, '.status.readyReplicas', 0)}/{_g(o, '.spec.replicas', 1)}")],
    ("apps", "daemonsets"): [_col(n, lambda o, f=f: _g(o, f".status.{f}", 0), "integer") for n, f in (
        ("Desired", "desiredNumberScheduled"), ("Current", "currentNumberScheduled"), ("Ready", "numberReady"),
        ("Up-to-date", "updatedNumberScheduled"), ("Available", "numberAvailable"))],
    ("", "secrets"): [_col("Type", lambda o: o.get("type", "Opaque")),
                      _col("Data", lambda o: len(o.get("data") or {}), "integer")],
    ("", "configmaps"): [_col("Data", lambda o: len(o.get("data") or {}) + len(o.get("binaryData") or {}), "integer")],
    ("", "services"): [_col("Type", lambda o: _g(o, ".spec.type", "ClusterIP")),
                       _col("Cluster-IP", lambda o: _g(o, ".spec.clusterIP", "<none>")),
                       _col("External-IP", _external_ip), _col("Port(s)", _ports)],
    ("batch", "jobs"): [_col("Status", lambda o: "Complete" if _g(o, '.status.conditions[?(@.type=="Complete")].status') == "True" else "Running"),
                        _col("Completions", lambda o: f"{_g(o, '.status.succeeded', 0)}/{_g(o, '.spec.completions', 1)}")],
    ("apiextensions.k8s.io", "customresourcedefinitions"): [
        _col("Created At", lambda o: (o.get("metadata") or {}).get("creationTimestamp", ""), "date"), "NOAGE"],
}


def _custom_columns(res) -> list:
    """Columns of a custom resource from its additionalPrinterColumns."""
    cols = []
    for text in res.printer_columns:
        c = json.loads(text)
        if c.get("priority", 0) != 0:
            continue
        path, typ = c.get("jsonPath", ""), c.get("type", "string")
        if path == ".metadata.creationTimestamp":
            cols.append(({"name": c["name"], "type": "date", "format": "", "description": c.get("description", ""),
                          "priority": 0}, age))
            continue
        cols.append(({"name": c["name"], "type": typ, "format": c.get("format", ""),
                      "description": c.get("description", ""), "priority": 0},
                     lambda o, p=path: _cell(jsonpath(o, p))))
    return cols + ["NOAGE"] if cols else []


def _cell(values: list):
    """A printer column cell from JSONPath results."""
    if not values:
        return None
    v = values[0]
    return json.dumps(v) if isinstance(v, (dict, list)) else v


def columns_for(res) -> list:
    """(definition, cell function) pairs for a resource, Name first, Age last unless placed."""
    spec = _custom_columns(res) if res.custom else list(BUILTIN_COLUMNS.get((res.group, res.plural), []))
    cols = [(NAME_COL, lambda o: (o.get("metadata") or {}).get("name", ""))]
    for c in spec:
        if c == "AGE":
            cols.append((AGE_COL, age))
        elif c != "NOAGE":
            cols.append(c)
    if "AGE" not in spec and "NOAGE" not in spec:
        cols.append((AGE_COL, age))
    return cols


def _row_object(obj: dict, include: str) -> dict | None:
    """The row's object per includeObject (Metadata by default)."""
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def to_table(res, objects: list[dict], resource_version: str, include: str = "Metadata") -> dict:
    """A Table for a list of objects."""
    cols = columns_for(res)
    rows = []
    for obj in objects:
        row = {"cells": [fn(obj) for _, fn in cols]}
        ro = _row_object(obj, include)
        if ro is not None:
            row["object"] = ro
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version},
            "columnDefinitions": [d for d, _ in cols], "rows": rows}
