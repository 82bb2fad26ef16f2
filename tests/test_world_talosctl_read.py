"""The fake talosctl's read commands (get, version, service, etcd members/status), checked against
siderolabs/talos v1.13.9 (file and function in each test's docstring)."""
from __future__ import annotations

import json

import yaml

from tests.world import talos_state as st
from tests.world.fake_testkit import machine_config
from tests.world.talos_testkit import (CP1, CP2, WK1, bootstrapped, configs, configure_all,  # noqa: F401
                                       insecure_apply, world)

UNREACHABLE = ('rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: '
               'dial tcp {}:50000: connect: no route to host"')
UNKNOWN_CA = ('rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake '
              'failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"')


def _json_objects(text: str) -> list[dict]:
    """Concatenated indented JSON objects (output/json.go: one Encode per resource)."""
    decoder, items, index = json.JSONDecoder(), [], 0
    while index < len(text.rstrip()):
        item, index = decoder.raw_decode(text, index)
        items.append(item)
        index += 1
    return items


# ---------------------------------------------------------------- get

def test_get_json_is_one_indented_object_per_resource(bootstrapped):
    """output/json.go: yaml round trip of {metadata, spec} plus "node", json.Encoder SetIndent("", "    ")."""
    result = bootstrapped.talosctl("get", "machinestatus", "-n", f"{CP1},{CP2}", "-o", "json")
    assert (result.returncode, result.stderr) == (0, "")
    items = _json_objects(result.stdout)
    assert [i["node"] for i in items] == [CP1, CP2]
    assert list(items[0]) == ["metadata", "node", "spec"]
    assert result.stdout.startswith('{\n    "metadata": {\n        "created": "')
    md = items[0]["metadata"]
    assert (md["namespace"], md["type"], md["id"], md["owner"], md["phase"]) == (
        "runtime", "MachineStatuses.runtime.talos.dev", "machine", "runtime.MachineStatusController", "running")
    assert isinstance(md["version"], int) and md["created"].endswith("Z")
    assert items[0]["spec"]["stage"] == "running"


def test_get_across_nodes_keeps_answers_and_appends_errors_without_node_prefix(bootstrapped):
    """get.go callbackResource: callError appended as-is (One2One status, no "<node>: "); resources of
    the other nodes on stdout; multierror on stderr; exit 1."""
    st.set_node(bootstrapped.dir, CP2, unreachable=True)
    result = bootstrapped.talosctl("get", "machinestatus", "-n", f"{CP1},{CP2},{WK1}", "-o", "json")
    assert result.returncode == 1
    assert [i["node"] for i in _json_objects(result.stdout)] == [CP1, WK1]
    assert result.stderr == f"1 error occurred:\n\t* {UNREACHABLE.format(CP2)}\n\n\n"


def test_get_fails_whole_when_the_first_node_is_down(bootstrapped):
    """helpers/resources.go ForEachResource: the RD comes from the first node; its error is returned raw."""
    st.set_node(bootstrapped.dir, CP2, unreachable=True)
    result = bootstrapped.talosctl("get", "machinestatus", "-n", f"{CP2},{CP1}", "-o", "json")
    assert (result.returncode, result.stdout, result.stderr) == (1, "", UNREACHABLE.format(CP2) + "\n")


def test_get_maintenance_node_through_a_configured_endpoint_is_a_tls_error(world, configs):
    insecure_apply(world, CP1, configs[CP1])
    result = world.talosctl("get", "machinestatus", "-n", f"{CP1},{CP2}")
    assert result.returncode == 1 and result.stderr == f"1 error occurred:\n\t* {UNKNOWN_CA}\n\n\n"
    assert result.stdout.splitlines()[0].split() == ["NODE", "NAMESPACE", "TYPE", "ID", "VERSION", "STAGE", "READY"]
    assert result.stdout.splitlines()[1].split()[:4] == [CP1, "runtime", "MachineStatus", "machine"]


def test_get_yaml_separates_resources_and_prints_node_first(bootstrapped):
    """output/yaml.go: "---" before all but the first, "node: %s", yaml.v4 encoder (indent 4)."""
    result = bootstrapped.talosctl("get", "version", "-n", f"{CP1},{CP2}", "-o", "yaml")
    docs = result.stdout.split("---\n")
    assert len(docs) == 2 and docs[0].startswith(f"node: {CP1}\nmetadata:\n    namespace: runtime\n"
                                                 "    type: Versions.runtime.talos.dev\n    id: version\n")
    assert docs[0].endswith("spec:\n    name: Talos\n    version: v1.13.9\n")
    assert yaml.safe_load(docs[1].split("\n", 1)[1])["metadata"]["owner"] == "runtime.VersionController"


