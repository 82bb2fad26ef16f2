"""1Password values arrive byte-exact (the shared simulated cluster): a vault holding hostile values,
referenced from bootstrap/resources.yaml, and the Secrets the cluster then holds compared byte for byte."""
from __future__ import annotations

import base64

import yaml

from tests.tools.test_op import HOSTILE as OP_HOSTILE
from tests.world.world import admin, delete_object

HOSTILE = OP_HOSTILE + ["\u202eRTL override", "bell\x07 escape\x1b", "x" * 10_000, "yes", "off", ".inf",
                        "key: value # comment\n- list\n"]
TOKEN = '&anchor *alias !tag #hash "quoted" \'single\' yes 0x1F ~\n  indented: line\n{{ op://homelab/x/y }}'
ALL_BYTES = bytes(range(256))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _secret(cluster, namespace: str, name: str) -> dict[str, bytes]:
    """A Secret's data in the cluster, decoded."""
    found = admin(cluster.world, "GET", f"objects?apiVersion=v1&kind=Secret&namespace={namespace}&name={name}")
    [secret] = found["items"]
    return {key: base64.b64decode(value) for key, value in (secret.get("data") or {}).items()}


def test_hostile_1password_values_arrive_byte_exact(cluster):
    """32 hostile strings (stringData), every byte value (data) and a hostile Connect token: the
    Secrets hold exactly those bytes; then everything is put back and the cluster converges."""
    resources = cluster.project.path("bootstrap/resources.yaml")
    original = resources.read_text()
    extra = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hostile", "namespace": "flux-system"},
             "type": "Opaque", "data": {"bytes": "op://homelab/hostile/bytes-base64"},
             "stringData": {f"s{i}": f"op://homelab/hostile/f{i}" for i in range(len(HOSTILE))}}
    resources.write_text(original + "---\n" + yaml.safe_dump(extra))

    def hostile_vault(vaults):
        vaults["homelab"]["hostile"] = {**{f"f{i}": v for i, v in enumerate(HOSTILE)}, "bytes-base64": _b64(ALL_BYTES)}
        vaults["homelab"]["onepassword-connect"]["token"] = TOKEN
        return True, vaults
    try:
        result = cluster.bootstrap_with_op(hostile_vault)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        stored = _secret(cluster, "flux-system", "hostile")
        assert [stored[f"s{i}"] for i in range(len(HOSTILE))] == [v.encode() for v in HOSTILE]
        assert stored["bytes"] == ALL_BYTES
        assert _secret(cluster, "external-secrets", "onepassword-secret")["token"] == TOKEN.encode()
    finally:
        resources.write_text(original)
    cluster.converge()                                     # the original token is applied again
    assert _secret(cluster, "external-secrets", "onepassword-secret")["token"] != TOKEN.encode()
    assert delete_object(cluster.world, "v1", "Secret", "hostile", "flux-system")
    cluster.converge()
    assert cluster.bootstrap().returncode == 0 and cluster.new_mutating() == []
