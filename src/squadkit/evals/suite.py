"""Suites: `evals/<suite>.yaml` says what to evaluate, on which data, how to score it and
what the gate demands. Loading validates everything up front; every problem is one line
naming the file, the line and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..files import display_path, keep_inside, read_text
from ..yaml_lines import line_in_text, read_team_yaml
from .errors import EvalConfigError
from .scorers import LlmJudge, ScorerSpec
from .stats import Rule

if TYPE_CHECKING:
    from ..gateway.config import ModelsConfig
    from ..prompts import PromptRegistry, PromptVersion

SUITE_NAME_PATTERN = r"^[a-z][a-z0-9_\-]*$"


class Target(BaseModel):
    """What answers: a feature (or, for a prompt-only suite, a bare prompt) at a label or
    version of its prompt, optionally on another model alias.

    `feature` runs the squad's declared feature (`squadkit.features`) and scores what it
    returns; `prompt` renders the prompt and scores the model's answer as is. In a `matrix`,
    each target is one arm of the comparison and `name` labels it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][\w.\-@]*$")
    feature: str | None = Field(default=None, description="A feature the squad declares.")
    prompt: str | None = Field(default=None, description="A bare prompt (prompt-only suites).")
    label: str | None = None
    version: int | None = Field(default=None, ge=1)
    model: str | None = Field(default=None, description="Alias override; default: the prompt's.")

    @model_validator(mode="after")
    def _one_of_each(self) -> Target:
        if (self.feature is None) == (self.prompt is None):
            raise ValueError(
                "give exactly one of 'feature' (a feature the squad declares) or 'prompt'"
            )
        if self.label is not None and self.version is not None:
            raise ValueError("give 'label' or 'version', not both")
        return self

    @property
    def subject(self) -> str:
        """The feature's or the prompt's name, as the target names it."""
        return self.feature or self.prompt or ""

    def prompt_name(self) -> str:
        """The prompt this target runs: its own, or its feature's (imports the squad's code)."""
        if self.feature is None:
            return self.prompt or ""
        from ..features import find_feature  # noqa: PLC0415 - imports the squad's package

        return find_feature(self.feature).prompt

    def prompt_version(self, registry: PromptRegistry, name: str | None = None) -> PromptVersion:
        """The version of `name` (default: `prompt_name()`) this target runs: its `version`,
        else the one its label points at (`production` when it names none)."""
        name = name or self.prompt_name()
        if self.version is not None:
            return registry.get(name, version=self.version)
        return registry.get(name, label=self.label or "production")

    @property
    def selector(self) -> str:
        if self.version is not None:
            return f"{self.subject}@v{self.version}"
        return f"{self.subject}@{self.label or 'production'}"

    @property
    def arm_name(self) -> str:
        if self.name:
            return self.name
        return self.selector + (f"+{self.model}" if self.model else "")


