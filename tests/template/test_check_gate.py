"""`make check` runs the eval gate CI runs: the plan against the merge base, replayed.

Before, `make check` gated each suite's target only, so a version a branch added, locked,
recorded and committed, and that fails its gate, passed `make check` and failed only in CI's
plan gate. The test commits a fresh render on `main`, adds such a version on a branch, and
runs `make check` with its eval steps only (`CHECK_STEPS`; lint, types and tests are
checked by `test_generated_checks.py`), so the base computation and the gate are the ones
`make check` runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.template.conftest import Rendered, commit_all, git, render, run

EVAL_STEPS = "CHECK_STEPS=prompts-check check-gate"


def test_a_committed_version_that_fails_its_gate_fails_make_check(
    tmp_path: Path, install: Callable[[Rendered], dict[str, str]]
) -> None:
    rendered = render(tmp_path / "squad")
    env = install(rendered)
    repo = rendered.path
    squad = ["uv", "run", "squad"]
    commit_all(repo, "rendered")
    assert run(["make", "check", EVAL_STEPS], cwd=repo, env=env, check=False).returncode == 0

    git("switch", "--quiet", "-c", "worse-prompt", cwd=repo)
    run([*squad, "prompts", "new", "triage"], cwd=repo, env=env)
    v3 = repo / "prompts" / "triage" / "v3.yaml"
    v3.write_text(v3.read_text(encoding="utf-8").replace("\n      {{ body }}\n", "\n"))
    run([*squad, "prompts", "lock"], cwd=repo, env=env)
    record = [*squad, "eval", "run", "triage", "--version", "3", "--mode", "record"]
    run([*record, "--out", "reports/v3"], cwd=repo, env=env)
    commit_all(repo, "triage v3, recorded")

    checked = run(["make", "check", EVAL_STEPS], cwd=repo, env=env, check=False)

    assert checked.returncode != 0, checked.stdout + checked.stderr
    assert "eval gate failed for suite 'triage' (triage@v3)" in checked.stderr
    assert "Traceback" not in checked.stderr
    assert git("status", "--porcelain", "--", "evals", "prompts", cwd=repo) == ""
