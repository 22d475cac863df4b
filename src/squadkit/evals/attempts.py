"""One case of an arm, answered and scored: the attempts a run is made of.

An attempt is one repeat of one case: answered by the feature's own code
(`feature_target`) or, for a prompt target, by the prompt rendered with the case's
inputs; then scored by every scorer of the suite (a judge scorer's call goes through the
same `ModelCaller`). `case_result` folds a case's attempts into its result, with the
stability check across repeats. Apart from `runner` because this is what each case
does, where the runner decides which cases run, how many at a time, and what is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import SquadError
from ..features import find_feature
from ..files import display_path
from ..prompts import PromptInputError
from .errors import EvalConfigError
from .feature_target import PinnedRegistry, answer_with_feature
from .report import (
    ArmResult,
    CaseResult,
    PromptInfo,
    RepeatResult,
    ScoreResult,
    ScorerInfo,
)
from .scorers import Score, ScoreContext
from .stats import is_unstable
from .summary import CaseScores, summarize_scores

if TYPE_CHECKING:
    from ..features import Feature
    from ..gateway.config import ModelsConfig
    from ..prompts import PromptRegistry, PromptVersion
    from .cache import RecordedResponse
    from .caller import ModelCaller
    from .dataset import Case
    from .suite import Suite, Target

__all__ = ["RunningArm", "attempt", "case_result"]


@dataclass
class RunningArm:
    """One arm's state while it runs: what answers its cases, which deployments did
    (`answered`, what the report's `models` lists) and which judged them (`judged`, the
    report's `judges`: a judge's alias answering says nothing of the model under test)."""

    target: Target
    version: PromptVersion
    feature: Feature[Any, Any] | None = None
    registry: PinnedRegistry | None = None  # a feature's: the arm's version of its prompt
    answered: dict[str, set[str]] = field(default_factory=dict)
    judged: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(
        cls, suite: Suite, target: Target, registry: PromptRegistry, models: ModelsConfig
    ) -> RunningArm:
        """The arm of `target`: its prompt's version and, for a feature, the feature; its model
        alias is checked here, before any arm calls a model."""
        feature = None
        prompt = target.prompt
        if target.feature is not None:
            try:
                feature = find_feature(target.feature)
            except SquadError as error:
                raise EvalConfigError(f"{display_path(suite.path)}: target: {error}") from None
            prompt = feature.prompt
        version = target.prompt_version(registry, prompt or target.subject)
        alias = target.model or version.model
        if alias not in models.aliases:
            source = display_path(models.source) if models.source else "config/models.yaml"
            raise EvalConfigError(
                f"{display_path(suite.path)}: arm '{target.arm_name}': model alias '{alias}' is "
                f"not in {source} (aliases: {', '.join(sorted(models.aliases))})"
            )
        if feature is None:
            return cls(target=target, version=version)
        return cls(
            target=target,
            version=version,
            feature=feature,
            registry=PinnedRegistry(registry, version),
        )

    @property
    def alias(self) -> str:
        """The model alias the arm's prompt is answered on: the target's, else the prompt's."""
        return self.target.model or self.version.model

    def saw(self, response: RecordedResponse, *, judging: bool = False) -> None:
        if response.deployment and response.error is None:
            seen = self.judged if judging else self.answered
            seen.setdefault(response.alias, set()).add(response.deployment)

    def result(self, cases: Sequence[CaseScores], scorers: list[ScorerInfo]) -> ArmResult:
        """The arm's part of the report (its cases are kept apart: `ArmResult.cases` is empty)."""
        return ArmResult(
            name=self.target.arm_name,
            prompt=PromptInfo.of(self.version.ref, self.alias),
            models={alias: sorted(found) for alias, found in sorted(self.answered.items())},
            judges={alias: sorted(found) for alias, found in sorted(self.judged.items())},
            cases=[],
            summary=summarize_scores(cases, scorers),
        )


def check_case_inputs(suite: Suite, arms: Sequence[RunningArm]) -> None:
    """Refuse a dataset whose cases do not fit what the arms take, before any call.

    A case's inputs are the squad's data, not a model's behaviour: inputs a feature's input
    model (or a prompt target's `input_schema`) refuses would score as a failed case in
    every mode, and exit 0 from `eval run`. One line naming the dataset line and field.
    """
    from pydantic import ValidationError  # noqa: PLC0415

    from .dataset import numbered_cases  # noqa: PLC0415

    where = display_path(suite.dataset_path)
    for number, case in numbered_cases(suite.dataset_path):
        for arm in arms:
            if arm.feature is not None:
                try:
                    arm.feature.input_model.model_validate(case.inputs)
                except ValidationError as error:
                    first = error.errors()[0]
                    field_ = ".".join(["inputs", *(str(part) for part in first["loc"])])
                    raise EvalConfigError(
                        f"{where}:{number}: field '{field_}': {first['msg']} (what feature "
                        f"'{arm.feature.name}' takes: {arm.feature.input_model.__name__})"
                    ) from None
                continue
            try:
                arm.version.validate_inputs(case.inputs)
            except PromptInputError as error:
                raise EvalConfigError(f"{where}:{number}: case '{case.id}': {error}") from None