class Regression(BaseModel):
    """The paired-bootstrap regression check against the committed baseline."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scorers: list[str] | None = Field(
        default=None, description="Scorers checked for regression; default: all thresholded."
    )
    rule: Rule = Field(
        default="non-inferiority",
        description="non-inferiority: pass only when the data show any drop is within the "
        "margin; confidently-worse: fail only when they show a drop beyond it.",
    )
    margin: float = Field(default=0.02, ge=0, le=1, description="Allowed drop in mean score.")
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    resamples: int = Field(default=2000, ge=100, le=100_000)
    seed: int = 20_240_601


class JudgeAgreement(BaseModel):
    """When an `llm_judge` scorer may gate: only once people have shown it agrees with them.

    Each judge's verdicts are compared with the reviewed `human` labels of the dataset's
    cases (Cohen's kappa, `agreement`). A judge gates when at least `min_cases` cases carry
    its label and the lower end of the kappa's bootstrap interval (at `confidence`) is at
    least `min_kappa`; otherwise it is advisory: reported, its threshold and regression
    rows shown, but it does not fail the gate, and the report says why.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_kappa: float = Field(ge=-1, le=1, description="Lowest kappa the interval must clear.")
    min_cases: int = Field(default=30, ge=2, description="Human-labelled cases needed.")
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    resamples: int = Field(default=2000, ge=100, le=100_000)
    seed: int = 20_240_601


class Gate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    thresholds: dict[str, float] = Field(
        default_factory=dict, description="Scorer -> minimum mean score in [0, 1]."
    )
    regression: Regression | None = Field(default_factory=Regression)
    judge_agreement: JudgeAgreement | None = Field(
        default=None, description="Unset: every llm_judge scorer gates, agreement unchecked."
    )

    @model_validator(mode="after")
    def _unit_interval(self) -> Gate:
        for scorer, value in self.thresholds.items():
            if not 0 <= value <= 1:
                raise ValueError(f"threshold of '{scorer}' must be within [0, 1], got {value}")
        return self

    def regression_scorers(self) -> list[str]:
        if self.regression is None:
            return []
        if self.regression.scorers is not None:
            return list(self.regression.scorers)
        return list(self.thresholds)


class SuiteSpec(BaseModel):
    """The fields of `evals/<suite>.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=SUITE_NAME_PATTERN)
    description: str = ""
    target: Target
    matrix: list[Target] = Field(
        default_factory=list, description="Arms of an A/B run (`squad eval run --matrix`)."
    )
    dataset: str = Field(description="Path relative to evals/, e.g. datasets/triage.jsonl.")
    scorers: list[ScorerSpec] = Field(min_length=1)
    repeats: int = Field(default=1, ge=1, le=50)
    concurrency: int = Field(default=8, ge=1, le=1000)
    deadline_s: float | None = Field(default=None, gt=0, description="Per-call deadline.")
    max_error_share: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Largest share of a live or record run's calls that may go unanswered "
        "(outage, deadline, bad key) before the run fails; none answered always fails.",
    )
    gate: Gate = Field(default_factory=Gate)

    @model_validator(mode="after")
    def _references(self) -> SuiteSpec:
        names = [scorer.name for scorer in self.scorers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"scorer name '{duplicates[0]}' is used twice")
        for scorer in self.gate.thresholds:
            if scorer not in names:
                raise ValueError(f"gate threshold names unknown scorer '{scorer}'")
        for scorer in self.gate.regression_scorers():
            if scorer not in names:
                raise ValueError(f"gate regression names unknown scorer '{scorer}'")
        arms = [target.arm_name for target in self.matrix]
        if len(set(arms)) != len(arms):
            raise ValueError("matrix arms must have distinct names")
        return self


@dataclass(frozen=True)
class Suite:
    """A validated suite and where its files are."""

    spec: SuiteSpec
    path: Path
    evals_dir: Path

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def dataset_path(self) -> Path:
        return self.evals_dir / self.spec.dataset

    @property
    def baseline_path(self) -> Path:
        return self.evals_dir / "baselines" / f"{self.name}.json"

    @property
    def recordings_path(self) -> Path:
        return self.evals_dir / "recordings" / f"{self.name}.jsonl"

    @property
    def evidence_dir(self) -> Path:
        return self.evals_dir / "evidence"

    def scorer_names(self) -> list[str]:
        return [scorer.name for scorer in self.spec.scorers]


def suite_paths(evals_dir: Path) -> list[Path]:
    """Every suite file: `evals/*.yaml`, sorted."""
    return sorted(p for p in evals_dir.glob("*.yaml") if p.is_file())


def resolve_suite(evals_dir: Path, name_or_path: str) -> Path:
    """A suite by name (`triage`) or by path (`evals/triage.yaml`)."""
    candidate = Path(name_or_path)
    if candidate.suffix in {".yaml", ".yml"} and candidate.is_file():
        return candidate
    path = evals_dir / f"{name_or_path}.yaml"
    if path.is_file():
        return path
    known = ", ".join(p.stem for p in suite_paths(evals_dir)) or "(none)"
    raise EvalConfigError(
        f"no suite '{name_or_path}' in {display_path(evals_dir)}; known suites: {known}"
    )


def load_suite(
    path: Path, evals_dir: Path | None = None, *, models: ModelsConfig | None = None
) -> Suite:
    """Read and validate a suite file; the dataset path is checked to exist.

    With `models`, every alias the suite names (targets' `model`, `llm_judge` scorers'
    `alias`) must exist there and name only known `local/` models (`check_suite_models`).
    """
    where = display_path(path)
    text, data = read_team_yaml(path, error=EvalConfigError, missing="suite file not found")
    if not isinstance(data, dict):
        raise EvalConfigError(f"{where}: expected a mapping with 'name', 'target', 'scorers'")
    data.setdefault("name", path.stem)
    try:
        spec = SuiteSpec.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        loc = tuple(first["loc"])
        number = line_in_text(text, loc)
        field = _describe(loc, data)
        message = first["msg"].removeprefix("Value error, ")
        at = f":{number}" if number else ""
        raise EvalConfigError(f"{where}{at}: {field}: {message}") from None
    suite = Suite(spec=spec, path=path, evals_dir=evals_dir or path.parent)
    repository = suite.evals_dir.resolve().parent
    if not suite.dataset_path.resolve().is_relative_to(repository):
        # An absolute path, `..` or a symlink out of the repo: what the gate scores must be
        # a file the repository commits, or evidence would certify data nobody reviewed.
        number = line_in_text(text, ("dataset",))
        raise EvalConfigError(
            f"{where}{f':{number}' if number else ''}: field 'dataset': {spec.dataset} leads "
            "out of the repository; keep datasets under evals/"
        )
    for kept in (suite.recordings_path, suite.baseline_path):  # a symlink out of the repo
        if kept.is_symlink() or kept.exists():
            keep_inside(kept, repository)
    if not suite.dataset_path.is_file():
        missing = "is not a file" if suite.dataset_path.exists() else "does not exist"
        raise EvalConfigError(
            f"{where}: field 'dataset': {display_path(suite.dataset_path)} {missing}"
        )
    if models is not None:
        check_suite_models(suite, models, text=text)
    return suite


def suite_aliases(spec: SuiteSpec) -> list[tuple[tuple[Any, ...], str]]:
    """Every model alias the suite file names, with the field that names it."""
    named: list[tuple[tuple[Any, ...], str]] = []
    if spec.target.model is not None:
        named.append((("target", "model"), spec.target.model))
    named += [
        (("matrix", index, "model"), arm.model)
        for index, arm in enumerate(spec.matrix)
        if arm.model is not None
    ]
    named += [
        (("scorers", index, "alias"), scorer.alias)
        for index, scorer in enumerate(spec.scorers)
        if isinstance(scorer, LlmJudge)
    ]
    return named


def check_suite_models(suite: Suite, models: ModelsConfig, *, text: str | None = None) -> None:
    """Refuse, before any call, a suite naming an alias `models` lacks or whose chain has
    an unknown `local/` model: one line naming the suite file, its line and field.
    """
    from ..gateway.local_models import (  # noqa: PLC0415 - reads squad plugins
        SQUAD_MODELS_HINT,
        known_models,
    )

    where = display_path(suite.path)
    source = display_path(models.source) if models.source else "config/models.yaml"
    for loc, alias in suite_aliases(suite.spec):
        problem = None
        if alias not in models.aliases:
            known = ", ".join(sorted(models.aliases))
            problem = f"no alias '{alias}' in {source} (aliases: {known}); add it or fix the name"
        else:
            local = [d.model for d in models.aliases[alias].deployments if d.is_local]
            offline = known_models() if local else {}
            unknown = [m for m in local if m.split("/", 1)[1] not in offline]
            if unknown:
                problem = (
                    f"alias '{alias}' in {source} answers with {unknown[0]}, which is not a "
                    f"known local model (known: {', '.join(f'local/{m}' for m in sorted(offline))}"
                    f"); {SQUAD_MODELS_HINT}"
                )
        if problem is not None:
            if text is None:
                text = read_text(suite.path)
            number = line_in_text(text, loc)
            data = {"scorers": [s.model_dump() for s in suite.spec.scorers]}
            at = f":{number}" if number else ""
            raise EvalConfigError(f"{where}{at}: {_describe(loc, data)}: {problem}")


def _describe(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """`('scorers', 2, 'json_field', 'path')` -> `scorer 'queue' field 'path'`."""
    if len(loc) >= 2 and loc[0] == "scorers" and isinstance(loc[1], int):
        scorers = data.get("scorers")
        entry = scorers[loc[1]] if isinstance(scorers, list) and loc[1] < len(scorers) else None
        label = entry.get("name") if isinstance(entry, dict) else None
        rest = [str(p) for p in loc[2:]]
        if rest and entry is not None and isinstance(entry, dict) and rest[0] == entry.get("type"):
            rest = rest[1:]  # pydantic names the union member; the user wrote the fields
        who = f"scorer '{label}'" if label else f"scorer {loc[1] + 1}"
        return f"{who} field '{'.'.join(rest)}'" if rest else who
    return "field '" + (".".join(str(p) for p in loc) or "(suite)") + "'"
