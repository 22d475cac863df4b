"""`squad eval run --workers N`: shards in child processes, merged as one run would report.

The CLI runs in a subprocess here, as a user runs it: on Linux it forks its children after
importing litellm, and a fresh single-threaded process is what it forks in real use.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from squadkit.evals import (
    RunOptions,
    load_suite,
    read_report,
    run_suite,
    workers,
)
from squadkit.settings import Settings
from squadkit.testing import FakeOpenAIServer, Reply
from tests.library.evals.evalkit import drop_recordings, keep_first_cases
from tests.library.squad import COMMAND

TRIAGE_ANSWER = json.dumps(
    {"queue": "billing", "priority": "normal", "rationale": "mentions a refund"}
)


def squad_eval(
    repo: Path, *args: str, command: str = "run", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, "eval", command, *args],
        cwd=repo,
        env={**os.environ, "CI": "1", **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )


def test_two_workers_give_the_report_of_one_process(settings: Settings, repo: Path) -> None:
    suite = load_suite(settings.evals_dir / "triage.yaml")
    one = asyncio.run(
        run_suite(suite, settings=settings, options=RunOptions(mode="replay", progress=False))
    )
    result = squad_eval(repo, "triage", "--workers", "2", "--out", "out")
    assert result.returncode == 0, result.stderr
    two = read_report(repo / "out" / "triage" / "report.json")
    assert two.shard is None
    assert two.arms == one.arms
    finished = [line for line in result.stderr.splitlines() if "done" in line]
    assert sorted(line.split(" done")[0] for line in finished) == [
        "triage: shard 1/2",
        "triage: shard 2/2",
    ]


def test_live_workers_forked_after_litellm_give_the_answers_of_one_process(
    settings: Settings, repo: Path, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.default = Reply.ok(TRIAGE_ANSWER)
    models = {
        "aliases": {
            "triage": {
                "deployments": [
                    {
                        "model": "openai/fake-triage",
                        "api_base": fake_openai.base_url,
                        "api_key_env": "FAKE_PROVIDER_KEY",
                        "max_retries": 0,
                    }
                ]
            },
            "judge": {"deployments": [{"model": "local/judge-heuristic-v1"}]},
        }
    }
    (repo / "config" / "models.yaml").write_text(yaml.safe_dump(models), encoding="utf-8")
    keep_first_cases(repo / "evals", 24)  # 12 live calls per worker show the fork works
    env = {"FAKE_PROVIDER_KEY": "sk-fake"}
    result = squad_eval(repo, "triage", "--mode", "live", "--workers", "2", "--out", "out", env=env)
    assert result.returncode in (0, 1), result.stderr  # 1: thresholds, not a crash
    assert "html: " in result.stdout  # the quick exit after litellm still flushes output
    two = read_report(repo / "out" / "triage" / "report.json")
    cases = len(two.arm().cases)
    assert cases == 24
    assert fake_openai.request_count == cases  # every case called once, by one of the shards
    for case in two.arm().cases:
        assert [a.output for a in case.attempts] == [json.loads(TRIAGE_ANSWER)]
        assert case.attempts[0].deployment == "openai/fake-triage"
    assert two.arm().models["triage"] == ["openai/fake-triage"]
    assert [c.index for c in two.arm().cases] == list(range(cases))


def test_a_failing_worker_names_its_shard_and_exits_2(repo: Path) -> None:
    drop_recordings(repo / "evals" / "recordings" / "triage.jsonl", case="ticket-041")
    result = squad_eval(repo, "triage", "--workers", "2", "--out", "out")
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("error: suite 'triage': shard ")
    assert "/2 exited 2: case 'ticket-041': no recording" in errors[0]
    assert "Traceback" not in result.stderr


CRASHING_SCORER = """\
import os


def crash_on_041(ctx):
    if ctx.case.id == "ticket-041":
        os._exit(3)  # a hard crash: no exception, no message, the process is gone
    return 1.0
"""


def test_a_crashing_worker_is_reported_not_lost(repo: Path) -> None:
    (repo / "crashing_scorer.py").write_text(CRASHING_SCORER, encoding="utf-8")
    suite_file = repo / "evals" / "triage.yaml"
    suite = yaml.safe_load(suite_file.read_text(encoding="utf-8"))
    suite["scorers"].append(
        {"name": "crash", "type": "custom", "function": "crashing_scorer.crash_on_041"}
    )
    suite_file.write_text(yaml.safe_dump(suite), encoding="utf-8")
    result = squad_eval(
        repo,
        "triage",
        "--workers",
        "2",
        "--out",
        "out",
        env={"PYTHONPATH": os.pathsep.join([str(repo), os.environ["PYTHONPATH"]])},
    )
    assert result.returncode == 2, result.stderr
    assert "error: suite 'triage': shard " in result.stderr
    assert "/2 exited 3" in result.stderr
    assert not (repo / "out" / "triage" / "report.json").exists()


def test_workers_write_one_job_summary_not_one_per_shard(repo: Path) -> None:
    summary = repo / "step-summary.md"
    result = squad_eval(
        repo,
        "triage",
        "--workers",
        "2",
        "--out",
        "out",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert result.returncode == 0, result.stderr
    assert summary.read_text(encoding="utf-8").count("## Eval `triage`") == 1


def test_gate_with_workers_passes_as_one_process_does(repo: Path) -> None:
    result = squad_eval(repo, "triage", "--workers", "2", "--no-evidence", command="gate")
    assert result.returncode == 0, result.stderr
    assert "shard 2/2 done" in result.stderr
    gated = read_report(repo / "reports" / "triage" / "report.json")
    assert gated.gate is not None
    assert gated.gate.verdict == "pass"


@pytest.mark.parametrize(
    ("mode", "requested", "expected"),
    [
        ("replay", None, 1),  # recordings: no model call to share out
        ("live", None, "cores"),  # 40 cases: enough calls for every core (up to one per 20)
        ("live", 3, 3),
        ("replay", 500, 40),  # never more processes than cases
    ],
)
def test_auto_workers_use_the_cores_only_for_model_calls(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    requested: int | None,
    expected: int | str,
) -> None:
    monkeypatch.setattr(workers, "_cores", lambda: 2)
    monkeypatch.setattr(workers, "CALLS_PER_WORKER", 20)
    suite = load_suite(settings.evals_dir / "triage.yaml")
    options = RunOptions(mode=mode, progress=False)  # type: ignore[arg-type]
    count = workers.worker_count(requested, suite, options, [suite.spec.target])
    assert count == (2 if expected == "cores" else expected)


def test_every_attempt_reaches_the_progress_hook(settings: Settings) -> None:
    """How a worker tells the parent's progress bar how far it is."""
    suite = load_suite(settings.evals_dir / "triage.yaml")
    seen: list[str] = []
    options = RunOptions(mode="replay", progress=False, on_attempt=lambda: seen.append("x"))
    report = asyncio.run(run_suite(suite, settings=settings, options=options))
    assert len(seen) == len(report.arm().cases)


def test_auto_workers_stay_one_for_a_small_live_run(settings: Settings) -> None:
    suite = load_suite(settings.evals_dir / "triage.yaml")
    options = RunOptions(mode="live", progress=False)
    # 40 calls: not enough to pay for a second process (one per 100).
    assert workers.worker_count(None, suite, options, [suite.spec.target]) == 1
