"""What `squad prompts check` (and so CI) refuses in `config/experiments.yaml`.

An arm serves real traffic, so it needs what a promotion to a gated label needs: its version
exists, is locked, and holds valid passing eval evidence (`prompts.evidence_problems`, the
rule `promote` applies). An arm with its own `model` is checked with that alias: evidence
recorded through another model says nothing about it, and neither does that alias judging
the answers (evidence `judges`, not `models`). The evidence is also replayed from
the recordings by the command (`arm_versions` lists what to replay), as for promotion.
Only running experiments are checked: a stopped one serves nothing. A primary feedback
metric must be one the report can read (`metric_problems`): declared in
config/feedback.yaml, a boolean or a number with `min` and `max`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError
from ..files import read_text
from ..prompts.errors import Problem
from ..prompts.evidence import evidence_problems
from ..prompts.hashing import file_hash
from ..prompts.lock import LOCK_FILE, lock_key, read_lock
from ..prompts.registry import scan_prompts
from ..yaml_lines import line_in_text
from .config import ExperimentsConfig

if TYPE_CHECKING:
    from ..gateway.config import ModelsConfig
    from ..inferences import FeedbackConfig

__all__ = ["arm_versions", "experiment_problems", "metric_problems"]


def arm_versions(config: ExperimentsConfig) -> list[tuple[str, int]]:
    """The (prompt, version) pairs the running experiments' arms serve."""
    return sorted(
        {
            (experiment.prompt, arm.version)
            for experiment in config.experiments.values()
            if experiment.running
            for arm in experiment.arms.values()
        }
    )


def experiment_problems(
    path: Path,
    config: ExperimentsConfig,
    *,
    prompts_dir: Path,
    models: ModelsConfig,
    evidence_dir: Path,
    root: Path,
) -> list[Problem]:
    """One problem per running arm that could not be promoted to a gated label."""
    running = {name: e for name, e in config.experiments.items() if e.running}
    if not running:
        return []
    scan = scan_prompts(prompts_dir)
    lock = read_lock(prompts_dir / LOCK_FILE)
    text = read_text(path) if path.is_file() else ""
    problems: list[Problem] = []
    for name, experiment in running.items():
        for arm_name, arm in experiment.arms.items():
            line = line_in_text(text, ("experiments", name, "arms", arm_name))
            where = f"experiment '{name}' arm '{arm_name}'"
            key = lock_key(experiment.prompt, arm.version)
            version = scan.versions.get(experiment.prompt, {}).get(arm.version)
            if version is None:
                problems.append(
                    Problem(path, f"{where}: {key} is not a valid prompt version", line)
                )
                continue
            if lock.get(key) != file_hash(version.path):
                problems.append(
                    Problem(
                        path,
                        f"{where}: {version.ident} is not locked as it is; only locked "
                        "versions serve traffic (review it, then `squad prompts lock`)",
                        line,
                    )
                )
            if arm.model is not None and arm.model not in models.aliases:
                problems.append(
                    Problem(path, f"{where}: model alias '{arm.model}' is not in models.yaml", line)
                )
                continue
            served = version if arm.model is None else version.with_model(arm.model)
            problems.extend(
                Problem(path, f"{where}: {problem.message} ({problem})", line)
                for problem in evidence_problems(
                    served,
                    evidence_dir=evidence_dir,
                    models=models,
                    root=root,
                    arm_alias=served.model != version.model,
                )
            )
    return problems


def metric_problems(
    path: Path, config: ExperimentsConfig, feedback: FeedbackConfig
) -> list[Problem]:
    """One problem per running experiment whose primary feedback metric the report cannot
    read (undeclared, or not a boolean nor a number with a range)."""
    from .report import primary_scale  # noqa: PLC0415 - report imports the statistics

    text = read_text(path) if path.is_file() else ""
    problems = []
    for name, experiment in config.experiments.items():
        if not experiment.running:
            continue
        try:
            primary_scale(experiment, feedback)
        except ConfigError as error:
            line = line_in_text(text, ("experiments", name, "primary"))
            problems.append(Problem(path, f"experiment '{name}': {error}", line))
    return problems
