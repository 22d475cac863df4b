"""An eval run is one object with a lifetime: it owns its spool and its recordings cache."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from squadkit.evals import ReplayMiss, RunOptions, Target, load_suite, read_report
from squadkit.evals.runner import EvalRun
from squadkit.settings import Settings
from tests.library.evals.evalkit import drop_recordings

REPLAY = RunOptions(mode="replay", progress=False)


def test_a_run_reads_its_cases_while_open_and_keeps_its_scores_after(
    settings: Settings, tmp_path: Path
) -> None:
    suite = load_suite(settings.evals_dir / "triage.yaml")
    baseline = read_report(suite.baseline_path)
    spool = tmp_path / "spool"
    spool.mkdir()

    with EvalRun.open(suite, settings=settings, options=REPLAY, spool_dir=spool) as run:
        report = asyncio.run(run.execute())
        assert list(report.cases()) == baseline.arm().cases  # from the spool, in dataset order

    assert report.arm().summary == baseline.arm().summary  # what the commands print
    assert [c.id for c in report.arm_scores()] == [c.id for c in baseline.arm().cases]
    with pytest.raises(ValueError, match="closed file"):
        next(report.cases())  # the spool went with the run
    assert not list(spool.iterdir())


def test_a_run_that_fails_leaves_nothing_in_its_folder(settings: Settings, tmp_path: Path) -> None:
    drop_recordings(settings.evals_dir / "recordings" / "triage.jsonl", case="ticket-041")
    suite = load_suite(settings.evals_dir / "triage.yaml")
    spool = tmp_path / "spool"
    spool.mkdir()

    with (
        pytest.raises(ReplayMiss, match="case 'ticket-041'"),
        EvalRun.open(suite, settings=settings, options=REPLAY, spool_dir=spool) as run,
    ):
        asyncio.run(run.execute())

    assert not list(spool.iterdir())


def test_a_run_knows_the_alias_each_arm_prompt_names(settings: Settings) -> None:
    """What the gate needs to tell an overridden model (no evidence) from the prompt's own."""
    suite = load_suite(settings.evals_dir / "triage.yaml")
    targets = [
        Target(prompt="triage", version=1),
        Target(prompt="triage", version=2, model="judge"),
    ]

    with EvalRun.open(suite, settings=settings, options=REPLAY, targets=targets) as run:
        aliases = run.prompt_aliases

    assert aliases == {targets[0].arm_name: "triage", targets[1].arm_name: "triage"}
