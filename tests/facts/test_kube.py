"""Kubernetes facts: Helm release storage decoded, Secret values reduced to digests."""
from __future__ import annotations

import base64
import gzip
import json

from tasks.facts import kube, releases

def _release_secret(name: str, version: int, status: str, chart_version: str, values: dict) -> dict:
    release = {"name": name, "namespace": "kube-system", "version": version, "info": {"status": status},
               "chart": {"metadata": {"version": chart_version}}, "config": values}
    packed = base64.b64encode(gzip.compress(json.dumps(release).encode())).decode()
    return {"kind": "Secret", "type": "helm.sh/release.v1",
            "metadata": {"name": f"sh.helm.release.v1.{name}.v{version}", "namespace": "kube-system"},
            "data": {"release": base64.b64encode(packed.encode()).decode()}}

def test_helm_release_storage_is_decoded_and_the_newest_revision_wins():
    """Release Secrets become ReleaseFacts; other Secrets keep only digests of their values."""
    found = kube.KubeFacts(True)
    kube.absorb(found, [_release_secret("cilium", 2, "deployed", "1.19.4", {"a": 2}),
                          _release_secret("cilium", 1, "superseded", "1.19.3", {"a": 1}),
                          {"kind": "Secret", "metadata": {"name": "s", "namespace": "x"}, "data": {"k": "c2VjcmV0"}}])
    assert found.releases["cilium"].status == "deployed"
    assert found.releases["cilium"].chart_version == "1.19.4" and found.releases["cilium"].values_digest == releases.values_digest({"a": 2})
    kept = found.get("Secret", "s", "x")
    assert kept["data"]["k"] == kube.digest("c2VjcmV0") and "c2VjcmV0" not in json.dumps(kept)
