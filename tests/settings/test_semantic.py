"""The semantic checks across settings files: fast, in-process, no doit subprocess."""
from __future__ import annotations

import pytest

from tasks.settings import semantic
from tests.project import REPO_ROOT
from tests.variants import cluster_of, shipped, variant  # noqa: F401  (fixtures)

TALOS = "bootstrap/values/talos.yaml"
CILIUM = "bootstrap/values/cilium.yaml"
KUBE_VIP = "bootstrap/values/kube-vip.yaml"


def run(check, variant, edit):
    return check(*variant(edit))


def test_shipped_settings_pass_every_check(shipped):
    assert semantic.semantic_problems(cluster_of(shipped), shipped) == []


def test_address_outside_subnet_names_file_path_and_line(variant, shipped):
    def edit(s):
        s["talos"]["nodes"][3]["address"] = "10.0.49.21"
    [problem] = run(semantic.addresses_in_subnet, variant, edit)
    assert (problem.file, problem.path, problem.found) == (TALOS, "nodes[3].address", "10.0.49.21")
    text = (REPO_ROOT / TALOS).read_text().splitlines()
    assert problem.line == shipped["talos"].line("nodes[3].address") == text.index("    address: 10.0.48.21") + 1
    assert "10.0.48.0/24" in problem.expected


def test_pool_start_after_stop(variant):
    def edit(s):
        s["cilium"]["loadBalancer"]["pool"].update(start="10.0.48.200", stop="10.0.48.50")
    [problem] = run(semantic.pool_is_ordered, variant, edit)
    assert (problem.file, problem.path, problem.found) == (CILIUM, "loadBalancer.pool.stop", "10.0.48.50")


def test_exclude_outside_pool(variant):
    def edit(s):
        s["cilium"]["loadBalancer"]["pool"]["exclude"] = ["10.0.48.55", "10.0.48.201"]
    [problem] = run(semantic.excludes_in_pool, variant, edit)
    assert problem.path == "loadBalancer.pool.exclude[1]" and problem.found == "10.0.48.201"


@pytest.mark.parametrize("edit, file, path, found_part", [
    (lambda s: s["talos"].update(endpoint="10.0.48.10"), TALOS, "endpoint", "10.0.48.10"),
    (lambda s: s["cilium"]["loadBalancer"]["pool"].update(exclude=[]), KUBE_VIP, "vip", "10.0.48.55"),
    (lambda s: (s["kube-vip"].update(vip="10.0.48.12"), s["talos"].update(endpoint="10.0.48.12")),
     KUBE_VIP, "vip", "node cp-2"),
], ids=["endpoint-not-vip", "vip-in-pool", "vip-is-node"])
def test_vip_placement(variant, edit, file, path, found_part):
    [problem] = run(semantic.vip_placement, variant, edit)
    assert (problem.file, problem.path) == (file, path) and found_part in problem.found


def test_duplicates_are_reported_at_the_later_node(variant):
    def edit(s):
        s["talos"]["nodes"][3].update(name="cp-1", address="10.0.48.12")
    problems = run(semantic.unique_nodes, variant, edit)
    assert [(p.path, p.expected) for p in problems] == [
        ("nodes[3].name", "a name no other node has"), ("nodes[3].address", "an address no other node has")]


@pytest.mark.parametrize("controlplanes, refused", [(1, False), (2, True), (3, False), (4, True), (0, True)])
def test_controlplane_quorum(variant, controlplanes, refused):
    def edit(s):
        for i, node in enumerate(s["talos"]["nodes"]):
            node["role"] = "controlplane" if i < controlplanes else "worker"
    problems = run(semantic.controlplane_quorum, variant, edit)
    assert bool(problems) is refused
    if refused:
        assert problems[0].path == "nodes" and problems[0].found == str(controlplanes)


def test_vlan_consistency(variant):
    def edit(s):
        s["cilium"]["loadBalancer"]["vlan"] = 49
        s["kube-vip"]["interface"] = "bond0"
    problems = run(semantic.vlan_consistency, variant, edit)
    assert [(p.file, p.path) for p in problems] == [(CILIUM, "loadBalancer.vlan"), (KUBE_VIP, "interface")]


