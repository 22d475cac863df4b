"""`config/experiments.yaml`: the online experiments a squad runs, reviewed like code.

    experiments:
      triage-v2:
        prompt: triage
        label: production          # the label whose traffic is split (default production)
        status: running            # or stopped: nobody is assigned, the label serves all
        control: v1                # default: the first arm
        arms:
          v1: {version: 1, weight: 50}
          v2: {version: 2, weight: 50, model: triage-fast}   # model: optional alias
        subject: X-Episode-Id      # default; or "field:<name>" of the request body
        primary: {feedback: correct}                          # or {score: grounding}
        guardrails:
          latency_p95_ms: {at_most: 3000}
          cost_per_answer_usd: {at_most: 0.002}
          error_rate: {at_most: 0.02}
          fallback_rate: {at_most: 0.05}
          score:schema_valid: {at_least: 0.98}
        stop: {max_days: 14, max_n: 20000, alpha: 0.05}

The file is the experiment's record: changing weights or stopping is a reviewed commit, and
the service re-reads the file when it changes (`assignment.ExperimentsFile`), so neither
needs a redeploy. Every arm's version must hold verified gate evidence, as a promotion
needs (`check.experiment_problems`, run by `squad prompts check`). Only one experiment may
run on a prompt's label at a time: two would compete for the same requests.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator

from ..errors import ConfigError
from ..files import display_path
from ..prompts.labels import LABEL_PATTERN
from ..prompts.version import PROMPT_NAME_PATTERN
from ..yaml_lines import line_in_text, read_team_yaml

__all__ = [
    "EPISODE_SUBJECT",
    "GUARDRAILS",
    "Arm",
    "Bound",
    "Experiment",
    "ExperimentsConfig",
    "Primary",
    "StopRule",
    "load_experiments",
]

EPISODE_SUBJECT = "X-Episode-Id"
"""The default subject key: the caller's episode header, so one conversation stays on one arm."""
FIELD_SUBJECT = "field:"
GUARDRAILS = ("latency_p95_ms", "cost_per_answer_usd", "error_rate", "fallback_rate")
"""Guardrails read from every inference; `score:<name>` (an online score's mean) adds more."""
_RATES = frozenset({"error_rate", "fallback_rate"})
_NAME = r"^[a-z0-9][a-z0-9._-]{0,63}$"
_FIELD = re.compile(r"^field:[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_SCORE = re.compile(r"^score:[a-z][a-z0-9_]*$")


class Arm(BaseModel):
    """One arm: the prompt version it serves, optionally through another model alias."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Annotated[int, Strict()] = Field(ge=1)
    weight: float = Field(ge=0, description="Relative share of subjects; 0 assigns nobody.")
    model: str | None = Field(default=None, min_length=1, description="A models.yaml alias.")


class Bound(BaseModel):
    """A guardrail's limit: exactly one of `at_most` and `at_least`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at_most: float | None = None
    at_least: float | None = None

    @model_validator(mode="after")
    def _one(self) -> Bound:
        if (self.at_most is None) == (self.at_least is None):
            raise ValueError("give exactly one of `at_most` and `at_least`")
        return self

    @property
    def direction(self) -> Literal["at-most", "at-least"]:
        return "at-most" if self.at_most is not None else "at-least"

    @property
    def value(self) -> float:
        return self.at_most if self.at_most is not None else float(self.at_least or 0.0)

    def __str__(self) -> str:
        return f"{'<=' if self.at_most is not None else '>='} {self.value:g}"


class Primary(BaseModel):
    """The metric the experiment decides on: a feedback metric or an online score."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    feedback: str | None = Field(default=None, description="A metric of config/feedback.yaml.")
    score: str | None = Field(default=None, description="An online score (observability.yaml).")
    better: Literal["higher", "lower"] = "higher"

    @model_validator(mode="after")
    def _one(self) -> Primary:
        if (self.feedback is None) == (self.score is None):
            raise ValueError("give exactly one of `feedback: METRIC` and `score: NAME`")
        return self

    @property
    def name(self) -> str:
        return f"feedback:{self.feedback}" if self.feedback else f"score:{self.score}"


class StopRule(BaseModel):
    """When the experiment has run long enough, and the confidence of every decision."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_days: float | None = Field(default=None, gt=0)
    max_n: int | None = Field(
        default=None, ge=2, description="Primary metric observations, all arms together."
    )
    alpha: float = Field(default=0.05, gt=0, lt=0.5)


class Experiment(BaseModel):
    """One experiment of config/experiments.yaml (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str = Field(pattern=PROMPT_NAME_PATTERN)
    label: str = Field(default="production", pattern=LABEL_PATTERN)
    status: Literal["running", "stopped"]
    arms: dict[Annotated[str, Field(pattern=_NAME)], Arm] = Field(min_length=2)
    control: str | None = None
    subject: str = EPISODE_SUBJECT
    primary: Primary
    guardrails: dict[str, Bound] = Field(default_factory=dict)
    stop: StopRule = Field(default_factory=StopRule)

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        if self.control is not None and self.control not in self.arms:
            raise ValueError(f"control '{self.control}' is not one of the arms")
        if sum(arm.weight for arm in self.arms.values()) <= 0:
            raise ValueError("the arms' weights add up to 0: give at least one a weight")
        served = [(arm.version, arm.model) for arm in self.arms.values()]
        if len(set(served)) != len(served):
            raise ValueError("two arms serve the same version and model: they cannot differ")
        if self.subject != EPISODE_SUBJECT and not _FIELD.match(self.subject):
            raise ValueError(
                f"subject must be {EPISODE_SUBJECT} or field:<name> (a request body field)"
            )
        for name, bound in self.guardrails.items():
            if name not in GUARDRAILS and not _SCORE.match(name):
                known = ", ".join(GUARDRAILS)
                raise ValueError(f"guardrail '{name}' is not one of {known} or score:<name>")
            if (name in _RATES or name.startswith("score:")) and not 0 <= bound.value <= 1:
                raise ValueError(f"guardrail '{name}' is a share: its bound must be in [0, 1]")
            if bound.value < 0:
                raise ValueError(f"guardrail '{name}' cannot be negative")
            if name in GUARDRAILS and bound.at_most is None:
                raise ValueError(f"guardrail '{name}' takes `at_most`: less is better")
        return self

    @property
    def control_arm(self) -> str:
        return self.control or next(iter(self.arms))

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def subject_field(self) -> tuple[str, ...] | None:
        """The request body field path of `subject: field:a.b`, or None for the episode."""
        if self.subject.startswith(FIELD_SUBJECT):
            return tuple(self.subject[len(FIELD_SUBJECT) :].split("."))
        return None


class ExperimentsConfig(BaseModel):
    """The whole file: experiment name -> experiment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    experiments: dict[Annotated[str, Field(pattern=_NAME)], Experiment] = Field(
        default_factory=dict
    )

    @model_validator(mode="after")
    def _one_per_label(self) -> ExperimentsConfig:
        seen: dict[tuple[str, str], str] = {}
        for name, experiment in self.experiments.items():
            if not experiment.running:
                continue
            key = (experiment.prompt, experiment.label)
            if key in seen:
                raise ValueError(
                    f"experiments '{seen[key]}' and '{name}' both run on "
                    f"{experiment.prompt}:{experiment.label}; stop one"
                )
            seen[key] = name
        return self

    def running_on(self, prompt: str, label: str) -> tuple[str, Experiment] | None:
        """The experiment splitting `prompt:label` now, if one is running."""
        for name, experiment in self.experiments.items():
            if experiment.running and (experiment.prompt, experiment.label) == (prompt, label):
                return name, experiment
        return None


def load_experiments(path: Path) -> ExperimentsConfig:
    """The experiments `path` declares; a missing file declares none.

    Any problem is one `ConfigError` naming the file, line and field.
    """
    if not path.is_file():
        return ExperimentsConfig()
    where = display_path(path)
    text, data = read_team_yaml(
        path, unreadable=lambda error: f"cannot read the experiments file ({error})"
    )
    if data is None:
        return ExperimentsConfig()
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected one mapping `experiments:` of name -> experiment")
    try:
        return ExperimentsConfig.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        loc = tuple(part for part in first["loc"] if not str(part).startswith("function-"))
        line = line_in_text(text, loc)
        message = str(first["msg"]).removeprefix("Value error, ")
        at = f"{where}:{line}" if line else where
        raise ConfigError(f"{at}: {_describe(loc)}: {message}") from None


def find_experiment(path: Path, name: str, winner: str | None = None) -> Experiment:
    """The experiment `name` of `path`; `ConfigError` (exit 2) names an unknown experiment
    or an unknown winner arm (`squad experiments report` and `stop` both look one up)."""
    config = load_experiments(path)
    experiment = config.experiments.get(name)
    if experiment is None:
        known = ", ".join(sorted(config.experiments)) or "(none)"
        raise ConfigError(f"{display_path(path)}: no experiment '{name}' (experiments: {known})")
    if winner is not None and winner not in experiment.arms:
        arms = ", ".join(experiment.arms)
        raise ConfigError(
            f"{display_path(path)}: experiment '{name}' has no arm '{winner}' (arms: {arms})"
        )
    return experiment


def _describe(loc: tuple[Any, ...]) -> str:
    """`('experiments', 'x', 'arms', 'a', 'version')` -> experiment 'x' field 'arms.a.version'."""
    if len(loc) >= 2 and loc[0] == "experiments":
        rest = ".".join(str(part) for part in loc[2:])
        return f"experiment '{loc[1]}'" + (f" field '{rest}'" if rest else "")
    return "field '" + (".".join(str(part) for part in loc) or "(file)") + "'"
