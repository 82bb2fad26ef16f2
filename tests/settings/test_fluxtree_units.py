"""fluxtree on tiny trees written by the test: targetNamespace, substituteFrom a Secret, sources elsewhere."""
from __future__ import annotations

import base64

from tasks.settings import fluxtree

SYNC = {"kind": "GitRepository", "path": "cluster"}


def write(root, files: dict[str, str]):
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return fluxtree.reconcile(root, SYNC, "flux-system", ("cilium",), "flux-instance.yaml")


def ks(name: str, path: str, extra: str = "", source: str = "flux-system") -> str:
    return (f"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {{name: {name}, "
            f"namespace: flux-system}}\nspec:\n  path: {path}\n  sourceRef: {{kind: GitRepository, name: {source}}}\n"
            + extra)


OCI = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata: {name: cilium}\nspec:\n  ref: {tag: '${V}'}\n"


def by_kind(tree, kind):
    return [o for o in tree.objects if o.kind == kind]


def test_target_namespace_sets_every_namespaced_object(tmp_path):
    tree = write(tmp_path, {"cluster/ks.yaml": ks("app", "./apps", "  targetNamespace: kube-system\n"),
                            "apps/oci.yaml": OCI,
                            "apps/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n"})
    [oci] = by_kind(tree, "OCIRepository")
    assert oci.namespace == "kube-system" and by_kind(tree, "Namespace")[0].namespace == ""
    assert tree.kustomizations == ["flux-system/flux-system", "flux-system/app"]


def test_substitute_from_a_secret_inline_wins(tmp_path):
    secret = ("apiVersion: v1\nkind: Secret\nmetadata: {name: vars, namespace: flux-system}\n"
              f"data: {{V: {base64.b64encode(b'1.19.4').decode()}, W: {base64.b64encode(b'x').decode()}}}\n")
    post = "  postBuild:\n    substitute: {W: inline}\n    substituteFrom: [{kind: Secret, name: vars}]\n"
    tree = write(tmp_path, {"cluster/ks.yaml": ks("app", "./apps", post), "cluster/secret.yaml": secret,
                            "apps/oci.yaml": OCI.replace("'${V}'", "'${V}-${W}-${X:=d}'")})
    [oci] = by_kind(tree, "OCIRepository")
    assert oci.obj["spec"]["ref"]["tag"] == "1.19.4-inline-d" and oci.unresolved == ()


def test_without_post_build_a_variable_stays_and_says_why(tmp_path):
    tree = write(tmp_path, {"cluster/ks.yaml": ks("app", "./apps"), "apps/oci.yaml": OCI})
    [oci] = by_kind(tree, "OCIRepository")
    assert oci.obj["spec"]["ref"]["tag"] == "${V}"
    assert oci.unresolved == (("V", "nowhere: Kustomization flux-system/app (" + oci.file.replace("apps/oci.yaml", "")
                               + "cluster/ks.yaml) sets no post-build variables, so Flux applies it as written"),)


def test_a_kustomization_of_another_source_is_not_followed(tmp_path):
    tree = write(tmp_path, {"cluster/ks.yaml": ks("other", "./apps", source="other-repo"), "apps/oci.yaml": OCI})
    assert by_kind(tree, "OCIRepository") == []
    assert tree.warnings[0].endswith("Kustomization flux-system/other reconciles GitRepository "
                                     "flux-system/other-repo, not this tree: not followed")
