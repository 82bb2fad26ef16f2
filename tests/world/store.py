"""The fake API server's object store: the world's etcd plus the generic registry logic.

Objects are keyed by (group, plural, namespace, name) and stored once, whatever version they are read
at. Every write bumps one global resourceVersion, records a watch event and rewrites
``apiserver-state.json`` atomically (at the end of the request, after the simulated controllers ran),
so a restarted server continues where it stopped, like etcd. Stored objects are never mutated in
place (writes replace them), so watch history can share them.
"""
from __future__ import annotations

import collections
import contextlib
import copy
import datetime as dt
import json
import os
import pathlib
import random
import sys
import tempfile
import threading
import traceback
import uuid
from dataclasses import dataclass

from . import errors, patches, ssa, validation
from .defaults import DEFAULT_SERVICE_CIDR, apply_defaults, kubernetes_service_ip, validate_name
from .resources import BUILTIN, Registry, Resource, crd_resources
from .selectors import match_fields, match_labels, parse_fields, parse_labels

Key = tuple  # (group, plural, namespace, name)
STATE_VERSION = 1
GENERATION_GROUPS = {"apps", "batch", "apiextensions.k8s.io", "policy", "networking.k8s.io", "autoscaling",
                     "admissionregistration.k8s.io"}
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def now() -> str:
    """Current time in RFC 3339 (seconds, UTC), as the API prints timestamps."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Event:
    """One change, as watches stream it."""

    rv: int
    type: str  # ADDED, MODIFIED, DELETED
    group: str
    plural: str
    obj: dict
    old: dict | None


def _meta(obj: dict) -> dict:
    """The metadata map of an object (created if missing)."""
    return obj.setdefault("metadata", {})


def _random_suffix(n: int = 5) -> str:
    """generateName suffix alphabet of k8s.io/apiserver (no vowels, no confusing digits)."""
    return "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))


class Store:
    """Objects, resourceVersions, watch history, persistence and the simulated controllers' hook."""

    def __init__(self, state_file: pathlib.Path | str | None = None, history: int = 2000,
                 service_cidr: str = DEFAULT_SERVICE_CIDR):
        """Load state_file if it exists; otherwise start empty (call seed_defaults once controllers attach)."""
        self.service_cidr = service_cidr
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.state_file = pathlib.Path(state_file) if state_file else None
        self.objects: dict[Key, dict] = {}
        self._json_cache: dict[Key, str] = {}
        self.rv = 0
        self.events: collections.deque[Event] = collections.deque(maxlen=history)
        self.floor_rv = 0
        self.extra: dict = {}
        self.listeners: list = []
        self.closed = False
        self._registry: Registry | None = None
        self._pending: collections.deque[Event] = collections.deque()
        self._draining = False
        self._depth = 0
        self._dirty = False
        self.loaded = self._load()

    # ------------------------------------------------------------------ persistence

    def _load(self) -> bool:
        """Read the state file; True when state was loaded."""
        if not (self.state_file and self.state_file.exists()):
            return False
        data = json.loads(self.state_file.read_text())
        self.rv = int(data.get("resourceVersion", 0))
        self.floor_rv = self.rv
        self.extra = data.get("extra") or {}
        for item in data.get("objects") or []:
            obj = item["object"]
            key = (item["group"], item["plural"], _meta(obj).get("namespace", ""), _meta(obj)["name"])
            self.objects[key] = obj
        return True

    def _entry_json(self, key: Key) -> str:
        """Serialized state-file entry of one object (cached until the object changes)."""
        text = self._json_cache.get(key)
        if text is None:
            text = json.dumps({"group": key[0], "plural": key[1], "object": self.objects[key]},
                              separators=(",", ":"), sort_keys=True)
            self._json_cache[key] = text
        return text

    def save(self) -> None:
        """Write the state file atomically."""
        if not self.state_file:
            return
        body = ",".join(self._entry_json(k) for k in sorted(self.objects))
        text = (f'{{"version":{STATE_VERSION},"resourceVersion":{self.rv},'
                f'"extra":{json.dumps(self.extra, sort_keys=True)},"objects":[{body}]}}')
        fd, tmp = tempfile.mkstemp(prefix=".apiserver-state.", dir=self.state_file.parent)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, self.state_file)

    # ------------------------------------------------------------------ transactions and events

    @contextlib.contextmanager
    def txn(self):
        """Hold the lock for one logical operation; at the outermost exit run controllers and persist."""
        with self.lock:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._finish()

    def _finish(self) -> None:
        """Let listeners react to pending events, then persist if anything changed."""
        if self._draining:
            return
        self._draining = True
        try:
            while self._pending:
                event = self._pending.popleft()
                for listener in list(self.listeners):
                    try:
                        listener(event)
                    except Exception:  # a controller bug must not fail the client's request
                        traceback.print_exc(file=sys.stderr)
        finally:
            self._draining = False
        if self._dirty:
            self._dirty = False
            self.save()

    def mark_dirty(self) -> None:
        """Request a save at the end of the current transaction (for changes to self.extra)."""
        with self.txn():
            self._dirty = True

    def _commit(self, res: Resource, key: Key, new: dict | None, old: dict | None, kind: str) -> dict | None:
        """Store (or remove) an object, bump the resourceVersion and record the event."""
        self.rv += 1
        if new is not None:
            _meta(new)["resourceVersion"] = str(self.rv)
            self.objects[key] = new
        else:
            old = copy.deepcopy(old)
            _meta(old)["resourceVersion"] = str(self.rv)
            self.objects.pop(key, None)
        self._json_cache.pop(key, None)
        if len(self.events) == self.events.maxlen:
            self.floor_rv = max(self.floor_rv, self.events[0].rv)
        event = Event(self.rv, kind, res.group, res.plural, new if new is not None else old,
                      old if new is not None else None)
        self.events.append(event)
        self._pending.append(event)
        self._dirty = True
        if res.group == "apiextensions.k8s.io" and res.plural == "customresourcedefinitions":
            self._registry = None
        self.cond.notify_all()
        return new if new is not None else old

    def events_after(self, rv: int) -> list[Event]:
        """Events newer than rv (caller holds the lock); raises 410 Expired when rv is too old."""
        if rv < self.floor_rv:
            raise errors.resource_expired(f"too old resource version: {rv} ({self.floor_rv})")
        return [e for e in self.events if e.rv > rv]

    # ------------------------------------------------------------------ registry

    @property
    def registry(self) -> Registry:
        """Built-in resources plus those of established CRDs."""
        with self.lock:
            if self._registry is None:
                extra = []
                for crd in self.crds():
                    if condition(crd, "Established") == "True":
                        extra.extend(crd_resources(crd))
                self._registry = Registry([*BUILTIN, *extra])
            return self._registry

    def crds(self) -> list[dict]:
        """All stored CustomResourceDefinitions."""
        return [o for k, o in self.objects.items() if k[:2] == ("apiextensions.k8s.io", "customresourcedefinitions")]

    def resource_for(self, api_version: str, kind: str) -> Resource | None:
        """The resource of an apiVersion/kind, including CRDs that are not (yet) served."""
        res = self.registry.for_kind(api_version, kind)
        if res:
            return res
        group = api_version.rpartition("/")[0]
        for crd in self.crds():
            for r in crd_resources(crd):
                if r.group == group and r.kind == kind:
                    return r
        return None

    def _schema_of(self, res: Resource) -> dict | None:
        """The structural schema of a custom resource's version, or the table entry of a core kind."""
        if not res.custom:
            return validation.CORE_SCHEMAS.get(res.kind) if not res.group else None
        for crd in self.crds():
            spec = crd.get("spec") or {}
            if spec.get("group") == res.group and (spec.get("names") or {}).get("plural") == res.plural:
                return validation.version_schema(crd, res.version)
        return None

    def _typed_patch_check(self, res: Resource, namespace: str, name: str, applied: dict) -> None:
        """An apply patch of the wrong types fails its conversion to a typed object (500, reason Unknown)."""
        found = validation.typed_errors(applied, self._schema_of(res) or {})
        if found:
            where = f"{namespace}/{name}" if res.namespaced else f"/{name}"
            raise errors.ApiError(500, "", validation.typed_patch_message(where, res.api_version, res.kind, found))

    def _validate_custom(self, res: Resource, obj: dict) -> None:
        """A custom resource its CRD's schema refuses is a 422 Invalid, as on a cluster (world/validation.py)."""
        found = validation.field_errors(obj, self._schema_of(res) or {}) if res.custom else []
        if found:
            raise errors.invalid(res.group, res.kind, _meta(obj).get("name", ""), found)

    # ------------------------------------------------------------------ reads

    def view(self, res: Resource, obj: dict) -> dict:
        """A copy of a stored object as seen through res (apiVersion/kind of the request)."""
        out = copy.deepcopy(obj)
        out["apiVersion"], out["kind"] = res.api_version, res.kind
        return {"apiVersion": out.pop("apiVersion"), "kind": out.pop("kind"), **out}

    def _key(self, res: Resource, namespace: str, name: str) -> Key:
        """Storage key of an object."""
        return (res.group, res.plural, namespace if res.namespaced else "", name)

    def get(self, res: Resource, namespace: str, name: str) -> dict:
        """One object, or 404 NotFound."""
        with self.lock:
            obj = self.objects.get(self._key(res, namespace, name))
            if obj is None:
                raise errors.not_found(res.group, res.plural, name)
            return self.view(res, obj)

    def find(self, res: Resource, namespace: str, name: str) -> dict | None:
        """The stored object (not a copy) or None."""
        return self.objects.get(self._key(res, namespace, name))

    def matching(self, res: Resource, namespace: str = "", labels: str = "", fields: str = "") -> list[dict]:
        """Stored objects (not copies) of a resource, filtered by namespace and selectors, in key order."""
        reqs, terms = parse_labels(labels), parse_fields(fields, self.registry.field_labels(res))
        with self.lock:
            out = []
            for key in sorted(k for k in self.objects if k[0] == res.group and k[1] == res.plural):
                if namespace and res.namespaced and key[2] != namespace:
                    continue
                obj = self.objects[key]
                if match_labels(reqs, obj) and match_fields(terms, obj):
                    out.append(obj)
            return out

    def list(self, res: Resource, namespace: str = "", labels: str = "", fields: str = "") -> dict:
        """A LIST response body."""
        with self.lock:
            items = [self.view(res, o) for o in self.matching(res, namespace, labels, fields)]
            return {"kind": res.list_kind_name, "apiVersion": res.api_version,
                    "metadata": {"resourceVersion": str(self.rv)}, "items": items}

    # ------------------------------------------------------------------ writes

    def _check_namespace(self, res: Resource, namespace: str) -> None:
        """A namespaced create needs an existing, non-terminating namespace."""
        if not res.namespaced:
            return
        ns = self.objects.get(("", "namespaces", "", namespace))
        if ns is None:
            raise errors.not_found("", "namespaces", namespace)
        if _meta(ns).get("deletionTimestamp"):
            raise errors.ApiError(403, "Forbidden", f"{res.group_resource} \"{_meta(ns).get('name')}\" is forbidden: "
                                  f"unable to create new content in namespace {namespace} because it is being "
                                  f"terminated", {"name": "", "kind": res.plural})

    def _tracks_generation(self, res: Resource) -> bool:
        """Whether metadata.generation is maintained for this resource."""
        return res.custom or res.group in GENERATION_GROUPS

    def _spec_changed(self, res: Resource, old: dict, new: dict) -> bool:
        """True when anything but metadata (and status, with a status subresource) differs."""
        skip = {"metadata", "apiVersion", "kind"} | ({"status"} if "status" in res.subresources else set())
        pick = lambda o: {k: v for k, v in o.items() if k not in skip}
        return pick(old) != pick(new)

    def _used_ips(self) -> set[str]:
        """Cluster IPs already allocated."""
        return {(o.get("spec") or {}).get("clusterIP") for k, o in self.objects.items() if k[:2] == ("", "services")}

    def create(self, res: Resource, namespace: str, body: dict, *, manager: str = "", dry_run: bool = False,
               keep_status: bool = False, record: bool = True) -> dict:
        """POST: create a new object; 409 AlreadyExists when the name is taken."""
        with self.txn():
            obj = copy.deepcopy(body)
            meta = _meta(obj)
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + _random_suffix()
            validate_name(res, obj)
            if res.namespaced:
                if meta.get("namespace") and meta["namespace"] != namespace:
                    raise errors.bad_request("the namespace of the provided object does not match the namespace "
                                             "sent on the request")
                meta["namespace"] = namespace
                self._check_namespace(res, namespace)
            else:
                meta.pop("namespace", None)
            key = self._key(res, namespace, meta["name"])
            if key in self.objects:
                raise errors.already_exists(res.group, res.plural, meta["name"])
            obj["apiVersion"], obj["kind"] = res.api_version, res.kind
            if "status" in res.subresources and not keep_status and res.plural != "namespaces":
                obj.pop("status", None)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now()
            for field in ("resourceVersion", "deletionTimestamp", "selfLink"):
                meta.pop(field, None)
            if self._tracks_generation(res):
                meta["generation"] = 1
            apply_defaults(res, obj, self._used_ips(), self.service_cidr)
            self._validate_custom(res, obj)
            if record:
                ssa.record_update(None, obj, manager or "unknown", res.api_version, now())
            if dry_run:
                return self.view(res, obj)
            return self.view(res, self._commit(res, key, obj, None, "ADDED"))

    def _finalize_update(self, res: Resource, key: Key, live: dict, new: dict, subresource: str,
                         dry_run: bool) -> dict:
        """Common tail of PUT/PATCH/apply: keep identity, handle status, generation, no-ops and finalizers."""
        meta, live_meta = _meta(new), _meta(live)
        rv = meta.get("resourceVersion")
        if rv and rv != live_meta.get("resourceVersion"):
            raise errors.conflict(res.group, res.plural, live_meta["name"], errors.OPTIMISTIC_LOCK)
        for field in ("uid", "creationTimestamp", "name", "namespace", "deletionTimestamp", "generation"):
            if field in live_meta:
                meta[field] = live_meta[field]
            else:
                meta.pop(field, None)
        new["apiVersion"], new["kind"] = res.api_version, res.kind
        if subresource == "status":
            merged = copy.deepcopy(live)
            merged["status"] = new.get("status")
            if merged["status"] is None:
                merged.pop("status")
            _meta(merged)["managedFields"] = meta.get("managedFields", live_meta.get("managedFields"))
            new = merged
        elif "status" in res.subresources:
            if "status" in live:
                new["status"] = copy.deepcopy(live["status"])
            else:
                new.pop("status", None)
        apply_defaults(res, new, self._used_ips() - {(live.get("spec") or {}).get("clusterIP")}, self.service_cidr)
        self._validate_custom(res, new)
        if res.plural == "services" and (live.get("spec") or {}).get("clusterIP"):
            new.setdefault("spec", {})["clusterIP"] = live["spec"]["clusterIP"]
        if self._tracks_generation(res) and self._spec_changed(res, live, new):
            _meta(new)["generation"] = int(live_meta.get("generation") or 1) + 1
        if _strip_volatile(new) == _strip_volatile(live):
            return self.view(res, live)
        if dry_run:
            return self.view(res, new)
        if _meta(new).get("deletionTimestamp") and not _meta(new).get("finalizers"):
            self._commit(res, key, None, new, "DELETED")
            self._collect_dependents(new, "Background")
            return self.view(res, new)
        return self.view(res, self._commit(res, key, new, live, "MODIFIED"))

    def replace(self, res: Resource, namespace: str, name: str, body: dict, *, manager: str = "",
                subresource: str = "", dry_run: bool = False) -> dict:
        """PUT: replace an object (404 when missing)."""
        with self.txn():
            key = self._key(res, namespace, name)
            live = self.objects.get(key)
            if live is None:
                raise errors.not_found(res.group, res.plural, name)
            body_name = _meta(body).get("name")
            if body_name and body_name != name:
                raise errors.bad_request(f"the name of the object ({body_name}) does not match the name on the URL ({name})")
            new = copy.deepcopy(body)
            ssa.record_update(live, new, manager or "unknown", res.api_version, now(), subresource)
            return self._finalize_update(res, key, live, new, subresource, dry_run)

    def patch(self, res: Resource, namespace: str, name: str, patch_type: str, body, *, manager: str = "",
              force: bool = False, subresource: str = "", dry_run: bool = False) -> tuple[dict, bool]:
        """PATCH (apply, merge, strategic, json); returns (object, created)."""
        with self.txn():
            key = self._key(res, namespace, name)
            live = self.objects.get(key)
            if patch_type == "apply":
                return self._apply(res, namespace, name, key, live, body, manager, force, subresource, dry_run)
            if live is None:
                raise errors.not_found(res.group, res.plural, name)
            current = self.view(res, live)
            if patch_type == "merge":
                new = patches.merge_patch(current, body)
            elif patch_type == "strategic":
                if res.custom:
                    raise errors.unsupported_media_type("application/strategic-merge-patch+json", [
                        "application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"])
                new = patches.strategic_merge_patch(current, body)
            elif patch_type == "json":
                new = patches.json_patch(current, body)
            else:
                raise errors.bad_request(f"unknown patch type {patch_type}")
            if not isinstance(new, dict):
                raise errors.bad_request("patch did not produce an object")
            ssa.record_update(live, new, manager or "unknown", res.api_version, now(), subresource)
            return self._finalize_update(res, key, live, new, subresource, dry_run), False

    def _apply(self, res, namespace, name, key, live, body, manager, force, subresource, dry_run):
        """Server-side apply: create when missing, otherwise merge with field ownership."""
        if not isinstance(body, dict):
            raise errors.bad_request("apply patch must be an object")
        body_name = _meta(body).get("name")
        if body_name and body_name != name:
            raise errors.bad_request(f"the name of the object ({body_name}) does not match the name on the URL ({name})")
        applied = copy.deepcopy(body)
        self._typed_patch_check(res, namespace, name, applied)
        for field in ("resourceVersion", "uid", "creationTimestamp", "managedFields", "generation"):
            _meta(applied).pop(field, None)
        if subresource == "status":
            applied = {k: v for k, v in applied.items() if k in ("apiVersion", "kind", "metadata", "status")}
        elif "status" in res.subresources:
            applied.pop("status", None)
        manager = manager or "unknown"
        if live is None:
            if subresource:
                raise errors.not_found(res.group, res.plural, name)
            obj = ssa.apply(None, applied, manager, res.api_version, force, now())
            _meta(obj).setdefault("name", name)
            return self.create(res, namespace, obj, manager=manager, dry_run=dry_run, record=False), True
        merged = ssa.apply(self.view(res, live), applied, manager, res.api_version, force, now(), subresource)
        _meta(merged)["resourceVersion"] = _meta(live).get("resourceVersion")
        return self._finalize_update(res, key, live, merged, subresource, dry_run), False

    def delete(self, res: Resource, namespace: str, name: str, *, propagation: str = "Background",
               dry_run: bool = False) -> dict:
        """DELETE: remove the object (or mark it terminating while it has finalizers)."""
        with self.txn():
            key = self._key(res, namespace, name)
            live = self.objects.get(key)
            if live is None:
                raise errors.not_found(res.group, res.plural, name)
            if dry_run:
                return self.view(res, live)
            if _meta(live).get("finalizers"):
                if _meta(live).get("deletionTimestamp"):
                    return self.view(res, live)
                new = copy.deepcopy(live)
                _meta(new)["deletionTimestamp"] = now()
                _meta(new)["deletionGracePeriodSeconds"] = 0
                if res.plural == "namespaces" and not res.group:
                    new.setdefault("status", {})["phase"] = "Terminating"
                return self.view(res, self._commit(res, key, new, live, "MODIFIED"))
            return self.view(res, self.remove(res, key, propagation))

    def remove(self, res: Resource, key: Key, propagation: str = "Background") -> dict:
        """Remove a stored object now, with its namespace content and dependents (caller holds a txn)."""
        live = self.objects[key]
        gone = self._commit(res, key, None, live, "DELETED")
        if res.group == "" and res.plural == "namespaces":
            for k in [k for k in self.objects if k[2] == key[3] and k[2]]:
                if k in self.objects:
                    self.remove(self._res_of(k), k, propagation)
        if res.group == "apiextensions.k8s.io" and res.plural == "customresourcedefinitions":
            spec = live.get("spec") or {}
            group, plural = spec.get("group"), (spec.get("names") or {}).get("plural")
            for k in [k for k in self.objects if k[0] == group and k[1] == plural]:
                self.remove(self._res_of(k), k, propagation)
        if propagation != "Orphan":
            self._collect_dependents(live, propagation)
        return gone

    def _collect_dependents(self, owner: dict, propagation: str) -> None:
        """Garbage-collect objects whose ownerReferences point at owner's uid."""
        uid = _meta(owner).get("uid")
        for k in [k for k, o in self.objects.items()
                  if any(r.get("uid") == uid for r in _meta(o).get("ownerReferences") or [])]:
            if k in self.objects:
                self.remove(self._res_of(k), k, propagation)

    def _res_of(self, key: Key) -> Resource:
        """A resource for a storage key (any served version; a stub for unserved CRDs)."""
        group, plural = key[0], key[1]
        for r in self.registry.resources:
            if r.group == group and r.plural == plural:
                return r
        obj = self.objects.get(key) or {}
        return Resource(group, "v1", obj.get("kind", ""), plural, bool(key[2]), custom=True)

    def delete_collection(self, res: Resource, namespace: str, labels: str = "", fields: str = "") -> dict:
        """DELETE on a collection: delete every matching object."""
        with self.txn():
            items = []
            for obj in self.matching(res, namespace, labels, fields):
                m = _meta(obj)
                items.append(self.delete(res, m.get("namespace", ""), m["name"]))
            return {"kind": res.list_kind_name, "apiVersion": res.api_version,
                    "metadata": {"resourceVersion": str(self.rv)}, "items": items}

    # ------------------------------------------------------------------ raw access (controllers, admin)

    def put_raw(self, res: Resource, obj: dict) -> dict:
        """Store an object as given (status kept), creating or replacing it."""
        with self.txn():
            meta = _meta(obj)
            key = self._key(res, meta.get("namespace", ""), meta["name"])
            live = self.objects.get(key)
            if live is None:
                if res.namespaced and ("", "namespaces", "", meta.get("namespace", "")) not in self.objects:
                    self.create(BUILTIN_NS, "", {"metadata": {"name": meta.get("namespace") or "default"}},
                                manager="world")
                return self.create(res, meta.get("namespace", ""), obj, manager="world", keep_status=True)
            new = copy.deepcopy(obj)
            new["apiVersion"], new["kind"] = res.api_version, res.kind
            for field in ("uid", "creationTimestamp"):
                _meta(new).setdefault(field, _meta(live).get(field))
            _meta(new).pop("resourceVersion", None)
            if _strip_volatile(new) == _strip_volatile(live):
                return self.view(res, live)
            return self.view(res, self._commit(res, key, new, live, "MODIFIED"))

    def write_status(self, res: Resource, key: Key, status: dict) -> None:
        """Controllers: replace an object's status when it differs (no-op otherwise)."""
        with self.txn():
            live = self.objects.get(key)
            if live is None or live.get("status") == status:
                return
            new = copy.deepcopy(live)
            new["status"] = copy.deepcopy(status)
            self._commit(res, key, new, live, "MODIFIED")

    def write_object(self, res: Resource, key: Key, new: dict) -> None:
        """Controllers: replace a stored object when it differs (no-op otherwise)."""
        with self.txn():
            live = self.objects.get(key)
            if live is None or _strip_volatile(new) == _strip_volatile(live):
                return
            self._commit(res, key, copy.deepcopy(new), live, "MODIFIED")

    def seed_defaults(self) -> None:
        """The objects a fresh cluster has: system namespaces and the kubernetes Service."""
        with self.txn():
            for ns in DEFAULT_NAMESPACES:
                if ("", "namespaces", "", ns) not in self.objects:
                    self.create(BUILTIN_NS, "", {"metadata": {"name": ns}}, manager="kube-apiserver")
            svc = {"metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
                   "spec": {"clusterIP": kubernetes_service_ip(self.service_cidr), "ports": [{"name": "https", "port": 443, "targetPort": 6443}]}}
            if ("", "services", "default", "kubernetes") not in self.objects:
                self.create(BUILTIN_SVC, "default", svc, manager="kube-apiserver")


BUILTIN_NS = next(r for r in BUILTIN if r.group == "" and r.plural == "namespaces")
BUILTIN_SVC = next(r for r in BUILTIN if r.group == "" and r.plural == "services")


def _strip_volatile(obj: dict) -> dict:
    """An object without the fields that change on every write (for no-op detection)."""
    out = dict(obj)
    meta = dict(out.get("metadata") or {})
    for field in ("resourceVersion", "managedFields"):
        meta.pop(field, None)
    out["metadata"] = meta
    return out


def condition(obj: dict, ctype: str) -> str | None:
    """Status ('True'/'False'/...) of a condition type on an object, or None."""
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return cond.get("status")
    return None
