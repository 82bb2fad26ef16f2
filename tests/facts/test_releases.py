"""Helm release storage: the objects of a stored manifest, parsed once and remembered by its digest."""
from __future__ import annotations

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


def test_the_objects_of_a_manifest_are_remembered_between_runs(tmp_path, monkeypatch):
    """A second run reads the objects from the memo and never parses the manifest again."""
    where = tmp_path / "release-objects.json"
    first = releases.ObjectsMemo(where)
    parsed = first.objects(MANIFEST)
    first.save()
    assert parsed == (("DaemonSet", "spegel", "spegel"), ("ServiceAccount", "", "spegel"))
    monkeypatch.setattr(releases, "manifest_objects", lambda text: (("Wrong", "", "parsed"),))
    assert releases.ObjectsMemo(where).objects(MANIFEST) == parsed
    assert releases.ObjectsMemo(where).objects(MANIFEST + "\n# changed\n") == (("Wrong", "", "parsed"),)


def test_the_memo_keeps_only_what_the_run_used(tmp_path):
    """Manifests of revisions no longer asked for drop out, so history never grows the file."""
    where = tmp_path / "release-objects.json"
    old = releases.ObjectsMemo(where)
    old.objects("kind: ConfigMap\nmetadata: {name: old}\n")
    old.save()
    new = releases.ObjectsMemo(where)
    new.objects(MANIFEST)
    new.save()
    kept = json.loads(where.read_text())
    assert len(kept) == 1 and ["DaemonSet", "spegel", "spegel"] in next(iter(kept.values()))


def test_a_damaged_memo_is_ignored_and_the_manifest_parsed(tmp_path):
    """Garbage or wrongly shaped entries never become objects: the manifest is parsed instead."""
    where = tmp_path / "release-objects.json"
    for damaged in ("{not json", json.dumps({"k": "v"}), json.dumps([1, 2])):
        where.write_text(damaged)
        assert releases.ObjectsMemo(where).objects(MANIFEST)[0] == ("DaemonSet", "spegel", "spegel")
    import hashlib
    where.write_text(json.dumps({hashlib.sha256(MANIFEST.encode()).hexdigest(): [["DaemonSet", "x"]]}))
    assert releases.ObjectsMemo(where).objects(MANIFEST)[0] == ("DaemonSet", "spegel", "spegel")
