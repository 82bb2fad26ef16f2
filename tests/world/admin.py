"""The ``/_world/`` admin endpoints of the fake API server: seeding, faults, knobs, request log.

All take and return JSON. Paths (method, body -> answer):

- ``GET /_world/health`` -> ``{"ok": true, "pid", "resourceVersion", "url"}``
- ``GET /_world/objects?apiVersion=&kind=&namespace=&name=`` -> ``{"items": [...]}`` (raw, any filter optional)
- ``POST /_world/objects`` object or ``{"items": [...]}`` -> ``{"items": [stored...]}``: put raw (create or
  replace as given, status kept; the namespace is created if missing; controllers then run)
- ``DELETE /_world/objects?apiVersion=&kind=&namespace=&name=`` (or the same as a JSON body)
  -> ``{"deleted": bool}``: remove at once (finalizers ignored)
- ``GET /_world/conditions`` -> ``{"overrides": [...]}``
- ``POST /_world/conditions`` ``{"apiVersion", "kind", "namespace"?, "name", "type", "status",
  "reason"?, "message"?, "sticky"?: true}`` -> ``{"object": obj|null, "overrides": [...]}``
- ``DELETE /_world/conditions`` optional ``{"apiVersion"?, "kind"?, "namespace"?, "name"?, "type"?}``
  -> ``{"removed": n}``; the objects' controllers then run again
- ``GET /_world/controllers`` -> ``{"disabled": [kinds], "delays": {kind: seconds}}``
- ``POST /_world/controllers`` ``{"kind": "Deployment"|"*", "enabled"?: bool, "delay"?: seconds}`` -> settings
- ``GET /_world/requests`` -> ``{"count", "requests": [{"method","path","query","content_type","accept",
  "user_agent","status"}]}``; ``GET /_world/requests/count`` -> ``{"count"}``;
  ``DELETE /_world/requests`` -> ``{"count": 0}`` (reset)
- ``GET|POST|DELETE /_world/faults``: ``{"method"?: "PATCH", "path": regex, "code"?: 500,
  "message"?: str, "times"?: n, "delay"?: seconds}`` -> ``{"faults": [...]}`` (injected API errors/latency)
- ``GET|POST /_world/version`` ``{"gitVersion": "v1.33.1"}`` -> the /version document
"""
from __future__ import annotations

import os
import re

from .errors import ApiError, bad_request, path_not_found


def _object_key(world, spec: dict):
    """(resource, storage key) for an apiVersion/kind/namespace/name spec."""
    res = world.store.resource_for(spec.get("apiVersion", ""), spec.get("kind", ""))
    if res is None:
        raise bad_request(f"unknown apiVersion/kind {spec.get('apiVersion')!r}/{spec.get('kind')!r}")
    ns = spec.get("namespace", "") if res.namespaced else ""
    return res, (res.group, res.plural, ns, spec.get("name", ""))


def _put_objects(world, body: dict) -> dict:
    """Seed objects raw."""
    items = body.get("items") if isinstance(body, dict) and "items" in body and "kind" not in body else [body]
    out = []
    with world.store.txn():
        for obj in items:
            meta = obj.get("metadata") or {}
            if not meta.get("name"):
                raise bad_request("objects need metadata.name")
            res, _ = _object_key(world, {"apiVersion": obj.get("apiVersion", ""), "kind": obj.get("kind", "")})
            if res.namespaced:
                meta.setdefault("namespace", "default")
            obj["metadata"] = meta
            out.append(world.store.put_raw(res, obj))
    return {"items": out}


def _list_objects(world, q: dict) -> dict:
    """Raw objects filtered by the optional query fields."""
    items = []
    with world.store.lock:
        for key, obj in sorted(world.store.objects.items()):
            meta = obj.get("metadata") or {}
            if q.get("apiVersion") and obj.get("apiVersion") != q["apiVersion"]:
                continue
            if q.get("kind") and obj.get("kind") != q["kind"]:
                continue
            if q.get("namespace") and meta.get("namespace", "") != q["namespace"]:
                continue
            if q.get("name") and meta.get("name") != q["name"]:
                continue
            items.append(obj)
    return {"items": items}


def _delete_object(world, spec: dict) -> dict:
    """Remove an object immediately."""
    res, key = _object_key(world, spec)
    with world.store.txn():
        if key not in world.store.objects:
            return {"deleted": False}
        world.store.remove(res, key)
    return {"deleted": True}


def _conditions(world, method: str, body: dict) -> dict:
    """Condition overrides."""
    ctl = world.controllers
    if method == "GET":
        return {"overrides": ctl.overrides()}
    if method == "POST":
        for field in ("apiVersion", "kind", "name", "type"):
            if not body.get(field):
                raise bad_request(f"condition override needs {field!r}")
        try:
            obj = ctl.set_override(body)
        except KeyError as exc:
            raise bad_request(str(exc)) from exc
        return {"object": obj, "overrides": ctl.overrides()}
    match = dict(body or {})
    if match.get("apiVersion"):
        match["group"] = match["apiVersion"].rpartition("/")[0]
    with world.store.txn():
        removed = ctl.clear_overrides(match)
        ctl.reconcile_kind(match.get("kind") or None)
    return {"removed": removed}


def _controllers(world, method: str, body: dict) -> dict:
    """Controller switches and delays."""
    if method == "GET":
        return world.controllers.settings
    if not body.get("kind"):
        raise bad_request("controller settings need 'kind' (a Kind name, or '*')")
    return world.controllers.configure(body["kind"], body.get("enabled"), body.get("delay"))


def _requests(world, method: str, rest: str) -> dict:
    """The request log."""
    if method == "DELETE":
        world.reset_requests()
        return {"count": 0}
    with world.log_lock:
        if rest == "count":
            return {"count": world.request_count}
        return {"count": world.request_count, "requests": list(world.requests)}


def _faults(world, method: str, body: dict) -> dict:
    """Injected errors and latency."""
    with world.log_lock:
        if method == "DELETE":
            world.faults.clear()
        elif method == "POST":
            if not body.get("path"):
                raise bad_request("a fault needs 'path' (a regular expression)")
            re.compile(body["path"])
            world.faults.append({"method": body.get("method"), "path": body["path"], "code": body.get("code"),
                                 "message": body.get("message", "injected fault"), "times": body.get("times"),
                                 "delay": body.get("delay", 0)})
        return {"faults": list(world.faults)}


def handle(world, method: str, path: str, q: dict, body) -> tuple[int, dict]:
    """Dispatch one admin request; returns (status code, JSON body)."""
    parts = path.strip("/").split("/")[1:]
    name, rest = (parts[0] if parts else ""), "/".join(parts[1:])
    body = body if isinstance(body, dict) else {}
    if name == "health":
        return 200, {"ok": True, "pid": os.getpid(), "resourceVersion": str(world.store.rv), "url": world.url}
    if name == "objects":
        if method == "GET":
            return 200, _list_objects(world, q)
        if method == "POST":
            return 200, _put_objects(world, body)
        if method == "DELETE":
            return 200, _delete_object(world, {**q, **body})
    if name == "conditions":
        return 200, _conditions(world, method, body)
    if name == "controllers":
        return 200, _controllers(world, method, body)
    if name == "requests":
        return 200, _requests(world, method, rest)
    if name == "faults":
        return 200, _faults(world, method, body)
    if name == "version":
        if method == "POST":
            world.set_version(body.get("gitVersion", ""))
        return 200, world.version_doc()
    raise path_not_found()


__all__ = ["ApiError", "handle"]
