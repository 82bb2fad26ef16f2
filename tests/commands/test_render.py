"""End-to-end tests of `doit render` on the shipped example, run in a copy of the project."""
from __future__ import annotations

import filecmp

from tests.project import Project, executed_tasks


def test_clean_render_writes_every_artifact(rendered):
    """A clean render produces every Talos config, values file and manifest."""
    files = set(rendered.snapshot())
    nodes = [n["name"] for n in rendered.read_yaml("bootstrap/values/talos.yaml")["nodes"]]
    releases = [r["name"] for r in rendered.read_yaml("bootstrap/charts.yaml")["releases"]]
    assert {f"talos/{n}.yaml" for n in nodes} <= files
    assert {f"values/{r}.yaml" for r in releases} <= files
    assert {"helmfile/00-crds.yaml", "helmfile/01-apps.yaml", "manifests/cilium-network.yaml",
            "talos/talosconfig.yaml"} <= files
    assert "flux/sync.yaml" not in files          # the FluxInstance owns the sync


def test_second_render_executes_nothing(rendered, schema_env):
    """A no-op rerun executes no task."""
    result = rendered.doit("render", env=schema_env)
    assert result.returncode == 0, result.stderr
    assert executed_tasks(result.stdout) == []


def test_one_cilium_edit_reruns_only_its_dependents(rendered, schema_env):
    """Changing one value in cilium.yaml re-renders only what reads cilium.yaml; the rest keeps
    its bytes and mtimes."""
    before = rendered.snapshot()
    settings = rendered.read_yaml("bootstrap/values/cilium.yaml")
    settings["bgp"]["timers"]["holdTimeSeconds"] = 180
    rendered.write_yaml("bootstrap/values/cilium.yaml", settings)
    result = rendered.doit("render", env=schema_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(executed_tasks(result.stdout)) == [
        "check", "render:manifests/cilium-network", "render:values/cilium"]
    after = rendered.snapshot()
    changed = {f for f in after if after[f] != before[f]}
    assert changed == {"manifests/cilium-network.yaml", "rendered.json"}      # the artifact and its digest record
    assert "holdTimeSeconds: 180" in rendered.path("build/manifests/cilium-network.yaml").read_text()


def test_render_is_deterministic_across_directories(rendered, tmp_path, schema_env):
    """Two renders of the same inputs in different folders are byte-identical."""
    other = Project.copy(tmp_path / "other")
    assert other.doit("render", env=schema_env).returncode == 0
    comparison = filecmp.dircmp(rendered.path("build"), other.path("build"))
    assert _all_same(comparison)


def _all_same(cmp: filecmp.dircmp) -> bool:
    """True if two trees hold the same files with the same bytes."""
    _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
    if mismatch or errors or cmp.left_only or cmp.right_only:
        return False
    return all(_all_same(sub) for sub in cmp.subdirs.values())


def test_list_shows_every_task_with_a_doc(rendered):
    """`doit list --all` shows each render task with its one-line doc."""
    result = rendered.doit("list", "--all")
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert any(line.startswith("render:talos/cp-1") and "Talos machine config" in line for line in lines)
    assert all(len(line.split(None, 1)) == 2 for line in lines), lines


def test_no_secret_values_in_build(rendered):
    """Every secret field of a rendered Talos config is an op:// reference."""
    text = rendered.path("build/talos/cp-1.yaml").read_text()
    assert "op://homelab/talos/cluster-ca-key" in text
    assert "BEGIN" not in text and "PRIVATE KEY" not in text


def test_renamed_node_leaves_no_stale_config(rendered, schema_env):
    """Renaming a node renders the new file and removes the old one."""
    talos = rendered.read_yaml("bootstrap/values/talos.yaml")
    talos["nodes"][3]["name"] = "worker-9"
    rendered.write_yaml("bootstrap/values/talos.yaml", talos)
    result = rendered.doit("render", env=schema_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert rendered.path("build/talos/worker-9.yaml").exists()
    assert not rendered.path("build/talos/worker-1.yaml").exists()


def test_a_changed_schema_default_re_renders_what_uses_it(rendered, schema_env):
    """Defaults come from tasks/settings/schemas/: changing one reaches the artifacts that rely on it."""
    spegel = rendered.read_yaml("bootstrap/values/spegel.yaml")
    del spegel["containerdRegistryConfigPath"]
    rendered.write_yaml("bootstrap/values/spegel.yaml", spegel)
    assert rendered.doit("render", env=schema_env).returncode == 0
    schema = rendered.path("tasks/settings/schemas/spegel.schema.yaml")
    schema.write_text(schema.read_text().replace("default: /etc/cri/conf.d/hosts", "default: /etc/cri/hosts.d"))
    result = rendered.doit("render", env=schema_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "render:values/spegel" in executed_tasks(result.stdout)
    assert "/etc/cri/hosts.d" in rendered.path("build/values/spegel.yaml").read_text()


def test_the_chart_source_reaches_the_helmfiles_and_only_them(rendered, schema_env):
    """BOOTSTRAP_CHART_SOURCE is read by `doit render`: changing it re-renders the two helmfiles only."""
    result = rendered.doit("render", env={**schema_env, "BOOTSTRAP_CHART_SOURCE": "/srv/charts"})
    assert result.returncode == 0, result.stderr
    assert sorted(executed_tasks(result.stdout)) == ["render:helmfile/00-crds", "render:helmfile/01-apps"]
    assert '"/srv/charts/cilium-1.19.4"' in rendered.path("build/helmfile/01-apps.yaml").read_text()
    assert executed_tasks(rendered.doit("render", env={**schema_env, "BOOTSTRAP_CHART_SOURCE": "/srv/charts"})
                          .stdout) == []
