"""The world's API server rejects what a real one rejects: a custom resource of the wrong type against
the real cert-manager ClusterIssuer CRD (../shared/charts), through the real kubectl."""
from __future__ import annotations

import json

import pytest
import yaml

from tests.project import require_shared
from tests.world import validation

ISSUER = "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {name: letsencrypt}\nspec:\n%s"


def _clusterissuer_crd() -> str:
    """The chart's ClusterIssuer CRD with its Helm template lines (the install condition, labels) left out."""
    source = require_shared("charts") / "cert-manager-v1.21.1/templates/crd-cert-manager.io_clusterissuers.yaml"
    return "".join(line for line in source.read_text().splitlines(keepends=True) if "{{" not in line)


@pytest.fixture
def issuers(kubectl):
    kubectl("apply", "--server-side", "-f", "-", input=_clusterissuer_crd(), check=True)
    kubectl("wait", "--for=condition=Established", "crd/clusterissuers.cert-manager.io", "--timeout=10s", check=True)
    return kubectl


def test_a_wrong_type_is_refused_as_on_a_cluster(issuers):
    """Created: the CRD schema's 422 Invalid. Server-side applied: the patch does not even convert to
    a typed object (structured-merge-diff), as `kubectl apply --server-side` reports on a cluster."""
    body = ISSUER % "  acme: {email: 42, server: https://x, privateKeySecretRef: {name: k}}\n"
    created = issuers("create", "-f", "-", input=body)
    assert created.returncode == 1
    assert created.stderr == ('The ClusterIssuer "letsencrypt" is invalid: spec.acme.email: Invalid value: "integer": '
                              'spec.acme.email in body must be of type string: "integer"\n')
    applied = issuers("apply", "--server-side", "-f", "-", input=body)
    assert applied.returncode == 1
    assert applied.stderr == ("Error from server: failed to create typed patch object (/letsencrypt; cert-manager.io/v1, "
                              "Kind=ClusterIssuer): .spec.acme.email: expected string, got "
                              "&value.valueUnstructured{Value:42}\n")
    missing = issuers("apply", "--server-side", "-f", "-", input=ISSUER % "  acme: {email: ops@example.org}\n")
    assert missing.returncode == 1 and "spec.acme.privateKeySecretRef: Required value" in missing.stderr
    assert issuers("get", "clusterissuers", "-o", "name").stdout == ""


def test_a_secret_value_that_is_not_a_string_is_refused(kubectl):
    """`yes` or `0x1F` pasted unquoted into a Secret becomes a bool or a number: the cluster refuses it."""
    secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: default}\nstringData: {token: 0x1F}\n"
    applied = kubectl("apply", "--server-side", "-f", "-", input=secret)
    assert applied.returncode == 1
    assert applied.stderr == ("Error from server: failed to create typed patch object (default/s; /v1, Kind=Secret): "
                              ".stringData.token: expected string, got &value.valueUnstructured{Value:31}\n")
    assert kubectl("apply", "--server-side", "-f", "-", input=secret.replace("0x1F", "'0x1F'")).returncode == 0


def test_a_valid_object_passes(issuers):
    good = ISSUER % "  selfSigned: {}\n"
    assert issuers("apply", "--server-side", "-f", "-", input=good, check=True).returncode == 0
    got = json.loads(issuers("get", "clusterissuer", "letsencrypt", "-o", "json", check=True).stdout)
    assert got["spec"] == {"selfSigned": {}}


def test_field_errors_cover_types_enums_and_nesting():
    schema = {"type": "object", "required": ["spec"], "properties": {"spec": {"type": "object", "properties": {
        "port": {"x-kubernetes-int-or-string": True}, "mode": {"type": "string", "enum": ["a", "b"]},
        "items": {"type": "array", "items": {"type": "integer"}}, "ratio": {"type": "number"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}}}}}}
    good = {"apiVersion": "x/v1", "kind": "X", "metadata": {}, "spec": {"port": "http", "mode": "a",
                                                                          "items": [1, 2.0], "ratio": 3, "labels": {}}}
    assert validation.field_errors(good, schema) == []
    bad = yaml.safe_load("spec: {port: [1], mode: c, items: [1, x], ratio: '1', labels: {a: 1}}")
    assert [(cause, field) for cause, field, _ in validation.field_errors(bad, schema)] == [
        ("FieldValueTypeInvalid", "spec.port"), ("FieldValueNotSupported", "spec.mode"),
        ("FieldValueTypeInvalid", "spec.items[1]"), ("FieldValueTypeInvalid", "spec.ratio"),
        ("FieldValueTypeInvalid", "spec.labels.a")]
    assert validation.field_errors({}, schema) == [("FieldValueRequired", "spec", "Required value")]
