"""A Flux Kustomization's spec.patches: strategic merge on custom resources, JSON 6902, target selection."""
from __future__ import annotations

from tasks.settings import fluxpatch
from tasks.settings.gitops import SourcedObject


def oci(name: str, labels=None) -> SourcedObject:
    return SourcedObject("oci.yaml", 0, {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
                                         "metadata": {"name": name, "namespace": "flux-system", "labels": labels or {}},
                                         "spec": {"ref": {"tag": "1.0.0"}, "url": "oci://x/y", "list": [1, 2]}})


def test_json6902_on_the_targets_it_selects():
    patch = {"target": {"kind": "OCIRepository", "name": "cil.*", "labelSelector": "tier=net"},
             "patch": "- {op: replace, path: /spec/ref/tag, value: 2.0.0}\n- {op: add, path: /spec/list/-, value: 3}\n"
                      "- {op: remove, path: /spec/url}\n"}
    objects, warnings = fluxpatch.apply([patch], [oci("cilium", {"tier": "net"}), oci("cilium-2"), oci("other")],
                                        "ks.yaml: Kustomization flux-system/apps", "ks.yaml (spec.patches)")
    assert warnings == []
    assert objects[0].obj["spec"] == {"ref": {"tag": "2.0.0"}, "list": [1, 2, 3]}
    assert objects[0].via == "ks.yaml (spec.patches)"
    assert [o.obj["spec"]["ref"]["tag"] for o in objects[1:]] == ["1.0.0", "1.0.0"]     # label or name not selected


def test_strategic_merge_without_a_target_selects_its_own_kind_and_name():
    patch = {"patch": "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata: {name: cilium}\n"
                      "spec: {ref: {tag: 2.0.0}, list: [9], url: null}\n"}
    objects, _ = fluxpatch.apply([patch], [oci("cilium"), oci("other")], "w", "v")
    assert objects[0].obj["spec"] == {"ref": {"tag": "2.0.0"}, "list": [9]}
    assert objects[1].obj["spec"]["ref"]["tag"] == "1.0.0"


def test_a_patch_that_cannot_apply_is_a_warning_naming_it():
    patch = {"target": {"kind": "OCIRepository"}, "patch": "- {op: move, from: /a, path: /b}\n"}
    objects, warnings = fluxpatch.apply([patch], [oci("cilium")], "ks.yaml: Kustomization flux-system/apps", "v")
    assert objects[0].obj["spec"]["ref"]["tag"] == "1.0.0"
    assert warnings == ["ks.yaml: Kustomization flux-system/apps: spec.patches[0] not applied (operation 'move' is "
                        "not evaluated); the check reads the objects unpatched"]
