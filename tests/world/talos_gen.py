"""`talosctl gen secrets` and `talosctl gen config --with-secrets F -t talosconfig` (offline).

- mgmt/gen/secrets.go writeSecretsBundleToFile: yaml.Marshal(bundle) to stdout for `-o -`, else
  gen.go validateFileExists ("file %q already exists, use --force to overwrite") and
  os.WriteFile(path, 0o600); nothing printed on success.
- pkg/machinery/config/generate/secrets: bundle.go populate() (cluster id base64.URLEncoding of 32
  random bytes, secret StdEncoding, tokens from utils.go genToken(6, 16), secretbox secret 32
  bytes), ca.go (etcd O=etcd ECDSA, kubernetes O=kubernetes ECDSA, aggregator CN=front-proxy
  ECDSA, Talos O=talos Ed25519, valid CAValidityTime = 87600h; service account ECDSA key) and
  NewAdminCertificateAndKey (signed by certs.os, O=os:admin, 365 days, DigitalSignature,
  ClientAuth; Ed25519 like its CA, siderolabs/crypto x509 NewKeyPair); CA extensions as in
  siderolabs/crypto x509/certificate_authority.go. PEM blocks: "EC PRIVATE KEY" (SEC1) and
  "ED25519 PRIVATE KEY" (PKCS#8 body).
- mgmt/gen/config.go: "generating PKI and tokens" (bundle.go, Verbose) and "Created %s" on stderr,
  `can't use multiple output types with stdout`; client/config/config.go NewConfig for talosconfig.
"""
from __future__ import annotations

import base64
import datetime as dt
import os
import secrets as pyrandom
import sys

from tests.world import go_yaml
from tests.world import talos_client as tcl
from tests.world import talos_config as tc
from tests.world.talos_client import CliError

CA_VALIDITY = dt.timedelta(hours=87600)
CLIENT_VALIDITY = dt.timedelta(days=365)  # constants.TalosAPIDefaultCertificateValidityDuration
_TOKEN_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _token() -> str:
    """genToken(6, 16)."""
    return "".join(pyrandom.choice(_TOKEN_CHARS) for _ in range(6)) + "." + \
        "".join(pyrandom.choice(_TOKEN_CHARS) for _ in range(16))


