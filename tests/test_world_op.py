"""The fake 1Password CLI, driven as a subprocess through its shim."""
from __future__ import annotations

import re
import stat

import pytest

from tests.world import op
from tests.world.fake_testkit import make_world

ERROR = re.compile(r"^\[ERROR\] \d{4}/\d\d/\d\d \d\d:\d\d:\d\d (.*)$", re.S)
VAULTS = {"talos": {"cluster": {"secret": "s3cr3t-value", "token": "abc.def",
                                "pki": {"crt": "LS0tCRT", "key": "LS0tKEY"}},
                    "my item": {"password": "with spaces ok"}},
          "k8s": {"onepassword-connect": {"credentials": '{"verifier":"x"}', "token": "eyJconnect"}}}


@pytest.fixture
def world(tmp_path):
    """A world whose op.json is signed in with two vaults."""
    w = make_world(tmp_path / "world")
    op.write_state(w.dir, signed_in=True, vaults=VAULTS)
    return w


def error_message(stderr: str) -> str:
    """The message of an [ERROR] line (asserting the format)."""
    match = ERROR.match(stderr)
    assert match, stderr
    return match.group(1).rstrip("\n")


def test_version(world):
    assert world.run("op", "--version").stdout == "2.32.0\n"


def test_whoami_signed_in_and_signed_out(world):
    result = world.run("op", "whoami")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].startswith("URL:") and "User Type:" in result.stdout
    op.write_state(world.dir, signed_in=False, vaults=VAULTS)
    out = world.run("op", "whoami")
    assert out.returncode == 1 and out.stdout == ""
    assert error_message(out.stderr) == "You are not currently signed in. Please run `op signin --help` for instructions"


def test_service_account_token_counts_as_signed_in(world):
    op.write_state(world.dir, signed_in=False, vaults=VAULTS)
    env = dict(world.env, OP_SERVICE_ACCOUNT_TOKEN="ops_eyJzaWduSW5BZGRyZXNzIjoibXkuMXBhc3N3b3JkLmNvbSJ9")
    who = world.run("op", "whoami", env=env)
    assert who.returncode == 0 and "SERVICE_ACCOUNT" in who.stdout
    assert world.run("op", "read", "op://talos/cluster/secret", env=env).stdout == "s3cr3t-value\n"


@pytest.mark.parametrize("ref, value", [
    ("op://talos/cluster/secret", "s3cr3t-value"),
    ("op://talos/cluster/pki/crt", "LS0tCRT"),
    ("op://talos/cluster/key", "LS0tKEY"),
    ("op://Talos/Cluster/token", "abc.def"),
])
def test_read(world, ref, value):
    result = world.run("op", "read", ref)
    assert (result.returncode, result.stdout, result.stderr) == (0, value + "\n", "")


def test_read_no_newline(world):
    assert world.run("op", "read", "-n", "op://talos/cluster/secret").stdout == "s3cr3t-value"
    assert world.run("op", "read", "--no-newline", "op://talos/cluster/secret").stdout == "s3cr3t-value"


@pytest.mark.parametrize("ref, message", [
    ("op://nope/cluster/secret", "\"nope\" isn't a vault in this account. Specify the vault with its ID or name."),
    ("op://talos/ghost/secret", "\"ghost\" isn't an item in the \"talos\" vault. Specify the item with its UUID, name, or domain."),
    ("op://talos/cluster/missing", "item 'talos/cluster' does not have a field 'missing'"),
])
def test_read_missing_reference(world, ref, message):
    result = world.run("op", "read", ref)
    assert result.returncode == 1 and result.stdout == ""
    assert error_message(result.stderr) == f"could not read secret '{ref}': {message}"


def test_read_when_signed_out(world):
    op.write_state(world.dir, signed_in=False, vaults=VAULTS)
    result = world.run("op", "read", "op://talos/cluster/secret")
    assert result.returncode == 1 and "You are not currently signed in" in result.stderr


TEMPLATE = """apiVersion: v1
kind: Secret
stringData:
  credentials: '{{ op://k8s/onepassword-connect/credentials }}'
  token: op://k8s/onepassword-connect/token
  spaced: "{{ op://talos/my item/password }}"
"""
RENDERED = """apiVersion: v1
kind: Secret
stringData:
  credentials: '{"verifier":"x"}'
  token: eyJconnect
  spaced: "with spaces ok"
"""


def test_inject_from_stdin(world):
    result = world.run("op", "inject", input=TEMPLATE)
    assert (result.returncode, result.stdout, result.stderr) == (0, RENDERED, "")


def test_inject_in_and_out_files(world):
    (world.dir / "tpl.yaml").write_text(TEMPLATE)
    out = world.dir / "out.yaml"
    result = world.run("op", "inject", "-i", "tpl.yaml", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text() == RENDERED
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    refused = world.run("op", "inject", "-i", "tpl.yaml", "-o", str(out))
    assert refused.returncode == 1
    assert world.run("op", "inject", "--in-file", "tpl.yaml", "--out-file", str(out), "--force").returncode == 0


def test_inject_fails_whole_template_on_any_missing_reference(world):
    template = TEMPLATE + "  bad: {{ op://k8s/onepassword-connect/nope }}\n"
    result = world.run("op", "inject", input=template)
    assert result.returncode == 1 and result.stdout == ""
    assert "does not have a field 'nope'" in error_message(result.stderr)
    out = world.dir / "never.yaml"
    (world.dir / "tpl.yaml").write_text(template)
    assert world.run("op", "inject", "-i", "tpl.yaml", "-o", str(out)).returncode == 1
    assert not out.exists()


def test_inject_when_signed_out_prints_nothing(world):
    op.write_state(world.dir, signed_in=False, vaults=VAULTS)
    result = world.run("op", "inject", input=TEMPLATE)
    assert (result.returncode, result.stdout) == (1, "")


def test_unknown_flag_and_command(world):
    flag = world.run("op", "read", "--bogus", "op://talos/cluster/secret")
    assert flag.returncode == 1 and error_message(flag.stderr) == "unknown flag: --bogus"
    cmd = world.run("op", "list")
    assert cmd.returncode == 1 and error_message(cmd.stderr).startswith('unknown command "list" for "op"')


def test_inject_unit_keeps_values_unscanned():
    state = {"signed_in": True, "vaults": {"v": {"i": {"f": "op://v/i/g", "g": "never"}}}}
    assert op.inject(state, "x={{ op://v/i/f }}") == "x=op://v/i/g"