async def attempt(
    suite: Suite, arm: RunningArm, case: Case, repeat: int, caller: ModelCaller
) -> RepeatResult:
    """Repeat `repeat` of `case` on `arm`: answered, every model it saw noted, scored."""
    if arm.feature is not None and arm.registry is not None:
        answered = await answer_with_feature(
            arm.feature,
            registry=arm.registry,
            caller=caller,
            case=case,
            sample=repeat,
            label=arm.target.label,
            alias_override=arm.target.model,
            deadline_s=suite.spec.deadline_s,
        )
        response, output_schema = answered.response, arm.version.output_schema
        for call in answered.calls:
            arm.saw(call)
    else:
        response, output_schema = await _prompt_answer(suite, arm, case, repeat, caller)
        arm.saw(response)
    return await _scored(
        suite, arm, case, repeat, caller, response=response, output_schema=output_schema
    )


async def _prompt_answer(
    suite: Suite, arm: RunningArm, case: Case, repeat: int, caller: ModelCaller
) -> tuple[RecordedResponse, dict[str, Any] | None]:
    """A prompt target's answer: the prompt rendered with the case's inputs, the model's answer."""
    try:
        rendered = arm.version.render(case.inputs)
    except PromptInputError as error:
        raise EvalConfigError(
            f"{display_path(suite.dataset_path)}: case '{case.id}': {error}"
        ) from None
    alias = arm.target.model or rendered.model
    response = await caller.call(
        alias,
        rendered.messages,
        case_id=case.id,
        params=rendered.params,
        output_schema=rendered.output_schema,
        prompt=rendered.ref,
        deadline_s=suite.spec.deadline_s,
        sample=repeat,
    )
    return response, rendered.output_schema


async def _scored(
    suite: Suite,
    arm: RunningArm,
    case: Case,
    repeat: int,
    caller: ModelCaller,
    *,
    response: RecordedResponse,
    output_schema: dict[str, Any] | None,
) -> RepeatResult:
    async def judge(
        judge_alias: str, messages: list[dict[str, str]], schema: dict[str, Any]
    ) -> RecordedResponse:
        verdict = await caller.call(
            judge_alias, messages, case_id=case.id, output_schema=schema, sample=repeat
        )
        arm.saw(verdict, judging=True)
        return verdict

    context = ScoreContext(case=case, response=response, output_schema=output_schema, judge=judge)
    scores: dict[str, ScoreResult] = {}
    for scorer in suite.spec.scorers:
        if response.error is not None:
            result = Score.of(0, f"call failed: {response.error}")
        else:
            result = await _score(scorer.name, scorer.score, context)
        scores[scorer.name] = ScoreResult(score=result.value, reason=result.reason)
    return RepeatResult.of(response, repeat=repeat, error=response.error, scores=scores)


async def _score(name: str, scorer: Callable[[ScoreContext], Any], context: ScoreContext) -> Score:
    try:
        result = await scorer(context)
    except SquadError:
        raise
    except Exception as error:  # a custom scorer's bug: one line naming it, not a traceback
        raise EvalConfigError(
            f"scorer '{name}' failed on case '{context.case.id}': {type(error).__name__}: {error}"
        ) from None
    if not isinstance(result, Score):  # pragma: no cover - every built-in returns a Score
        raise EvalConfigError(f"scorer '{name}' returned {type(result).__name__}, not a Score")
    return result


def case_result(
    index: int, case: Case, attempts: list[RepeatResult], scorers: list[ScorerInfo]
) -> CaseResult:
    """A case's result from its attempts: each scorer's mean, and where repeats disagree."""
    means: dict[str, float] = {}
    unstable: list[str] = []
    for info in scorers:
        values = [a.scores[info.name].score for a in attempts]
        means[info.name] = round(sum(values) / len(values), 6)
        passed = sum(1 for v in values if v >= info.pass_score)
        if is_unstable(passed, len(values)):
            unstable.append(info.name)
    return CaseResult(
        id=case.id,
        index=index,
        tags=list(case.tags),
        inputs=dict(case.inputs),
        expected=dict(case.expected),
        attempts=attempts,
        scores=means,
        unstable=unstable,
    )
