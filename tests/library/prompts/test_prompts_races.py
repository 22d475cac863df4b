"""Two promotions at once (two engineers, two CI jobs) both take effect, every round."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest
import yaml

from squadkit.gateway import load_models_config
from squadkit.prompts import promote, rollback
from tests.library.squad import copy_data

ROUNDS = 50


def _move(prompts: str, label: str, version: int, start: Any) -> None:
    root = Path(prompts).parent
    start.wait()
    promote(
        Path(prompts),
        "triage",
        version,
        label,
        models=load_models_config(root / "config" / "models.yaml"),
        evidence_dir=root / "evals" / "evidence",
        root=root,
    )


@pytest.fixture
def squad(tmp_path: Path) -> Path:
    return copy_data(tmp_path)


def test_concurrent_promotions_never_drop_a_label(squad: Path) -> None:
    prompts = squad / "prompts"
    context = multiprocessing.get_context("fork")
    for round_number in range(ROUNDS):
        start = context.Barrier(2)
        canary, beta = (1, 2) if round_number % 2 else (2, 1)
        workers = [
            context.Process(target=_move, args=(str(prompts), "canary", canary, start)),
            context.Process(target=_move, args=(str(prompts), "beta", beta, start)),
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
            assert worker.exitcode == 0, f"round {round_number}"
        labels = yaml.safe_load((prompts / "labels.yaml").read_text(encoding="utf-8"))
        assert labels["labels"]["triage"] == {
            "production": 1,
            "staging": 2,
            "canary": canary,
            "beta": beta,
        }, f"round {round_number}"
    history = yaml.safe_load((prompts / "labels.yaml").read_text(encoding="utf-8"))["history"]
    assert len(history) == 2 * ROUNDS  # every round moves both labels, and each move is kept
    assert rollback(prompts, "triage", "beta").label == "beta"
