"""The judge checked against people: how far each `llm_judge` scorer agrees with reviewed
human labels, and whether that is enough for it to gate.

People's verdicts are the `human` labels of the suite's dataset cases (scorer name ->
true/false, or a category the judge declares). The judge's verdicts are its scores in a
run of the suite (the report `squad eval run` writes, normally a replay), turned into the
same terms by `LlmJudge.verdict`. Agreement is Cohen's kappa, which discounts the
agreement two raters reach by chance, with a percentile bootstrap interval over cases
(seeded, so the same data give the same interval everywhere), the confusion matrix and n.

A suite with `gate.judge_agreement` lets a judge gate only when at least `min_cases` cases
carry its label and the interval's lower end clears `min_kappa`: a judge is trusted once
the data show it agrees, not when a small sample happens to. Otherwise it is advisory, and
`advisory` says why, for the gate to skip its failures and the report to show them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..files import display_path
from .dataset import numbered_cases, scan_dataset
from .errors import EvalConfigError
from .scorers import LlmJudge
from .suite import JudgeAgreement, Suite
from .summary import CaseScores

if TYPE_CHECKING:
    from ..settings import Settings
    from .runner import RunOptions

__all__ = [
    "Agreement",
    "advisory_judges",
    "cohen_kappa",
    "human_labels",
    "judge_agreement",
    "measure_suite",
]

Verdict = bool | str


@dataclass(frozen=True)
class Agreement:
    """One judge against people: kappa with its interval, the confusion matrix and n.

    `matrix[i][j]` counts the cases people labelled `verdicts[i]` and the judge
    `verdicts[j]`. `kappa` is None when it is undefined (both raters gave one and the same
    verdict to every case: chance explains all agreement). `gates` is None when the suite
    sets no requirement; `why` says how the requirement was decided.
    """

    scorer: str
    verdicts: tuple[Verdict, ...]
    matrix: tuple[tuple[int, ...], ...]
    n: int
    observed: float  # share of cases where the judge and people agree
    kappa: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    resamples: int
    gates: bool | None
    why: str


def cohen_kappa(pairs: Sequence[tuple[int, int]], k: int) -> float | None:
    """Cohen's kappa of (human, judge) category indices in `range(k)`; None if undefined."""
    counts = [0] * (k * k)
    for human, judge in pairs:
        counts[human * k + judge] += 1
    return _kappa(counts, k)


def _kappa(counts: Sequence[int], k: int) -> float | None:
    """Kappa of a confusion matrix given row by row (`counts[human * k + judge]`)."""
    n = sum(counts)
    if n == 0:
        return None
    rows = [sum(counts[i * k : (i + 1) * k]) for i in range(k)]
    cols = [sum(counts[j::k]) for j in range(k)]
    chance = sum(r * c for r, c in zip(rows, cols, strict=True)) / (n * n)
    if chance >= 1:
        return None
    agree = sum(counts[i * k + i] for i in range(k))
    return (agree / n - chance) / (1 - chance)


def human_labels(suite: Suite) -> dict[str, dict[str, Verdict]]:
    """Judge scorer -> case id -> the people's verdict, from the suite's dataset.

    A label naming a scorer the suite lacks, a scorer that is not an `llm_judge`, or a
    verdict the judge cannot give is an `EvalConfigError` naming the dataset's file and line.
    """
    judges = {s.name: s for s in suite.spec.scorers if isinstance(s, LlmJudge)}
    labels: dict[str, dict[str, Verdict]] = {name: {} for name in judges}
    where = display_path(suite.dataset_path)
    for number, case in numbered_cases(suite.dataset_path):
        for name, verdict in case.human.items():
            judge = judges.get(name)
            if judge is None:
                known = ", ".join(sorted(judges)) or "none"
                raise EvalConfigError(
                    f"{where}:{number}: field 'human.{name}': suite '{suite.name}' has no "
                    f"llm_judge scorer '{name}' (its llm_judge scorers: {known})"
                )
            allowed = judge.verdicts()
            if verdict not in allowed:
                shown = ", ".join(_shown(v) for v in allowed)
                raise EvalConfigError(
                    f"{where}:{number}: field 'human.{name}': {_shown(verdict)} is not a "
                    f"verdict of judge '{name}'; give one of {shown}"
                )
            labels[name][case.id] = verdict
    return labels


def judge_agreement(
    suite: Suite, cases: Sequence[CaseScores], labels: dict[str, dict[str, Verdict]]
) -> list[Agreement]:
    """Each `llm_judge` scorer's agreement with `labels` over the run's `cases`."""
    requirement = suite.spec.gate.judge_agreement
    settings = requirement or JudgeAgreement(min_kappa=0)
    found = []
    for scorer in suite.spec.scorers:
        if not isinstance(scorer, LlmJudge):
            continue
        verdicts = scorer.verdicts()
        index = {_key(v): i for i, v in enumerate(verdicts)}
        people = labels.get(scorer.name, {})
        pairs = [
            (index[_key(people[c.id])], index[_key(scorer.verdict(c.scores[scorer.name]))])
            for c in cases
            if c.id in people and scorer.name in c.scores
        ]
        k = len(verdicts)
        matrix = [[0] * k for _ in range(k)]
        for human, judge in pairs:
            matrix[human][judge] += 1
        kappa = cohen_kappa(pairs, k)
        low, high = _interval(pairs, k, settings) if kappa is not None else (None, None)
        gates, why = _decide(scorer.name, len(pairs), kappa, low, requirement)
        found.append(
            Agreement(
                scorer=scorer.name,
                verdicts=tuple(verdicts),
                matrix=tuple(tuple(row) for row in matrix),
                n=len(pairs),
                observed=sum(h == j for h, j in pairs) / len(pairs) if pairs else 0.0,
                kappa=kappa,
                ci_low=low,
                ci_high=high,
                confidence=settings.confidence,
                resamples=settings.resamples,
                gates=gates,
                why=why,
            )
        )
    return found