@pytest.mark.parametrize("subnet, refused", [("10.43.0.0/28", False), ("10.43.0.0/29", True)])
def test_service_subnet_holds_the_dns_address(variant, subnet, refused):
    problems = run(semantic.service_subnet_holds_dns, variant,
                   lambda s: s["common"]["network"].update(serviceSubnet=subnet))
    assert bool(problems) is refused


def test_pod_subnet_overlapping_the_vlan(variant):
    [problem] = run(semantic.cluster_networks_disjoint, variant,
                    lambda s: s["common"]["network"].update(podSubnet="10.0.0.0/16"))
    assert problem.path == "network.podSubnet"


def test_bgp_needs_peers_only_when_enabled(variant):
    def no_peers(enabled):
        def edit(s):
            s["cilium"]["bgp"].pop("peers")
            s["cilium"]["bgp"]["enabled"] = enabled
        return edit
    assert run(semantic.bgp_complete, variant, no_peers(False)) == []
    assert [p.path for p in run(semantic.bgp_complete, variant, no_peers(True))] == ["bgp.peers"]


def test_acme_issuer_needs_its_settings(variant):
    def acme(settings):
        def edit(s):
            s["cert-manager"]["defaultIssuer"].update(type="acme", **settings)
        return edit
    assert [p.path for p in run(semantic.acme_complete, variant, acme({}))] == ["defaultIssuer.acme"]
    assert run(semantic.acme_complete, variant, acme({"acme": {"email": "a@b.c", "server": "https://x"}})) == []


def test_release_row_without_chart(variant):
    def edit(s):
        s["charts"]["releases"].append({"name": "metallb", "namespace": "metallb-system", "reads": ["common"]})
    [problem] = run(semantic.releases_have_charts, variant, edit)
    assert (problem.file, problem.path, problem.found) == ("bootstrap/charts.yaml", "releases[9].name", "'metallb'")


@pytest.mark.parametrize("talos, kubernetes, refused", [
    ("v1.13.9", "v1.31.0", False), ("v1.13.9", "v1.36.3", False), ("v1.13.9", "v1.30.9", True),
    ("v1.13.9", "v1.37.0", True), ("v1.12.11", "v1.36.0", True), ("v1.12.11", "v1.30.0", False),
])
def test_talos_and_kubernetes_must_be_a_supported_pair(variant, talos, kubernetes, refused):
    problems = run(semantic.kubernetes_supported, variant,
                   lambda s: s["talos"].update(talosVersion=talos, kubernetesVersion=kubernetes))
    assert bool(problems) is refused
    if refused:
        [problem] = problems
        assert (problem.file, problem.path, problem.found) == (TALOS, "kubernetesVersion", kubernetes)
        window = "v1.31.x to v1.36.x" if talos.startswith("v1.13") else "v1.30.x to v1.35.x"
        assert window in problem.expected


def test_an_unknown_talos_release_is_refused_naming_the_table(variant):
    [problem] = run(semantic.kubernetes_supported, variant, lambda s: s["talos"].update(talosVersion="v1.20.0"))
    assert problem.path == "talosVersion" and "v1.13.x" in problem.expected
    assert "tasks/settings/data/talos-kubernetes.yaml" in problem.hint


@pytest.mark.parametrize("workers, setting, refused", [(1, False, False), (0, "auto", False), (0, True, False),
                                                        (0, False, True)])
def test_something_must_schedule_the_releases(variant, workers, setting, refused):
    def edit(s):
        s["talos"]["nodes"] = [n for n in s["talos"]["nodes"] if n["role"] == "controlplane"][:3] + (
            [n for n in s["talos"]["nodes"] if n["role"] == "worker"][:workers])
        s["talos"]["schedulingOnControlPlanes"] = setting
    problems = run(semantic.something_schedules, variant, edit)
    assert bool(problems) is refused
    if refused:
        assert (problems[0].file, problems[0].path) == (TALOS, "schedulingOnControlPlanes")


@pytest.mark.parametrize("port, refused", [(29999, False), (30000, True), (30020, True), (32767, True), (32768, False)])
def test_spegel_host_port_stays_out_of_the_node_port_range(variant, port, refused):
    problems = run(semantic.spegel_port_outside_node_ports, variant, lambda s: s["spegel"].update(hostPort=port))
    assert bool(problems) is refused