def test_get_version_table_from_the_first_nodes_definition(bootstrapped):
    """runtime/version.go: columns NAME, VERSION on v1.13 (header has VERSION twice); v1.12 has VERSION only."""
    table = bootstrapped.talosctl("get", "version", "-n", CP1).stdout.splitlines()
    assert table[0].split() == ["NODE", "NAMESPACE", "TYPE", "ID", "VERSION", "NAME", "VERSION"]
    assert table[1].split() == [CP1, "runtime", "Version", "version", "1", "Talos", "v1.13.9"]
    st.set_node(bootstrapped.dir, CP2, talos_version="v1.12.11")
    old = bootstrapped.talosctl("get", "version", "-n", CP2)
    assert old.stderr == "WARNING: 10.0.48.12: server version 1.12.11 is older than client version 1.13.9\n"
    assert old.stdout.splitlines()[0].split() == ["NODE", "NAMESPACE", "TYPE", "ID", "VERSION", "VERSION"]


def test_machineconfig_spec_is_the_applied_bytes_and_sensitive_in_maintenance(world, configs):
    """config/machine_config.go: spec = Bytes() of the readonly container (verbatim); Sensitive: a
    Reader (maintenance) gets PermissionDenied "not authorized", appended without node prefix."""
    insecure_apply(world, CP1, configs[CP1])
    items = _json_objects(world.talosctl("get", "machineconfig", "-n", CP1, "-o", "json").stdout)
    assert [i["metadata"]["id"] for i in items] == ["persistent", "v1alpha1"]
    assert items[1]["spec"] == configs[CP1].read_text()
    assert items[1]["metadata"]["annotations"] == {"talos.dev/yaml-spec": 1} and items[1]["metadata"]["owner"] is None
    refused = world.run("talosctl", "get", "mc", "--insecure", "-n", CP2, "-o", "json")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == "1 error occurred:\n\t* rpc error: code = PermissionDenied desc = not authorized\n\n\n"


def test_insecure_get_has_an_empty_node_and_serves_disks_and_links(world):
    """--insecure: no nodes metadata -> node ""; block/disk.go and network/link_status.go columns."""
    disks = world.run("talosctl", "get", "disks", "--insecure", "-n", CP1).stdout.splitlines()
    assert disks[0].split() == ["NODE", "NAMESPACE", "TYPE", "ID", "VERSION", "SIZE", "READ", "ONLY", "TRANSPORT",
                                "ROTATIONAL", "WWID", "MODEL", "SERIAL"]
    assert disks[0].startswith("NODE   NAMESPACE")
    assert [line.split()[:3] for line in disks[1:]] == [["runtime", "Disk", "nvme0n1"], ["runtime", "Disk", "sda"]]
    assert "1.0 TB" in disks[1] and "480 GB" in disks[2]
    links = _json_objects(world.run("talosctl", "get", "links", "--insecure", "-n", CP1, "-o", "json").stdout)
    assert {i["node"] for i in links} == {""}
    assert [i["metadata"]["id"] for i in links] == ["lo", "enp1s0f0", "enp1s0f1", "eno1", "eno2"]
    assert links[1]["spec"]["operationalState"] == "up" and links[1]["spec"]["type"] == "ether"
    status = _json_objects(world.run("talosctl", "get", "machinestatus", "--insecure", "-n", CP1, "-o", "json").stdout)
    assert status[0]["spec"] == {"stage": "maintenance", "status": {"ready": True, "unmetConditions": []}}


def test_resource_resolution_errors(world, configs):
    """client/resources.go ResolveResourceKind: `ms` matches five RDs (ambiguous), unknown -> NotFound;
    get <type> <id> of a missing resource: inmem ErrNotFound "resource %s doesn't exist"."""
    insecure_apply(world, CP1, configs[CP1])
    ambiguous = world.talosctl("get", "ms", "-n", CP1)
    assert ambiguous.stderr == ('rpc error: code = InvalidArgument desc = resource type "ms" is ambiguous: '
                                "[machinestatuses.runtime.talos.dev manifeststatuses.kubernetes.talos.dev "
                                "memorystats.perf.talos.dev mountstatuses.block.talos.dev "
                                "mountstatuses.runtime.talos.dev]\n")
    unknown = world.talosctl("get", "nosuchthing", "-n", CP1)
    assert unknown.stderr == 'rpc error: code = NotFound desc = resource "nosuchthing" is not registered\n'
    missing = world.talosctl("get", "machinestatus", "foo", "-n", CP1)
    assert missing.stderr == ("1 error occurred:\n\t* rpc error: code = NotFound desc = resource "
                              "MachineStatuses.runtime.talos.dev(runtime/foo@undefined) doesn't exist\n\n\n")
    bad = world.talosctl("get", "machinestatus", "-n", CP1, "-o", "xml")
    assert bad.stderr == 'output format "xml" is not supported\n'


