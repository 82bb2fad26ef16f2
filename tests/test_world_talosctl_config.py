"""The fake talosctl's client configuration (config.Open on every WithClient) and the offline
`gen secrets` / `gen config -t talosconfig`, checked against siderolabs/talos v1.13.9."""
from __future__ import annotations

import base64
import os
import re
import stat
import subprocess

import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.world.fake_testkit import machine_config
from tests.world.talos_testkit import CP1, insecure_apply, world  # noqa: F401

INSTALLER = "ghcr.io/siderolabs/installer:v1.13.9"


def test_missing_explicit_talosconfig_is_created_empty(world):
    """config.go Open/ensure(): the missing file is saved as an empty config (0600); then client.go
    New(): "failed to determine endpoints", or with -e resolveConfigContext's "talos config file is empty"."""
    path = world.dir / "new" / "talosconfig"
    result = world.run("talosctl", "--talosconfig", str(path), "version", "-n", CP1)
    assert (result.returncode, result.stderr) == (1, "error constructing client: failed to determine endpoints\n")
    assert path.read_text() == 'context: ""\ncontexts: {}\n' and stat.S_IMODE(path.stat().st_mode) == 0o600
    with_endpoint = world.run("talosctl", "--talosconfig", str(path), "get", "version", "-n", CP1, "-e", CP1)
    assert with_endpoint.stderr == ("error constructing client: failed to create client connection: failed to resolve "
                                    "configuration context: talos config file is empty\n")


def test_empty_talosconfig_and_unknown_context(world):
    """fromFile: yaml Decode of nothing is io.EOF ("failed to open config file %q: %w"); --context not in
    the file: `context %q not found in config`."""
    empty = world.dir / "empty"
    empty.write_text("")
    result = world.run("talosctl", "--talosconfig", str(empty), "version", "-n", CP1)
    assert result.stderr == f'failed to open config file "{empty}": EOF\n'
    other = world.talosctl("--context", "nope", "version", "-n", CP1, "-e", CP1)
    assert other.stderr == ("error constructing client: failed to create client connection: failed to resolve "
                            'configuration context: context "nope" not found in config\n')


def _memfd(data: bytes) -> int:
    """A memfd holding `data` (each open of /dev/fd/N starts at offset 0)."""
    fd = os.memfd_create("talosconfig")
    os.write(fd, data)
    return fd


def test_memfd_talosconfig_survives_the_three_opens_of_an_upgrade(world):
    """upgrade opens the talosconfig in WithClientAndNodes, TalosVersionCheck and the tracker: a memfd
    re-opened through /dev/fd/N reads the whole config each time (a pipe fails: see the ops tests)."""
    config = world.dir / "cp-1.yaml"
    config.write_text(machine_config("controlplane", "cp-1"))
    insecure_apply(world, CP1, config)
    fd = _memfd(world.files["talosconfig"].read_bytes())
    try:
        result = subprocess.run(["talosctl", "--talosconfig", f"/dev/fd/{fd}", "upgrade", "-n", CP1, "--image",
                                 INSTALLER, "--drain=false"], text=True, capture_output=True, env=world.env,
                                pass_fds=(fd,), timeout=60)
    finally:
        os.close(fd)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == '"10.0.48.11": post check passed'


# ---------------------------------------------------------------- gen secrets