def _key_pem(key) -> bytes:
    """siderolabs/crypto PEM encoding of a private key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    if isinstance(key, ed25519.Ed25519PrivateKey):
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        body = base64.encodebytes(der).decode().replace("\n", "")
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        return ("-----BEGIN ED25519 PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END ED25519 PRIVATE KEY-----\n").encode()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def _name(organization: str = "", common_name: str = ""):
    """An x509 subject with O and/or CN."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    attrs = ([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)] if organization else [])
    attrs += [x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else []
    return x509.Name(attrs)


def _ca(organization: str = "", common_name: str = "", ed25519_key: bool = False) -> dict:
    """NewSelfSignedCertificateAuthority: {crt, key} as base64 of the PEM blocks."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.x509.oid import ExtendedKeyUsageOID

    key = ed25519.Ed25519PrivateKey.generate() if ed25519_key else ec.generate_private_key(ec.SECP256R1())
    name, now = _name(organization, common_name), dt.datetime.now(dt.timezone.utc)
    crt = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
           .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + CA_VALIDITY)
           .add_extension(x509.KeyUsage(True, False, False, False, False, True, False, False, False), critical=True)
           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                          critical=False)
           .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
           .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
           .sign(key, None if ed25519_key else hashes.SHA256()))
    from cryptography.hazmat.primitives import serialization

    return {"crt": base64.b64encode(crt.public_bytes(serialization.Encoding.PEM)).decode(),
            "key": base64.b64encode(_key_pem(key)).decode()}


def new_bundle() -> dict:
    """secrets.NewBundle with the current version contract, in yaml.Marshal's field order."""
    from cryptography.hazmat.primitives.asymmetric import ec

    service_account = base64.b64encode(_key_pem(ec.generate_private_key(ec.SECP256R1()))).decode()
    return {
        "cluster": {"id": base64.urlsafe_b64encode(os.urandom(32)).decode(),
                    "secret": base64.b64encode(os.urandom(32)).decode()},
        "secrets": {"bootstraptoken": _token(), "secretboxencryptionsecret": base64.b64encode(os.urandom(32)).decode()},
        "trustdinfo": {"token": _token()},
        "certs": {"etcd": _ca("etcd"), "k8s": _ca("kubernetes"), "k8saggregator": _ca(common_name="front-proxy"),
                  "k8sserviceaccount": {"key": service_account}, "os": _ca("talos", ed25519_key=True)},
    }


def _validate_file_exists(path: str, force: bool) -> None:
    """gen.go validateFileExists."""
    if not force and os.path.exists(path):
        raise CliError(f'file "{path}" already exists, use --force to overwrite')


def cmd_gen_secrets(flags) -> None:
    """gen secrets [-o FILE|-] [--force]."""
    if flags.args:
        raise CliError(f'unknown command "{flags.args[0]}" for "talosctl gen secrets"')  # cobra.NoArgs
    if flags["from-controlplane-config"] or flags["from-kubernetes-pki"] or flags["talos-version"]:
        raise CliError("the simulated talosctl only generates fresh secrets bundles")
    data = go_yaml.dump(new_bundle())
    if flags["output-file"] == "-":
        sys.stdout.write(data)
        return
    _validate_file_exists(flags["output-file"], flags["force"])
    fd = os.open(flags["output-file"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(data)


def _load_bundle(path: str) -> dict:
    """secrets.LoadBundle + Validate ("failed to load/validate secrets bundle: %w")."""
    try:
        with open(path) as handle:
            bundle = go_yaml.load(handle.read()) or {}
    except OSError as exc:
        raise CliError(f"failed to load secrets bundle: {tc.go_path_error('open', exc)}") from None
    problems = [f"{key} is required" for key in ("cluster.id", "cluster.secret", "secrets.bootstraptoken",
                                                 "trustdinfo.token", "certs.os")
                if not (bundle.get(key.split(".")[0]) or {}).get(key.split(".")[1])]
    if problems:
        raise CliError(f"failed to validate secrets bundle: {tcl.multierror(problems)}")
    return bundle


def admin_certificate(os_ca: dict) -> dict:
    """NewAdminCertificateAndKey: an Ed25519 client certificate signed by the Talos CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import ExtendedKeyUsageOID

    ca_crt = x509.load_pem_x509_certificate(base64.b64decode(os_ca["crt"]))
    ca_key = serialization.load_der_private_key(base64.b64decode(
        b"".join(base64.b64decode(os_ca["key"]).split(b"\n")[1:-2])), None)
    key, now = ed25519.Ed25519PrivateKey.generate(), dt.datetime.now(dt.timezone.utc)
    crt = (x509.CertificateBuilder().subject_name(_name("os:admin")).issuer_name(ca_crt.subject)
           .public_key(key.public_key()).serial_number(x509.random_serial_number())
           .not_valid_before(now).not_valid_after(now + CLIENT_VALIDITY)
           .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
           .sign(ca_key, None))
    return {"crt": base64.b64encode(crt.public_bytes(serialization.Encoding.PEM)).decode(),
            "key": base64.b64encode(_key_pem(key)).decode()}


def _validate_endpoint(endpoint: str) -> None:
    """config.go validateClusterEndpoint (fixControlPlaneEndpoint adds https:// and port 6443)."""
    scheme, sep, rest = endpoint.partition("://")
    host = rest if sep else endpoint
    port = host.rsplit(":", 1)[1] if ":" in host.split("/", 1)[0] else ""
    fixed = f'"https://{host}{"" if port else ":6443"}"'
    if not sep:
        what = "scheme" if port else "scheme and port"
        raise CliError(f"no {what} specified for the cluster endpoint URL\ntry: {fixed}")
    if scheme != "https":
        raise CliError(f"the control plane endpoint URL should have scheme https://\ntry: {fixed}")


def cmd_gen_config(flags) -> None:
    """gen config <cluster> <endpoint> --with-secrets F -t talosconfig [-o PATH|-]."""
    if len(flags.args) != 2:
        raise CliError(f"accepts 2 arg(s), received {len(flags.args)}")  # cobra.ExactArgs(2)
    _validate_endpoint(flags.args[1])
    if not flags["output-types"]:
        raise CliError("at least one output type must be specified")
    if len(flags["output-types"]) > 1 and flags["output"] == "-":
        raise CliError("can't use multiple output types with stdout")
    if flags["output-types"] != ["talosconfig"] or not flags["with-secrets"]:
        raise CliError("the simulated talosctl only generates a talosconfig from --with-secrets")
    bundle = _load_bundle(flags["with-secrets"])
    sys.stderr.write("generating PKI and tokens\n")
    client = admin_certificate(bundle["certs"]["os"])
    name = flags.args[0]
    data = go_yaml.dump({"context": name, "contexts": {name: {
        "endpoints": [], "ca": bundle["certs"]["os"]["crt"], "crt": client["crt"], "key": client["key"]}}})
    destination = flags["output"] or os.path.join(os.getcwd(), "talosconfig")
    if destination == "-":
        sys.stdout.write(data)
        return
    _validate_file_exists(destination, flags["force"])
    os.makedirs(os.path.dirname(os.path.abspath(destination)), exist_ok=True)
    with open(destination, "w") as handle:
        handle.write(data)
    os.chmod(destination, 0o644)
    sys.stderr.write(f"Created {destination}\n")
