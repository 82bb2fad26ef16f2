"""The one decision that feeds doit's uptodate, the stage actions and `doit plan`."""
from __future__ import annotations

import pytest

from tasks import paths
from tasks.apply import stage as stages


@pytest.fixture
def stage_factory(tmp_path, monkeypatch):
    """Stages over a temporary input file, with their records kept in tmp_path."""
    monkeypatch.setattr(paths, "STATE", tmp_path / "state")
    source = tmp_path / "values.yaml"
    source.write_text("a: 1\n")

    def make(done):
        return stages.Stage("release-x", "doc", (source,), done, lambda facts: None)
    return make, source


def test_never_succeeded_means_run(stage_factory):
    make, _ = stage_factory
    decision = stages.decide(make(lambda f: (True, "deployed")), facts=None)
    assert decision.run and decision.reasons == ("no record of a previous success",)


def test_recorded_and_done_means_up_to_date_with_the_cluster_reason(stage_factory):
    make, _ = stage_factory
    stage = make(lambda f: (True, "release x deployed"))
    stages.record(stage, stages.digest(stage))
    decision = stages.decide(stage, facts=None)
    assert not decision.run and str(decision) == "up to date: release x deployed"


def test_cluster_not_done_or_input_changed_means_run_with_both_reasons(stage_factory):
    make, source = stage_factory
    stage = make(lambda f: (False, "release x is pending-upgrade"))
    stages.record(stage, stages.digest(stage))
    source.write_text("a: 2\n")
    decision = stages.decide(stage, facts=None)
    assert decision.run
    assert decision.reasons == ("release x is pending-upgrade", f"{source} changed")


def test_a_probe_that_raises_answers_not_done(stage_factory):
    """A fact check that blows up never reaches doit: it is 'not done', with the reason."""
    make, _ = stage_factory
    stage = make(lambda f: 1 / 0)
    stages.record(stage, stages.digest(stage))
    decision = stages.decide(stage, facts=None)
    assert decision.run and "could not tell (ZeroDivisionError" in decision.reasons[0]


def test_a_stage_handed_off_ignores_changed_inputs(stage_factory):
    """None from the fact check means something else owns it now: no run, whatever changed."""
    make, source = stage_factory
    stage = make(lambda f: (None, "release x is managed by Flux"))
    source.write_text("a: 3\n")
    decision = stages.decide(stage, facts=None)
    assert not decision.run and decision.reasons == ("release x is managed by Flux",)
