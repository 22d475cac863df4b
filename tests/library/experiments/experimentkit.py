"""Helpers of the experiment tests: an experiments file for the fixture squad, `squad` runs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.library.squad import COMMAND

__all__ = ["experiment", "squad", "write_experiments"]


def experiment(**changes: Any) -> dict[str, Any]:
    """A running 50/50 experiment of triage v1 (control) against v2 on production."""
    return {
        "prompt": "triage",
        "label": "production",
        "status": "running",
        "arms": {"v1": {"version": 1, "weight": 50}, "v2": {"version": 2, "weight": 50}},
        "primary": {"feedback": "correct"},
        "guardrails": {"latency_p95_ms": {"at_most": 5000}, "error_rate": {"at_most": 0.05}},
        "stop": {"max_n": 20000, "alpha": 0.05},
        **changes,
    }


def write_experiments(root: Path, experiments: dict[str, Any]) -> Path:
    """`root/config/experiments.yaml` declaring `experiments` (name -> experiment)."""
    path = root / "config" / "experiments.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"experiments": experiments}, sort_keys=False), "utf-8")
    return path


def squad(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`squad ARGS` run in `cwd` as a user runs it."""
    return subprocess.run(
        [COMMAND, *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