def _cert(b64: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(base64.b64decode(b64))


def test_gen_secrets_to_stdout_has_the_bundle_layout_and_real_cas(world):
    """gen/secrets.go `-o -`: yaml.Marshal(bundle) (indent 4, lowercased field names); secrets/ca.go:
    etcd/kubernetes/front-proxy ECDSA CAs, the Talos CA Ed25519, 87600h; bundle.go populate()."""
    result = world.run("talosctl", "gen", "secrets", "-o", "-")
    assert (result.returncode, result.stderr) == (0, "")
    text = result.stdout
    assert re.match(r"cluster:\n    id: \S+\n    secret: \S+\nsecrets:\n    bootstraptoken: [0-9a-z]{6}\.[0-9a-z]{16}\n"
                    r"    secretboxencryptionsecret: \S+\ntrustdinfo:\n    token: [0-9a-z]{6}\.[0-9a-z]{16}\ncerts:\n"
                    r"    etcd:\n        crt: \S+\n        key: \S+\n    k8s:\n", text)
    bundle = yaml.safe_load(text)
    assert list(bundle["certs"]) == ["etcd", "k8s", "k8saggregator", "k8sserviceaccount", "os"]
    assert len(base64.urlsafe_b64decode(bundle["cluster"]["id"])) == 32
    for name, org in (("etcd", "etcd"), ("k8s", "kubernetes")):
        crt = _cert(bundle["certs"][name]["crt"])
        assert isinstance(crt.public_key(), ec.EllipticCurvePublicKey)
        assert crt.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == org
        assert crt.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        assert (crt.not_valid_after_utc - crt.not_valid_before_utc).total_seconds() == 87600 * 3600
    os_ca = _cert(bundle["certs"]["os"]["crt"])
    assert isinstance(os_ca.public_key(), ed25519.Ed25519PublicKey)
    assert base64.b64decode(bundle["certs"]["os"]["key"]).startswith(b"-----BEGIN ED25519 PRIVATE KEY-----\n")
    assert base64.b64decode(bundle["certs"]["k8sserviceaccount"]["key"]).startswith(b"-----BEGIN EC PRIVATE KEY-----")
    assert world.run("talosctl", "gen", "secrets", "-o", "-").stdout != text  # fresh values every time


def test_gen_secrets_to_a_file_refuses_an_existing_one(world):
    """gen.go validateFileExists: `file %q already exists, use --force to overwrite`; WriteFile 0600."""
    target = world.dir / "secrets.yaml"
    first = world.run("talosctl", "gen", "secrets", "-o", str(target))
    assert (first.returncode, first.stdout, first.stderr) == (0, "", "")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    again = world.run("talosctl", "gen", "secrets", "-o", str(target))
    assert (again.returncode, again.stderr) == (1, f'file "{target}" already exists, use --force to overwrite\n')
    forced = world.run("talosctl", "gen", "secrets", "-o", str(target), "--force")
    assert forced.returncode == 0


# ---------------------------------------------------------------- gen config -t talosconfig

def test_gen_config_talosconfig_is_signed_by_the_bundle_os_ca(world):
    """gen/config.go with --with-secrets -t talosconfig -o -: "generating PKI and tokens" on stderr,
    clientconfig.NewConfig on stdout; NewAdminCertificateAndKey: O=os:admin, ClientAuth, by certs.os."""
    secrets = world.dir / "secrets.yaml"
    world.run("talosctl", "gen", "secrets", "-o", str(secrets))
    result = world.run("talosctl", "gen", "config", "demo", "https://10.0.48.55:6443", "--with-secrets", str(secrets),
                       "-t", "talosconfig", "-o", "-")
    assert (result.returncode, result.stderr) == (0, "generating PKI and tokens\n")
    assert result.stdout.startswith("context: demo\ncontexts:\n    demo:\n        endpoints: []\n        ca: ")
    config = yaml.safe_load(result.stdout)["contexts"]["demo"]
    bundle = yaml.safe_load(secrets.read_text())
    assert config["ca"] == bundle["certs"]["os"]["crt"]
    client, ca = _cert(config["crt"]), _cert(bundle["certs"]["os"]["crt"])
    ca.public_key().verify(client.signature, client.tbs_certificate_bytes)
    assert client.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "os:admin"
    usage = client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_gen_config_errors(world):
    """validateFlags: "can't use multiple output types with stdout"; validateClusterEndpoint; LoadBundle."""
    several = world.run("talosctl", "gen", "config", "demo", "https://10.0.48.55:6443", "-o", "-")
    assert several.stderr == "can't use multiple output types with stdout\n"
    scheme = world.run("talosctl", "gen", "config", "demo", "10.0.48.55", "-t", "talosconfig", "-o", "-")
    assert scheme.stderr == 'no scheme and port specified for the cluster endpoint URL\ntry: "https://10.0.48.55:6443"\n'
    missing = world.run("talosctl", "gen", "config", "demo", "https://10.0.48.55:6443", "--with-secrets",
                        str(world.dir / "nope.yaml"), "-t", "talosconfig", "-o", "-")
    assert missing.stderr == f"failed to load secrets bundle: open {world.dir}/nope.yaml: no such file or directory\n"


def test_generated_talosconfig_reaches_a_node_configured_with_the_bundle(world):
    """The node's machine CA is certs.os: the generated client config is accepted (the world compares
    the talosconfig's CA with the node's); its endpoints are empty, so -e is needed."""
    secrets = world.dir / "secrets.yaml"
    world.run("talosctl", "gen", "secrets", "-o", str(secrets))
    os_ca = yaml.safe_load(secrets.read_text())["certs"]["os"]["crt"]
    config = world.dir / "cp-1.yaml"
    config.write_text(machine_config("controlplane", "cp-1", ca=os_ca))
    insecure_apply(world, CP1, config)
    talosconfig = world.dir / "generated"
    world.run("talosctl", "gen", "config", "demo", "https://10.0.48.55:6443", "--with-secrets", str(secrets),
              "-t", "talosconfig", "-o", str(talosconfig))
    result = world.run("talosctl", "--talosconfig", str(talosconfig), "get", "version", "-n", CP1, "-e", CP1)
    assert result.returncode == 0, result.stderr