def measure_suite(
    settings: Settings,
    suite: Suite,
    options: RunOptions,
    *,
    report_path: Path | None = None,
    workers: int = 1,
) -> list[Agreement]:
    """`squad eval judge-agreement`: the suite's judges against its human labels, their
    verdicts read from a run of the suite's target (the eval pipeline's, normally a replay
    of the recordings) or from the report at `report_path`, made on this very dataset."""
    from .outcome import open_report  # noqa: PLC0415 - the runner, only when measuring

    labels = human_labels(suite)  # a bad label fails before anything runs
    with open_report(
        settings, suite, options, [suite.spec.target], report_path=report_path, workers=workers
    ) as report:
        if report.header.dataset_hash != scan_dataset(suite.dataset_path).hash:
            where = display_path(report_path) if report_path else "the run"
            raise EvalConfigError(
                f"{where}: field 'dataset_hash': made on another version of "
                f"{display_path(suite.dataset_path)}; run the suite again (`squad eval run "
                f"{suite.name}`)"
            )
        return judge_agreement(suite, report.arm_scores(), labels)


def advisory_judges(suite: Suite, cases: Sequence[CaseScores]) -> dict[str, str]:
    """Judge scorer -> why it is advisory, for the gate (empty: the suite sets no
    `gate.judge_agreement`, or every judge earned its place)."""
    if suite.spec.gate.judge_agreement is None:
        return {}
    found = judge_agreement(suite, cases, human_labels(suite))
    return {a.scorer: a.why for a in found if a.gates is False}


def _interval(
    pairs: Sequence[tuple[int, int]], k: int, settings: JudgeAgreement
) -> tuple[float | None, float | None]:
    """Percentile bootstrap over cases; resamples where kappa is undefined are left out."""
    rng = random.Random(settings.seed)  # noqa: S311 - a reproducible interval, not a secret
    cells = [human * k + judge for human, judge in pairs]
    estimates = []
    for _ in range(settings.resamples):
        drawn = rng.choices(cells, k=len(cells))  # a resample of cases, as matrix cells
        kappa = _kappa([drawn.count(cell) for cell in range(k * k)], k)
        if kappa is not None:
            estimates.append(kappa)
    if not estimates:
        return (None, None)
    estimates.sort()
    tail = (1 - settings.confidence) / 2
    low = estimates[int(tail * (len(estimates) - 1))]
    high = estimates[int((1 - tail) * (len(estimates) - 1) + 0.5)]
    return (round(low, 6), round(high, 6))


def _decide(
    scorer: str,
    n: int,
    kappa: float | None,
    low: float | None,
    requirement: JudgeAgreement | None,
) -> tuple[bool | None, str]:
    if n == 0:
        hint = f'no case carries a human label for \'{scorer}\' (add "human": {{"{scorer}": ...}})'
        return (None if requirement is None else False), (
            hint if requirement is None else f"advisory: {hint}"
        )
    if requirement is None:
        return None, "the suite sets no gate.judge_agreement: the judge gates unchecked"
    if n < requirement.min_cases:
        return False, (
            f"advisory: only {n} case(s) carry a human label for '{scorer}' "
            f"(gate.judge_agreement.min_cases: {requirement.min_cases}); label more cases"
        )
    if kappa is None or low is None:
        return False, (
            f"advisory: kappa of '{scorer}' is undefined on {n} cases (the judge and people "
            "each gave a single verdict throughout); label cases of every verdict"
        )
    if low < requirement.min_kappa:
        return False, (
            f"advisory: the {requirement.confidence:.0%} interval of kappa of '{scorer}' "
            f"({low:.2f}..) starts below gate.judge_agreement.min_kappa "
            f"{requirement.min_kappa:.2f} on {n} cases (kappa {kappa:.2f})"
        )
    return True, (
        f"gates: the {requirement.confidence:.0%} interval of kappa ({low:.2f}..) clears "
        f"min_kappa {requirement.min_kappa:.2f} on {n} cases"
    )


def _key(verdict: Verdict) -> tuple[bool, Verdict]:
    """Keeps `True` and a category named `1` apart (`True == 1` in Python)."""
    return (isinstance(verdict, bool), verdict)


def _shown(verdict: Verdict) -> str:
    if isinstance(verdict, bool):
        return "true" if verdict else "false"
    return f'"{verdict}"'
