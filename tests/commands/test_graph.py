"""`doit graph`: the stage chain as Graphviz dot (and SVG where `dot` is installed), each stage
coloured by the last plan's decision (build/plan.json, written by `doit plan`)."""
from __future__ import annotations

import json
import re
import shutil

from tasks.apply.table import stage_table
from tasks.commands.graph import COLOURS
from tasks.settings import load

NODE = re.compile(r'^  "(?P<name>[^"]+)" \[label="(?P<label>[^"]*)", fillcolor="(?P<fill>[^"]+)"', re.M)


def _nodes(dot: str) -> dict[str, tuple[str, str]]:
    return {m["name"]: (m["label"], m["fill"]) for m in NODE.finditer(dot)}


def test_graph_without_a_plan_draws_every_stage_in_grey(rendered, schema_env):
    result = rendered.doit("graph", env=schema_env)
    assert result.returncode == 0, result.stdout + result.stderr
    dot = rendered.path("build/graph/stages.dot").read_text()
    names = [stage.name for stage in stage_table(load.cluster())]
    nodes = _nodes(dot)
    assert list(nodes) == names
    assert {fill for _, fill in nodes.values()} == {COLOURS["unknown"]}
    assert dot.count(" -> ") == len(names) - 1 and f'"{names[0]}" -> "{names[1]}";' in dot
    if shutil.which("dot"):
        assert rendered.path("build/graph/stages.svg").read_text().lstrip().startswith("<?xml")
    else:
        assert "wrote build/graph/stages.dot (Graphviz `dot` is not installed" in result.stdout
        assert not rendered.path("build/graph/stages.svg").exists()


def test_graph_colours_each_stage_by_the_last_plan(rendered, schema_env):
    names = [stage.name for stage in stage_table(load.cluster())]
    plan = {name: {"run": False, "reasons": ["done"]} for name in names}
    plan["release-cilium"] = {"run": True, "reasons": ["build/values/cilium.yaml changed"]}
    rendered.path("build/plan.json").write_text(json.dumps(plan))
    assert rendered.doit("graph", env=schema_env).returncode == 0
    nodes = _nodes(rendered.path("build/graph/stages.dot").read_text())
    assert nodes["release-cilium"] == ("release-cilium\\nwould run: build/values/cilium.yaml changed", COLOURS["run"])
    assert {fill for name, (_, fill) in nodes.items() if name != "release-cilium"} == {COLOURS["up to date"]}
