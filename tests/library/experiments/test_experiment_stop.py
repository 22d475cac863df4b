"""`squad experiments stop`: the status set to stopped with the reason beside it and every
other byte of the file kept, the winner's promotion printed or run through the normal
promotion path, and one-line errors for unknown names."""

from __future__ import annotations

from pathlib import Path

import yaml

from squadkit.experiments import load_experiments
from tests.library.experiments.experimentkit import squad
from tests.library.squad import copy_data

COMMENTED = """\
# Our experiments (hand-written comments stay).
experiments:
  triage-v2:
    prompt: triage
    label: production
    status: running   # started on Monday
    arms:
      v1: {version: 1, weight: 50}   # the control
      v2: {version: 2, weight: 50}
    primary: {feedback: correct}
"""


def _squad_with_experiment(tmp_path: Path) -> tuple[Path, Path]:
    root = copy_data(tmp_path)
    path = root / "config" / "experiments.yaml"
    path.write_text(COMMENTED, encoding="utf-8")
    return root, path


def test_stop_sets_the_status_and_keeps_every_other_line(tmp_path: Path) -> None:
    root, path = _squad_with_experiment(tmp_path)

    result = squad(root, "experiments", "stop", "triage-v2", "--reason", "latency too high")

    assert result.returncode == 0, result.stderr
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[5].startswith("    # stopped ")
    assert lines[5].endswith(": latency too high")
    assert lines[6] == "    status: stopped   # started on Monday"
    assert lines[:5] + lines[7:] == COMMENTED.splitlines()[:5] + COMMENTED.splitlines()[6:]
    assert load_experiments(path).experiments["triage-v2"].status == "stopped"


def test_stop_with_a_winner_prints_the_promotion_and_leaves_the_label(tmp_path: Path) -> None:
    root, _ = _squad_with_experiment(tmp_path)
    labels = (root / "prompts" / "labels.yaml").read_text(encoding="utf-8")

    result = squad(
        root, "experiments", "stop", "triage-v2", "--reason", "v2 wins", "--winner", "v2"
    )

    assert result.returncode == 0, result.stderr
    assert "squad prompts promote triage 2 --label production" in result.stdout
    assert (root / "prompts" / "labels.yaml").read_text(encoding="utf-8") == labels


def test_stop_with_promote_moves_the_label_to_the_winner(tmp_path: Path) -> None:
    root, path = _squad_with_experiment(tmp_path)

    result = squad(
        root, "experiments", "stop", "triage-v2", "--reason", "v2 wins", "--winner", "v2",
        "--promote",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    labels = yaml.safe_load((root / "prompts" / "labels.yaml").read_text(encoding="utf-8"))
    assert labels["labels"]["triage"]["production"] == 2
    assert load_experiments(path).experiments["triage-v2"].status == "stopped"


def test_a_refused_promotion_leaves_the_experiment_running(tmp_path: Path) -> None:
    root, path = _squad_with_experiment(tmp_path)
    (root / "evals" / "evidence" / "triage" / "v2.json").unlink()

    result = squad(
        root, "experiments", "stop", "triage-v2", "--reason", "v2 wins", "--winner", "v2",
        "--promote",
    )  # fmt: skip

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert load_experiments(path).experiments["triage-v2"].status == "running"


def test_an_unknown_experiment_is_one_line_with_exit_2(tmp_path: Path) -> None:
    root, path = _squad_with_experiment(tmp_path)

    result = squad(root, "experiments", "stop", "nope", "--reason", "x")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: config/experiments.yaml: no experiment 'nope' (experiments: triage-v2)"
    ]
    assert path.read_text(encoding="utf-8") == COMMENTED


def test_an_unknown_winner_arm_is_one_line_with_exit_2(tmp_path: Path) -> None:
    root, path = _squad_with_experiment(tmp_path)

    result = squad(root, "experiments", "stop", "triage-v2", "--reason", "x", "--winner", "v9")

    assert result.returncode == 2
    assert "experiment 'triage-v2' has no arm 'v9' (arms: v1, v2)" in result.stderr
    assert path.read_text(encoding="utf-8") == COMMENTED


def test_stop_rewrites_an_experiment_written_on_one_line(tmp_path: Path) -> None:
    root = copy_data(tmp_path)
    path = root / "config" / "experiments.yaml"
    path.write_text(
        "experiments:\n"
        "  t: {prompt: triage, status: running, primary: {feedback: correct},"
        " arms: {v1: {version: 1, weight: 1}, v2: {version: 2, weight: 1}}}\n",
        encoding="utf-8",
    )

    result = squad(root, "experiments", "stop", "t", "--reason", "done")

    assert result.returncode == 0, result.stderr
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("  # stopped ")
    assert "status: stopped," in lines[2]
    assert load_experiments(path).experiments["t"].status == "stopped"
