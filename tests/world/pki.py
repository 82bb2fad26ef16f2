"""Certificates for the fake API server: a CA, a serving certificate and an admin client certificate.

Generated with ``cryptography`` into ``DIR/pki/`` and reused when present. The serving certificate is
reissued (by the same CA) when it lacks a requested SAN, so a kubeconfig that sets ``tls-server-name``
to a real cluster address (e.g. 10.0.48.55) while connecting to 127.0.0.1 verifies.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
import pathlib
import tempfile
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_SANS = ("127.0.0.1", "::1", "localhost")
VALIDITY = dt.timedelta(days=3650)


@dataclass(frozen=True)
class Pki:
    """Paths of the generated PEM files."""

    dir: pathlib.Path
    ca_file: pathlib.Path
    ca_key: pathlib.Path
    server_cert: pathlib.Path
    server_key: pathlib.Path
    client_cert: pathlib.Path
    client_key: pathlib.Path


def write_atomic(path: pathlib.Path, data: bytes, mode: int = 0o644) -> None:
    """Write a file atomically with the given mode."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key (fast to generate, accepted by Go's TLS stack)."""
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key) -> bytes:
    """PEM (PKCS8, unencrypted) of a private key."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(cn: str, org: str | None = None) -> x509.Name:
    """An X.509 name with a common name and optional organization."""
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _builder(subject: x509.Name, issuer: x509.Name, public_key) -> x509.CertificateBuilder:
    """A certificate builder with serial and a validity window starting a day ago."""
    now = dt.datetime.now(dt.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + VALIDITY))


def _make_ca() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A self-signed CA certificate and its key."""
    key = _new_key()
    name = _name("world-kubernetes-ca")
    cert = (_builder(name, name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


def _leaf(ca: x509.Certificate, ca_key, subject: x509.Name, usage, sans: list[x509.GeneralName] | None):
    """A leaf certificate signed by the CA, with the given extended key usage and SANs."""
    key = _new_key()
    b = (_builder(subject, ca.subject, key.public_key())
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, key_cert_sign=False,
                                      crl_sign=False, content_commitment=False, data_encipherment=False,
                                      key_agreement=False, encipher_only=False, decipher_only=False),
                        critical=True)
         .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False))
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return b.sign(ca_key, hashes.SHA256()), key


def _general_name(san: str) -> x509.GeneralName:
    """An IP or DNS general name for a SAN string."""
    try:
        return x509.IPAddress(ipaddress.ip_address(san))
    except ValueError:
        return x509.DNSName(san)


def _cert_has_sans(path: pathlib.Path, wanted: list[x509.GeneralName]) -> bool:
    """True when the certificate at path carries every wanted SAN."""
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        have = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    return all(n in have for n in wanted)


def _load_ca(pki: Pki):
    """Load the CA certificate and key from disk."""
    cert = x509.load_pem_x509_certificate(pki.ca_file.read_bytes())
    key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), password=None)
    return cert, key


def ensure_pki(directory: pathlib.Path | str, extra_sans: list[str] | tuple[str, ...] = ()) -> Pki:
    """Create (or reuse) CA, serving and admin certificates under directory/pki."""
    base = pathlib.Path(directory) / "pki"
    base.mkdir(parents=True, exist_ok=True)
    pki = Pki(base, base / "ca.crt", base / "ca.key", base / "server.crt", base / "server.key",
              base / "admin.crt", base / "admin.key")
    if not (pki.ca_file.exists() and pki.ca_key.exists()):
        ca, ca_key = _make_ca()
        write_atomic(pki.ca_key, _key_pem(ca_key), 0o600)
        write_atomic(pki.ca_file, ca.public_bytes(serialization.Encoding.PEM))
        for stale in (pki.server_cert, pki.client_cert):
            stale.unlink(missing_ok=True)
    ca, ca_key = _load_ca(pki)
    sans = [_general_name(s) for s in dict.fromkeys([*DEFAULT_SANS, *extra_sans])]
    if not (pki.server_key.exists() and _cert_has_sans(pki.server_cert, sans)):
        cert, key = _leaf(ca, ca_key, _name("kube-apiserver"), ExtendedKeyUsageOID.SERVER_AUTH, sans)
        write_atomic(pki.server_key, _key_pem(key), 0o600)
        write_atomic(pki.server_cert, cert.public_bytes(serialization.Encoding.PEM))
    if not (pki.client_cert.exists() and pki.client_key.exists()):
        cert, key = _leaf(ca, ca_key, _name("admin", "system:masters"), ExtendedKeyUsageOID.CLIENT_AUTH, None)
        write_atomic(pki.client_key, _key_pem(key), 0o600)
        write_atomic(pki.client_cert, cert.public_bytes(serialization.Encoding.PEM))
    return pki
