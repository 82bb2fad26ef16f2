"""Helm release storage: each release Secret read once and remembered by its digest, values known by
digest only."""
from __future__ import annotations

import base64
import gzip
import json

from tasks.facts import releases

MANIFEST = """---
# Source: spegel/templates/daemonset.yaml
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: spegel
  namespace: spegel
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: spegel
"""
SECRET_VALUE = "hunter2-canary"


def stored(version: int = 1, manifest: str = MANIFEST, values: dict | None = None) -> dict:
    """A release storage Secret as helm writes it (base64 of base64 of gzip of JSON)."""
    release = {"name": "spegel", "namespace": "spegel", "version": version, "info": {"status": "deployed"},
               "chart": {"metadata": {"version": "0.7.4"}}, "manifest": manifest,
               "config": values if values is not None else {"token": SECRET_VALUE, "replicas": 2}}
    packed = base64.b64encode(gzip.compress(json.dumps(release).encode())).decode()
    return {"kind": "Secret", "type": "helm.sh/release.v1", "data": {"release": base64.b64encode(packed.encode()).decode()}}


def test_a_release_is_read_once_and_remembered_between_runs(tmp_path, monkeypatch):
    """The second run takes the reading from build/ and never parses the manifest again; what is
    kept holds no value (only its digest)."""
    where = tmp_path / "release-facts.json"
    first = releases.ReleaseMemo(where)
    fact = releases.decode(stored(), first)
    first.save()
    assert fact.objects == (("DaemonSet", "spegel", "spegel"), ("ServiceAccount", "", "spegel"))
    assert fact.values_digest == releases.values_digest({"replicas": 2, "token": SECRET_VALUE})
    assert SECRET_VALUE not in where.read_text()
    monkeypatch.setattr(releases, "manifest_objects", lambda text: (("Wrong", "", "parsed"),))
    assert releases.decode(stored(), releases.ReleaseMemo(where)) == fact
    assert releases.decode(stored(version=2), releases.ReleaseMemo(where)).objects == (("Wrong", "", "parsed"),)


def test_the_memo_keeps_only_what_the_run_read(tmp_path):
    """Revisions no longer asked for drop out, so history never grows the file."""
    where = tmp_path / "release-facts.json"
    old = releases.ReleaseMemo(where)
    releases.decode(stored(version=1), old)
    old.save()
    new = releases.ReleaseMemo(where)
    releases.decode(stored(version=2), new)
    new.save()
    kept = json.loads(where.read_text())
    assert [row["revision"] for row in kept.values()] == [2]


def test_a_damaged_memo_is_ignored_and_the_release_decoded(tmp_path):
    """Garbage or wrongly shaped entries never become facts: the Secret is decoded instead."""
    where = tmp_path / "release-facts.json"
    key = releases.ReleaseMemo.key(stored()["data"]["release"])
    for damaged in ("{not json", json.dumps([1, 2]), json.dumps({key: {"name": "x"}}),
                    json.dumps({key: {"name": 1, "namespace": "", "status": "", "chart_version": "",
                                      "values_digest": "", "revision": 1, "objects": []}}),
                    json.dumps({key: {"name": "x", "namespace": "", "status": "", "chart_version": "",
                                      "values_digest": "", "revision": 1, "objects": [["Kind", "x"]]}}),
                    json.dumps({key: {"name": "x", "namespace": "", "status": "", "chart_version": "",
                                      "values_digest": "", "revision": 1, "objects": ["abc"]}})):
        where.write_text(damaged)
        assert releases.decode(stored(), releases.ReleaseMemo(where)).name == "spegel"


def test_values_compare_as_helm_stores_them():
    """Helm keeps values as JSON: 2.0 is 2 and keys are strings; a real difference still differs."""
    assert releases.values_digest({"a": 2.0, 1: "x"}) == releases.values_digest({"a": 2, "1": "x"})
    assert releases.values_digest({"a": True}) != releases.values_digest({"a": 1})
    assert releases.values_digest({"a": "2"}) != releases.values_digest({"a": 2})
    assert releases.values_digest(None) == releases.values_digest({})
