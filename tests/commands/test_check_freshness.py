"""`doit check` after an offline run: the folded schema warning, a rerun once schemas are reachable,
and an upstream-schema violation in `values:` told against the settings file, line and key."""
from __future__ import annotations

from tests.project import Project, executed_tasks
from tests.schema_mirror import closed_port_url

BAD_VALUES = "values:\n  operator:\n    replicas: two\n"


def _project(tmp_path) -> Project:
    """A fresh copy whose cilium.yaml `values:` breaks the chart's schema (replicas must be an integer)."""
    project = Project.copy(tmp_path / "repo")
    path = project.path("bootstrap/values/cilium.yaml")
    path.write_text(path.read_text().replace("values: {}\n", BAD_VALUES))
    return project


def test_offline_check_passes_with_one_folded_warning_and_reruns_once_schemas_are_reachable(
        tmp_path, schema_mirror):
    project = _project(tmp_path)
    offline = {"BOOTSTRAP_SCHEMA_MIRROR": closed_port_url()}
    first = project.doit("check", env=offline)
    assert first.returncode == 0, first.stdout + first.stderr
    warnings = [line for line in first.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, first.stderr
    assert "upstream schema(s) could not be fetched" in warnings[0] and "BOOTSTRAP_SCHEMA_MIRROR" in warnings[0]
    again = project.doit("check", env=offline)
    assert executed_tasks(again.stdout) == ["check"], again.stdout       # not up to date after an offline run
    reachable = project.doit("check")                                   # schema_mirror's environment
    assert reachable.returncode != 0, reachable.stdout
    assert reachable.stdout.splitlines()[0].split()[:2] == ["failed", "check"], reachable.stdout
    line = next(n for n, text in enumerate(BAD_VALUES.splitlines(), 1) if "replicas" in text)
    start = project.path("bootstrap/values/cilium.yaml").read_text().count("\n") - BAD_VALUES.count("\n")
    assert (f"  - bootstrap/values/cilium.yaml:{start + line}: [upstream-schema] values.operator.replicas: "
            "expected an integer, found string 'two'") in reachable.stdout, reachable.stdout
    assert "build/values/cilium.yaml:" not in reachable.stdout


def test_check_with_every_schema_fetched_stays_up_to_date(tmp_path, schema_mirror):
    project = Project.copy(tmp_path / "repo")
    assert project.doit("check").returncode == 0
    assert executed_tasks(project.doit("check").stdout) == []
