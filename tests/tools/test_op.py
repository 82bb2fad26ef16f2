"""1Password in memory: references resolved by one `op inject`, values put back byte for byte (the
world's fake op, which pastes raw as the real one does), op's failures as messages without output."""
from __future__ import annotations

import base64
import sys

import pytest
import yaml

from tasks.tools import op
from tests.project import REPO_ROOT
from tests.stand_ins import executable
from tests.world import op as fake_op

# Values that break YAML when pasted raw, or change type, or hide in comments.
HOSTILE = ["&anchor", "*alias", "!tag value", "#private", "yes", "0x1F", "null", "~", "- item", "a: b",
           '"quoted"', "'single'", "line one\nline two\n", "  leading spaces", "trailing spaces  ", "{flow: map}",
           "[flow, list]", "% directive", "@at", "`backtick`", "tab\there", "ünïcödé ☃", "{{ op://v/i/f }}",
           "---", "..."]


@pytest.fixture
def vault(tmp_path, monkeypatch):
    """The world's fake op on OP, its vault holding one item `hostile` with one field per value."""
    monkeypatch.setenv("OP", executable(tmp_path, "op", f'cd {REPO_ROOT} && exec {sys.executable} -m tests.world.op "$@"'))
    monkeypatch.setenv("OP_WORLD_DIR", str(tmp_path))
    fields = {f"f{i}": value for i, value in enumerate(HOSTILE)}
    fields["b64"] = base64.b64encode(b"\x00binary\xffbytes").decode()
    fake_op.write_state(tmp_path, signed_in=True, vaults={"home": {"hostile": fields}})
    return tmp_path


def test_every_value_comes_back_byte_for_byte(vault):
    source = vault / "secret.yaml"
    source.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                                      "stringData": {f"k{i}": f"op://home/hostile/f{i}" for i in range(len(HOSTILE))},
                                      "data": {"bin": "op://home/hostile/b64"}}))
    text, error = op.inject_documents(source)
    assert error == ""
    [secret] = list(yaml.safe_load_all(text))
    assert [secret["stringData"][f"k{i}"] for i in range(len(HOSTILE))] == HOSTILE
    assert base64.b64decode(secret["data"]["bin"]) == b"\x00binary\xffbytes"


def test_data_that_is_not_base64_is_refused_naming_the_field_never_the_value(vault):
    source = vault / "secret.yaml"
    source.write_text("kind: Secret\nmetadata: {name: s}\ndata:\n  token: op://home/hostile/f3\n")
    text, error = op.inject_documents(source)
    assert text is None
    assert "documents[0].data.token: op://home/hostile/f3 must hold base64" in error and "#private" not in error


def test_one_op_call_resolves_every_reference(vault, tmp_path, monkeypatch):
    calls = tmp_path / "calls"
    monkeypatch.setenv("OP", executable(tmp_path, "op-counting", f'echo call >> {calls}; cd {REPO_ROOT} && '
                                                                  f'exec {sys.executable} -m tests.world.op "$@"'))
    values, error = op.resolve(["op://home/hostile/f0", "op://home/hostile/f12"], "two")
    assert error == "" and values == {"op://home/hostile/f0": HOSTILE[0], "op://home/hostile/f12": HOSTILE[12]}
    assert calls.read_text().count("call") == 1


def test_stdout_never_reaches_an_error_message(tmp_path, monkeypatch):
    """A failing op's stdout (resolved secrets) stays out of the message."""
    monkeypatch.setenv("OP", executable(tmp_path, "op", 'echo "token: s3cr3t-VALUE"; exit 1'))
    values, error = op.resolve(["op://v/i/f"], "resources")
    assert values is None and "s3cr3t" not in error and "exit code 1" in error


def test_op_failure_returns_its_message(tmp_path, monkeypatch):
    monkeypatch.setenv("OP", executable(tmp_path, "op", 'echo "[ERROR] 2026/11/26 10:00:00 You are not currently '
                                                    'signed in." >&2; exit 1'))
    values, error = op.resolve(["op://homelab/item/token"], "resources")
    assert values is None and "You are not currently signed in" in error


@pytest.mark.parametrize("written, is_reference", [
    ("op://home/hostile/f0", True),
    ("op://Automation/1password connect/token", True),           # spaces in a name
    ("{{ op://home/hostile/f0 }}", True),                         # the enclosed form
    ("op://home/item/a section/field", True),                     # a section
    ("op://home/item/private key?ssh-format=openssh", True),      # a query parameter
    ("op://home/item/one-time password?attribute=otp", True),
    ("op://home/item", False),                                    # op: too few '/'
    ("op://home/item/section/field/extra", False),                # op: too many '/'
    ("op://For Chang's Claude/item/credential", False),           # op: invalid character
])
def test_references_in_the_forms_op_accepts(written, is_reference):
    assert bool(op.REFERENCE.match(written)) is is_reference


def test_spaced_and_enclosed_references_resolve(tmp_path, monkeypatch):
    """Names with spaces and the `{{ }}` form reach `op inject` enclosed once, and come back."""
    monkeypatch.setenv("OP", executable(tmp_path, "op", f'cd {REPO_ROOT} && exec {sys.executable} -m tests.world.op "$@"'))
    monkeypatch.setenv("OP_WORLD_DIR", str(tmp_path))
    fake_op.write_state(tmp_path, signed_in=True, vaults={"Automation": {"1password connect": {"token": "t0k"}}})
    source = tmp_path / "secret.yaml"
    source.write_text("kind: Secret\nmetadata: {name: s}\nstringData:\n  a: op://Automation/1password connect/token\n"
                      "  b: '{{ op://Automation/1password connect/token }}'\n")
    text, error = op.inject_documents(source)
    assert error == "" and yaml.safe_load(text)["stringData"] == {"a": "t0k", "b": "t0k"}
