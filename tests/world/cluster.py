"""The cluster as the simulated controllers read and write it: lookups by path or kind, pods and nodes,
server-side apply and deletes, on top of the store."""
from __future__ import annotations

from . import errors
from .objects import condition, owned_by, ready
from .resources import Resource
from .store import Store, _meta


class ClusterView:
    """Read and write helpers over a store, shared by every handler."""

    store: Store

    def resource(self, group: str, version: str, plural: str) -> Resource:
        """A served resource by path."""
        return self.store.registry.lookup(group, version, plural)

    def get(self, group: str, version: str, plural: str, namespace: str, name: str) -> dict | None:
        """A stored object by path, or None (also when its resource is not served)."""
        res = self.store.registry.lookup(group, version, plural)
        return None if res is None else self.store.find(res, namespace if res.namespaced else "", name)

    def get_kind(self, api_version: str, kind: str, namespace: str, name: str) -> dict | None:
        """A stored object by apiVersion and kind, or None."""
        res = self.store.registry.for_kind(api_version, kind)
        return None if res is None else self.store.find(res, namespace if res.namespaced else "", name)

    def list(self, group: str, version: str, plural: str, namespace: str = "") -> list[dict]:
        """Stored objects of a served resource (in a namespace)."""
        res = self.store.registry.lookup(group, version, plural)
        return [] if res is None else self.store.matching(res, namespace)

    def children(self, res: Resource, namespace: str, owner: dict) -> list[dict]:
        """Stored objects of res in namespace controlled by owner."""
        return [o for o in self.store.matching(res, namespace) if owned_by(o, owner)]

    def owned_pods(self, owner: dict) -> list[dict]:
        """The pods owner controls."""
        return self.children(self.resource("", "v1", "pods"), _meta(owner)["namespace"], owner)

    def pods(self) -> list[dict]:
        """All stored Pods."""
        return self.list("", "v1", "pods")

    def nodes(self) -> list[dict]:
        """All stored Nodes."""
        return self.list("", "v1", "nodes")

    def node(self, name: str) -> dict | None:
        """One Node, or None."""
        return self.get("", "v1", "nodes", "", name)

    def endpoints(self, namespace: str, name: str) -> tuple[list[dict], list[dict]]:
        """(pods the Service selects, those ready): the endpoints controller's view; ([], []) without
        the Service or its selector."""
        selector = ((self.get("", "v1", "services", namespace, name) or {}).get("spec") or {}).get("selector")
        if not selector:
            return [], []
        selected = [p for p in self.list("", "v1", "pods", namespace)
                    if all((_meta(p).get("labels") or {}).get(k) == v for k, v in selector.items())]
        return selected, [p for p in selected if ready(p)]

    def deployment_available(self, namespace: str | None, name: str) -> bool:
        """Whether a Deployment of that name (in the namespace, or any) reports Available=True."""
        return any(_meta(d)["name"] == name and condition(d, "Available") == "True"
                   for d in self.list("apps", "v1", "deployments", namespace or ""))

    def apply(self, body: dict, manager: str) -> None:
        """Server-side apply with force, as operators do; skipped while the kind is not served."""
        res = self.store.registry.for_kind(body["apiVersion"], body["kind"])
        if res is not None:
            namespace = body["metadata"].get("namespace", "") if res.namespaced else ""
            self.store.patch(res, namespace, body["metadata"]["name"], "apply", body, manager=manager, force=True)

    def delete_kind(self, api_version: str, kind: str, namespace: str, name: str) -> None:
        """Delete an object if it exists (background propagation)."""
        res = self.store.registry.for_kind(api_version, kind)
        try:
            if res is not None:
                self.store.delete(res, namespace if res.namespaced else "", name)
        except errors.ApiError:
            pass


