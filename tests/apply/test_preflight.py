"""Which checks each stage needs, and that `doit secrets` can produce every field the templates read
(offline: the example settings, rendered in memory)."""
from __future__ import annotations

from tasks.apply.preflight import needs
from tasks.apply.secrets import FIELDS, field_values, talos_fields
from tasks.apply.table import stage_table
from tasks.settings import load


def test_every_stage_has_its_checks():
    table = {stage.name: needs(stage.name) for stage in stage_table(load.cluster())}
    assert table["node-cp-1"] == (("talosctl", "op"), ("op", "nodes"))
    assert table["resources"][1] == ("op", "api")
    assert table["release-cilium"][0] == ("helmfile", "helm", "kubectl")
    assert "gitops" in table["flux-ready"][1] and "gitops" in table["release-flux-instance"][1]
    assert all(tools and checks for tools, checks in table.values())


def test_secrets_produce_exactly_the_fields_the_templates_read():
    fields = talos_fields(load.cluster())
    assert len(fields) == 16 and fields <= set(FIELDS)


def test_a_field_the_generator_cannot_produce_is_named():
    values, error = field_values({"bundle": {}, "talosconfig": {}}, frozenset({"machine-token", "my-extra"}))
    assert values is None and "my-extra" in error


def test_an_empty_generated_value_is_named_without_values():
    documents = {"bundle": {"trustdinfo": {"token": ""}}, "talosconfig": {}}
    values, error = field_values(documents, frozenset({"machine-token"}))
    assert values is None and "machine-token" in error and "trustdinfo.token" in error