def test_members_need_discovery_and_nodename_and_static_pods(world):
    """cluster/member.go (affiliates only with cluster.discovery.enabled), k8s/nodename.go, and static
    pods at the config's images or constants.DefaultKubernetesVersion (1.36.3 on v1.13.9)."""
    plain = world.dir / "plain.yaml"
    plain.write_text(machine_config("controlplane", "cp-1"))
    insecure_apply(world, CP1, plain)
    assert world.talosctl("get", "members", "-n", CP1, "-o", "json").stdout == ""
    discover = world.dir / "discover.yaml"
    discover.write_text(machine_config("controlplane", "cp-2", cluster__discovery={"enabled": True},
                                       cluster__apiServer={"image": "registry.k8s.io/kube-apiserver:v1.34.1"}))
    insecure_apply(world, CP2, discover)
    members = world.talosctl("get", "members", "-n", CP2).stdout.splitlines()
    assert members[0].split() == ["NODE", "NAMESPACE", "TYPE", "ID", "VERSION", "HOSTNAME", "MACHINE", "TYPE", "OS",
                                  "ADDRESSES"]
    assert members[1].split()[1:] == ["cluster", "Member", "cp-2", "1", "cp-2", "controlplane", "Talos", "(v1.13.9)",
                                      '["10.0.48.12"]']
    nodename = world.talosctl("get", "nodename", "-n", CP1).stdout.splitlines()[1].split()
    assert nodename == [CP1, "k8s", "Nodename", "nodename", "1", "cp-1"]
    pods = {i["metadata"]["id"]: i["spec"]["spec"]["containers"][0]["image"] for i in
            _json_objects(world.talosctl("get", "staticpods", "-n", f"{CP1},{CP2}", "-o", "json").stdout)
            if i["node"] == CP2}
    assert pods == {"kube-apiserver": "registry.k8s.io/kube-apiserver:v1.34.1",
                    "kube-controller-manager": "registry.k8s.io/kube-controller-manager:v1.36.3",
                    "kube-scheduler": "registry.k8s.io/kube-scheduler:v1.36.3"}
    status = world.talosctl("get", "staticpodstatus", "-n", CP1).stdout.splitlines()
    assert status[0].split()[-1] == "READY" and status[1].split()[3] == "kube-system/kube-apiserver-cp-1"


# ---------------------------------------------------------------- version

def test_version_layout_short_and_client(bootstrapped):
    """version.go + machinery/version versionTemplate; --short changes only the client part."""
    client = bootstrapped.run("talosctl", "version", "--client", "--short")
    assert (client.returncode, client.stdout, client.stderr) == (0, "Client:\nTalos v1.13.9\n", "")
    full = bootstrapped.talosctl("version", "-n", CP1, "--short")
    assert full.stdout.startswith("Client:\nTalos v1.13.9\nServer:\n\tNODE:        10.0.48.11\n\tTag:         v1.13.9\n"
                                  "\tSHA:         ")
    assert "\tBuilt:       \n" in full.stdout and full.stdout.endswith("\tEnabled:     RBAC\n")


def test_version_partial_failure_is_a_warning_and_total_failure_an_error(bootstrapped):
    """cmdVersion: Warning("%s", err) and exit 0; all failed: "error getting version: %s" (exit 1)."""
    st.set_node(bootstrapped.dir, CP2, unreachable=True)
    partial = bootstrapped.talosctl("version", "-n", f"{CP1},{CP2}")
    assert partial.returncode == 0
    assert partial.stderr == f"WARNING: 1 error occurred:\n\t* 10.0.48.12: {UNREACHABLE.format(CP2)}\n\n\n"
    assert partial.stdout.count("\tNODE:") == 1
    total = bootstrapped.talosctl("version", "-n", CP2)
    assert total.returncode == 1 and total.stdout.endswith("Server:\n")
    assert total.stderr == f"error getting version: 1 error occurred:\n\t* 10.0.48.12: {UNREACHABLE.format(CP2)}\n\n\n"


# ---------------------------------------------------------------- service

