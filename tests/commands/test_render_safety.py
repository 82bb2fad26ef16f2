"""`doit render` and `doit clean` on hostile or damaged input: only build/ is ever written or deleted,
a damaged artifact is restored, bombs and broken files are named problems, never tracebacks."""
from __future__ import annotations

import os

from tests.project import executed_tasks

ALIAS_BOMB = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9) if i else ', '.join(['x'] * 9)}]\n"
                     for i in range(7))


def _refused(result) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output, output
    return output


def test_clean_never_deletes_outside_build(rendered, schema_env, tmp_path):
    """A node named `../../…` is refused by the check and creates no task, so `doit clean` cannot reach
    the file it names."""
    victim = rendered.root.parent / "victim.yaml"
    victim.write_text("precious: true\n")
    talos = rendered.read_yaml("bootstrap/values/talos.yaml")
    talos["nodes"][2]["name"] = "../../bootstrap/values/common"          # build/talos/<name>.yaml
    talos["nodes"][3]["name"] = "../../../victim"
    rendered.write_yaml("bootstrap/values/talos.yaml", talos)
    output = _refused(rendered.doit("render", env=schema_env))
    assert "nodes[2].name" in output and "nodes[3].name" in output
    cleaned = rendered.doit("clean", env=schema_env)
    assert "Traceback" not in cleaned.stdout + cleaned.stderr
    assert victim.read_text() == "precious: true\n"
    assert rendered.path("bootstrap/values/common.yaml").exists()


def test_a_damaged_artifact_is_restored_by_the_next_render(rendered, schema_env):
    """Truncated or hand-edited files under build/ are rendered again, even though no input changed."""
    cilium = rendered.path("build/values/cilium.yaml")
    kube_vip = rendered.path("build/values/kube-vip.yaml")
    original = {p: p.read_bytes() for p in (cilium, kube_vip)}
    cilium.write_text("")
    assert "svc_enable: 'false'" in kube_vip.read_text()
    kube_vip.write_text(kube_vip.read_text().replace("svc_enable: 'false'", "svc_enable: 'true'"))
    result = rendered.doit("render", env=schema_env)
    assert result.returncode == 0, result.stderr
    assert sorted(executed_tasks(result.stdout)) == ["render:values/cilium", "render:values/kube-vip"]
    assert {p: p.read_bytes() for p in original} == original


def test_an_alias_bomb_is_a_problem_with_its_file_not_a_memory_blowup(rendered, schema_env):
    before = rendered.snapshot()
    path = rendered.path("bootstrap/values/cilium.yaml")
    path.write_text(path.read_text().replace("values: {}", "values:\n  bomb:\n" + "".join(
        "    " + line + "\n" for line in ALIAS_BOMB.splitlines())))
    output = _refused(rendered.doit("render", env=schema_env, timeout=60))
    assert "bootstrap/values/cilium.yaml" in output and "more than 100000 values once its aliases are expanded" in output
    assert rendered.snapshot() == before


def test_an_oversized_file_and_a_stray_byte_are_named(rendered, schema_env):
    before = rendered.snapshot()
    rendered.path("bootstrap/values/spegel.yaml").write_text("values:\n  pad: '" + "x" * 1_100_000 + "'\n")
    common = rendered.path("bootstrap/values/common.yaml")
    common.write_bytes(common.read_bytes().replace(b"name: home", b"name: h\xe9me"))
    output = _refused(rendered.doit("render", env=schema_env))
    assert "bootstrap/values/spegel.yaml: (document): expected a file of at most 1048576 bytes" in output
    assert "bootstrap/values/common.yaml: (document): expected UTF-8 text, found byte 0xe9 at offset" in output
    assert rendered.snapshot() == before


def test_template_syntax_in_a_value_is_data(rendered, schema_env):
    """`{{ }}` and `{% %}` in settings values are copied, never evaluated (by Jinja or by op)."""
    cilium = rendered.read_yaml("bootstrap/values/cilium.yaml")
    cilium["values"] = {"podAnnotations": {"a": "{{ cluster.name }}", "b": "{% raw %}"}}
    rendered.write_yaml("bootstrap/values/cilium.yaml", cilium)
    result = rendered.doit("render", env=schema_env)
    assert result.returncode == 0, result.stdout + result.stderr
    values = rendered.read_yaml("build/values/cilium.yaml")
    assert values["podAnnotations"] == {"a": "{{ cluster.name }}", "b": "{% raw %}"}


def test_a_symlinked_build_folder_is_refused(rendered, schema_env, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    values = rendered.path("build/values")
    for path in values.iterdir():
        (outside / path.name).write_bytes(path.read_bytes())
    (outside / "unrelated.yaml").write_text("mine: true\n")
    os.rename(values, tmp_path / "moved")
    os.symlink(outside, values)
    rendered.path("bootstrap/values/spegel.yaml").write_text(
        rendered.path("bootstrap/values/spegel.yaml").read_text().replace("hostPort: 29999", "hostPort: 29998"))
    output = _refused(rendered.doit("render", env=schema_env))
    assert "build/values is a symbolic link" in output
    assert (outside / "unrelated.yaml").read_text() == "mine: true\n"
    assert "29998" not in (outside / "spegel.yaml").read_text()


def test_stale_cleanup_removes_only_what_the_tool_rendered(rendered, schema_env):
    """A renamed node's old file goes; a file the tool never wrote stays."""
    rendered.path("build/values/mine.yaml").write_text("mine: true\n")
    talos = rendered.read_yaml("bootstrap/values/talos.yaml")
    talos["nodes"][3]["name"] = "worker-9"
    rendered.write_yaml("bootstrap/values/talos.yaml", talos)
    assert rendered.doit("render", env=schema_env).returncode == 0
    assert not rendered.path("build/talos/worker-1.yaml").exists()
    assert rendered.path("build/values/mine.yaml").read_text() == "mine: true\n"


def test_a_broken_doit_state_file_is_moved_aside_with_a_warning(rendered, schema_env):
    rendered.path(".doit.db").write_text('"not doit state"')
    result = rendered.doit("render", env=schema_env)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert ".doit.db was not doit's state; moved to .doit.db.broken-" in result.stderr
    assert [p.name for p in rendered.root.glob(".doit.db.broken-*")]
    assert executed_tasks(rendered.doit("render", env=schema_env).stdout) == []
