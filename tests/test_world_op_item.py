"""The fake `op item get | create | delete` (tests/world/op_item.py), driven through its shim."""
from __future__ import annotations

import json

import pytest

from tests.test_world_op import error_message
from tests.world import op, shims
from tests.world.fake_testkit import make_world

TEMPLATE = json.dumps({"title": "talos", "category": "SECURE_NOTE",
                       "fields": [{"id": "cluster-secret", "type": "CONCEALED", "label": "cluster-secret",
                                   "value": "s3cr3t"}]})


@pytest.fixture
def world(tmp_path):
    w = make_world(tmp_path / "world")
    op.write_state(w.dir, signed_in=True, vaults={"homelab": {"other": {"token": "t"}}})
    return w


def state(world) -> dict:
    return json.loads((world.dir / "op.json").read_text())


def test_create_from_stdin_template_then_get_as_json(world):
    created = world.run("op", "item", "create", "--vault", "homelab", "--format", "json", "-", input=TEMPLATE)
    assert created.returncode == 0, created.stderr
    assert state(world)["vaults"]["homelab"]["talos"] == {"cluster-secret": "s3cr3t"}
    got = json.loads(world.run("op", "item", "get", "talos", "--vault", "homelab", "--format", "json").stdout)
    assert got["title"] == "talos" and got["vault"]["name"] == "homelab" and len(got["id"]) == 26
    assert [(f["label"], f["type"], f["reference"]) for f in got["fields"]] == [
        ("cluster-secret", "CONCEALED", "op://homelab/talos/cluster-secret")]


def test_human_readable_get_conceals_values(world):
    world.run("op", "item", "create", "--vault", "homelab", "-", input=TEMPLATE)
    shown = world.run("op", "item", "get", "talos", "--vault", "homelab").stdout
    assert "s3cr3t" not in shown and "--reveal' to reveal]" in shown


@pytest.mark.parametrize("args, message", [
    (("item", "get", "ghost", "--vault", "homelab"),
     "\"ghost\" isn't an item in the \"homelab\" vault. Specify the item with its UUID, name, or domain."),
    (("item", "get", "other", "--vault", "nowhere"),
     "\"nowhere\" isn't a vault in this account. Specify the vault with its ID or name."),
    (("item", "create", "--vault", "homelab", "--template", "/dev/null", "-"),
     "cannot create an item from template and stdin at the same time"),
])
def test_errors_in_op_format(world, args, message):
    result = world.run("op", *args, input=TEMPLATE)
    assert result.returncode == 1 and result.stdout == ""
    assert error_message(result.stderr) == message


def test_invalid_json_on_stdin_and_signed_out(world):
    assert error_message(world.run("op", "item", "create", "--vault", "homelab", "-", input="{").stderr) == \
        "invalid JSON in piped input"
    op.write_state(world.dir, signed_in=False, vaults={})
    assert "You are not currently signed in" in world.run("op", "item", "get", "x", "--vault", "v").stderr


def test_delete_archive_by_id_keeps_the_item_in_the_archive(world):
    world.run("op", "item", "create", "--vault", "homelab", "-", input=TEMPLATE)
    item_id = json.loads(world.run("op", "item", "get", "talos", "--vault", "homelab", "--format", "json").stdout)["id"]
    assert world.run("op", "item", "delete", item_id, "--vault", "homelab", "--archive").returncode == 0
    assert "talos" not in state(world)["vaults"]["homelab"]
    assert state(world)["archive"]["homelab"]["talos"] == {"cluster-secret": "s3cr3t"}


def test_item_create_and_delete_are_mutating_calls(world):
    world.run("op", "item", "create", "--vault", "homelab", "-", input=TEMPLATE)
    world.run("op", "item", "get", "talos", "--vault", "homelab")
    calls = [(c["argv"][1], c["mutating"]) for c in shims.read_calls(world.dir) if c["tool"] == "op"]
    assert calls == [("create", True), ("get", False)]