def test_service_info_partial_failure_is_a_warning(bootstrapped):
    """service.go serviceInfo: cli.Warning and exit 0; RenderServicesInfo for the answering nodes."""
    st.set_node(bootstrapped.dir, CP2, unreachable=True)
    result = bootstrapped.talosctl("service", "etcd", "-n", f"{CP1},{CP2}")
    assert result.returncode == 0
    assert result.stderr == f"WARNING: 1 error occurred:\n\t* 10.0.48.12: {UNREACHABLE.format(CP2)}\n\n\n"
    assert result.stdout.splitlines()[:4] == ["NODE     10.0.48.11", "ID       etcd", "STATE    Running",
                                              "HEALTH   OK"]


def test_service_errors(bootstrapped):
    """All nodes failed: "error listing services: %w"; none has it: `service %q is not registered on any nodes`."""
    st.set_node(bootstrapped.dir, CP2, unreachable=True)
    failed = bootstrapped.talosctl("service", "etcd", "-n", CP2)
    assert (failed.returncode, failed.stdout) == (1, "")
    assert failed.stderr == f"error listing services: 1 error occurred:\n\t* 10.0.48.12: {UNREACHABLE.format(CP2)}\n\n\n"
    worker = bootstrapped.talosctl("service", "etcd", "-n", WK1)
    assert worker.stderr == 'service "etcd" is not registered on any nodes\n'


def test_service_list_and_etcd_lifecycle(world, configs):
    """ServiceList table; etcd Waiting/Preparing before bootstrap, Running after (events newest first)."""
    configure_all(world, configs)
    before = world.talosctl("service", "etcd", "-n", CP1).stdout
    assert "STATE    Preparing" in before and "[Preparing]: Running pre state" in before
    assert world.talosctl("bootstrap", "-n", CP1).returncode == 0
    lines = world.talosctl("service", "-n", CP1).stdout.splitlines()
    assert lines[0].split() == ["NODE", "SERVICE", "STATE", "HEALTH", "LAST", "CHANGE", "LAST", "EVENT"]
    assert any(line.split()[1:4] == ["etcd", "Running", "OK"] for line in lines[1:])


# ---------------------------------------------------------------- etcd members / status

def test_etcd_members_table_and_errors(world, configs):
    """etcd.go etcdMemberListCmd: header with NODE, ID %016x, URLs joined by ","; a worker answers
    Unimplemented "member list is only available on control plane nodes" (partial: WARNING)."""
    configure_all(world, configs)
    early = world.talosctl("etcd", "members", "-n", CP1)
    assert early.returncode == 1 and early.stderr.startswith("error getting members: 1 error occurred:\n\t* 10.0.48.11: "
                                                             "rpc error: code = Unavailable")
    assert world.talosctl("bootstrap", "-n", CP1).returncode == 0
    result = world.talosctl("etcd", "members", "-n", f"{CP1},{WK1}")
    assert result.returncode == 0
    assert result.stderr == ("WARNING: 1 error occurred:\n\t* 10.0.48.21: rpc error: code = Unimplemented desc = "
                             "member list is only available on control plane nodes\n\n\n")
    table = result.stdout.splitlines()
    assert table[0].split() == ["NODE", "ID", "HOSTNAME", "PEER", "URLS", "CLIENT", "URLS", "LEARNER"]
    rows = [line.split() for line in table[1:]]
    assert sorted(r[2] for r in rows) == ["cp-1", "cp-2"] and all(len(r[1]) == 16 for r in rows)
    assert ["https://10.0.48.12:2380", "https://10.0.48.12:2379", "false"] in [r[3:] for r in rows]


def test_etcd_status_table(bootstrapped):
    """etcdStatusCmd: MEMBER, DB SIZE (humanize), IN USE "%s (%.2f%%)", LEADER, ..., PROTOCOL, STORAGE."""
    lines = bootstrapped.talosctl("etcd", "status", "-n", f"{CP1},{CP2}").stdout.splitlines()
    assert lines[0].split() == ["NODE", "MEMBER", "DB", "SIZE", "IN", "USE", "LEADER", "RAFT", "INDEX", "RAFT", "TERM",
                                "RAFT", "APPLIED", "INDEX", "LEARNER", "PROTOCOL", "STORAGE", "ERRORS"]
    first, second = lines[1].split(), lines[2].split()
    assert first[0] == CP1 and first[7] == second[7] == first[1]  # CP1 leads
    assert first[-3:] == ["false", "3.6.12", "3.6.0"] and first[6].endswith("%)")
