"""The Talos roll's pure decisions: --preserve only where the legacy API carries it for a lone member;
the parsers of etcd output on what talosctl prints (the world's tests cover the live shapes)."""
from __future__ import annotations

from tasks.apply.roll import preserve_flags
from tasks.facts.talos import control_plane_versions, image_tag


def test_preserve_only_for_a_lone_member_on_a_node_older_than_v1_13():
    assert preserve_flags(True, "v1.12.11") == ["--preserve"]
    assert preserve_flags(True, "v1.13.8") == []
    assert preserve_flags(False, "v1.12.11") == []
    assert preserve_flags(True, "") == []


def test_control_plane_versions_read_the_images_at_any_indentation():
    config = ("machine:\n  kubelet:\n    image: ghcr.io/siderolabs/kubelet:v1.34.1\ncluster:\n    apiServer:\n"
              "        image: registry.k8s.io/kube-apiserver:v1.35.0\n        certSANs:\n            - 10.0.0.1\n"
              "    controllerManager:\n        image: registry.k8s.io/kube-controller-manager:v1.35.0@sha256:ab\n"
              "    proxy:\n        image: registry.k8s.io/kube-proxy:v1.30.0\n")
    assert control_plane_versions(config) == (("kube-apiserver", "v1.35.0"), ("kube-controller-manager", "v1.35.0"))
    assert image_tag("localhost:5000/kube-apiserver") == "" and image_tag("repo/x:v1@sha256:1") == "v1"
