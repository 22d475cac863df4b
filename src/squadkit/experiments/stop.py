"""Ending an experiment: `status: stopped` in config/experiments.yaml, and why.

The file is the experiment's record and a team comments it by hand, so stopping rewrites
only the status scalar (`yaml_lines.replace_scalars`) and puts the reason in a comment line
above it: every other byte stays, and the change is a one-line diff a reviewer reads. The
file is written atomically (the service re-reads it while it runs). Stopping never moves a
label: the label keeps serving the version it served, which is the rollback; a winner is
promoted through the normal promotion path (`squad prompts promote`), by the command.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError
from ..files import atomic_write, read_text, repository_of
from ..yaml_lines import replace_scalars
from .config import Arm, Experiment, find_experiment, load_experiments

__all__ = ["StoppedExperiment", "stop_experiment"]


@dataclass(frozen=True)
class StoppedExperiment:
    """What `stop_experiment` did: the experiment as it was, and its winner if one was named."""

    name: str
    experiment: Experiment
    was_running: bool
    winner: str | None

    @property
    def winner_arm(self) -> Arm | None:
        return self.experiment.arms[self.winner] if self.winner else None

    @property
    def promote_command(self) -> str | None:
        """The `squad prompts promote` command that makes the winner's version the label's
        (None without a winner)."""
        arm = self.winner_arm
        if arm is None:
            return None
        experiment = self.experiment
        return f"squad prompts promote {experiment.prompt} {arm.version} --label {experiment.label}"


def stop_reason(text: str) -> str:
    """`text` on one line (it becomes a comment); `ConfigError` when it says nothing."""
    reason = " ".join(text.split())
    if not reason:
        raise ConfigError("--reason: say why the experiment stops (it goes in the file)")
    return reason


def stop_experiment(
    path: Path, name: str, *, reason: str, winner: str | None = None, today: date | None = None
) -> StoppedExperiment:
    """Set experiment `name`'s status to stopped in `path`, with `reason` in a comment.

    An experiment already stopped is left as it is (`was_running` False). `ConfigError`
    names an unknown experiment or arm, an empty reason, or a status that is not a plain
    value to rewrite.
    """
    reason = stop_reason(reason)
    experiment = find_experiment(path, name, winner)
    stopped = StoppedExperiment(name, experiment, experiment.running, winner)
    if not experiment.running:
        return stopped
    text = read_text(path, root=repository_of(path))
    line = _status_line(text, name)
    rewritten = replace_scalars(text, path, {("experiments", name, "status"): "stopped"})
    lines = rewritten.splitlines(keepends=True)
    indent = lines[line][: len(lines[line]) - len(lines[line].lstrip())]
    when = (today or date.today()).isoformat()  # a calendar day, for people
    won = f" (winner: {winner})" if winner else ""
    lines.insert(line, f"{indent}# stopped {when}{won}: {reason}\n")
    atomic_write(path, "".join(lines))
    load_experiments(path)  # the file still reads: a comment never changes its data
    return stopped


def _status_line(text: str, name: str) -> int:
    """0-based line of experiment `name`'s `status` key (`load_experiments` has validated
    the file, so each step finds a mapping)."""
    node: Any = yaml.compose(text, Loader=yaml.SafeLoader)
    for key in ("experiments", name):
        node = next(value for k, value in node.value if k.value == key)
    status = next(k for k, _ in node.value if k.value == "status")
    return int(status.start_mark.line)
