"""The tool table: each tool's real version output parsed, and the minimum compared."""
from __future__ import annotations

import pytest

from tasks.tools import versions
from tasks.tools.versions import TOOLS, Found, as_tuple

# What each tool prints for its version command (kubectl, helm and helmfile: the pinned binaries'
# output; talosctl: cmd/talosctl/cmd/talos/version.go "Client:" then "Talos <tag>" with --short).
OUTPUTS = {
    "talosctl": "Client:\nTalos v1.13.9\n",
    "kubectl": '{\n  "clientVersion": {\n    "major": "1",\n    "minor": "32",\n    "gitVersion": "v1.32.3",\n'
               '    "goVersion": "go1.23.6"\n  }\n}\n',
    "helm": "v3.17.2+gcc0bbbd\n",
    "helmfile": "0.166.0\n",
    "op": "2.32.0\n",
}


@pytest.mark.parametrize("name, expected", [("talosctl", "1.13.9"), ("kubectl", "1.32.3"), ("helm", "3.17.2"),
                                            ("helmfile", "0.166.0"), ("op", "2.32.0")])
def test_versions_parsed_from_real_output(monkeypatch, name, expected):
    from tasks.tools.gateway import Result
    monkeypatch.setattr(versions, "run", lambda tool, args, **kw: Result(tool, tuple(args), 0, OUTPUTS[tool], "", 0.1))
    [found] = versions.tool_versions((name,))
    assert found.version == expected and not found.too_old


def test_older_than_the_minimum_and_the_fix_names_the_override():
    helm = next(t for t in TOOLS if t.name == "helm")
    old = Found(helm, version="3.10.0")
    assert old.too_old and not Found(helm, version="3.17.0").too_old and not Found(helm, version="4.0.1").too_old
    assert "HELM" in old.fix() and "3.17.0" in old.fix()


def test_as_tuple_compares_numerically():
    assert as_tuple("v1.9.0") < as_tuple("v1.13.0") and as_tuple("no version") == ()
