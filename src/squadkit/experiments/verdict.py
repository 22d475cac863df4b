"""The report's one verdict and its decision sentence, and the report as Markdown or JSON.

One verdict, in this order: a guardrail breached (any arm: the safety of answers comes
before which answers better), a winner (an interval of a change wholly on one side of 0),
no difference shown although the stop rule is reached, or no difference shown yet. The
sentence says which end of which interval decided, as the eval gate's decisions do
(`squadkit.evals.gate`), and what to do next.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from .report import ArmSummary, ExperimentReport
from .sequential import MINIMUM_ARM_SIZE

__all__ = ["Verdict", "decide", "report_json", "report_markdown"]

VerdictKind = Literal["guardrail-breached", "winner", "no-difference", "no-difference-yet"]
HEADLINES = {
    "guardrail-breached": "GUARDRAIL BREACHED",
    "winner": "WINNER",
    "no-difference": "NO DIFFERENCE (stop rule reached)",
    "no-difference-yet": "NO DIFFERENCE SHOWN YET",
}


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    arm: str | None
    decision: str


def decide(report: ExperimentReport) -> Verdict:
    """The experiment's one verdict (see the module docstring)."""
    experiment = report.experiment
    control = report.control
    level = f"{1 - report.alpha:.0%} anytime-valid interval"
    for arm in report.arms:
        for guard in arm.guardrails:
            if guard.crossed:
                stop = (
                    "stop the experiment (`status: stopped`) and keep the label where it is"
                    if arm.name == control.name
                    else f"set arm {arm.name}'s weight to 0 or stop the experiment"
                )
                return Verdict(
                    "guardrail-breached",
                    arm.name,
                    f"{arm.name} breaches {guard.name}: the {level} of its "
                    f"{_reading(guard.name)} lies wholly beyond the bound {guard.bound} "
                    f"(now {_value(guard.name, guard.value)}); {stop}",
                )
    primary = experiment.primary.name
    changes = [arm for arm in report.arms if arm.change is not None]
    k = len(experiment.arms) - 1
    level_change = f"{1 - report.comparison_alpha:.1%} anytime-valid interval" + (
        f" (Bonferroni over {k} comparisons)" if k > 1 else ""
    )
    better = [a for a in changes if a.change and a.change.verdict == "treatment-better"]
    if better:
        best = max(better, key=lambda a: a.change.difference if a.change else 0.0)
        return Verdict(
            "winner",
            best.name,
            f"{best.name} wins on {primary}: the {level_change} of its change against "
            f"{control.name} ({_interval(best)}) lies wholly above 0, so it answers better at "
            f"any look; promote it (`squad prompts promote {experiment.prompt} {best.version} "
            f"--label {experiment.label}`) and stop the experiment",
        )
    worse = [a for a in changes if a.change and a.change.verdict == "control-better"]
    if worse and len(worse) == len(experiment.arms) - 1:
        shown = ", ".join(f"{a.name} {_interval(a)}" for a in worse)
        return Verdict(
            "winner",
            control.name,
            f"{control.name} (the control) wins on {primary}: the {level_change} of every "
            f"other arm's change ({shown}) lies wholly below 0; stop the experiment and keep "
            f"{experiment.prompt}:{experiment.label} on v{control.version}",
        )
    smallest = min((arm.primary.n for arm in report.arms), default=0)
    shown = ", ".join(f"{a.name} {_interval(a)}" for a in changes) or "none yet"
    if report.stop_reached is not None:
        return Verdict(
            "no-difference",
            None,
            f"the stop rule ({report.stop_reached}) is reached and no difference on {primary} "
            f"is shown: each {level_change} of a change ({shown}) straddles 0; stop the "
            f"experiment and keep {experiment.prompt}:{experiment.label} on v{control.version}",
        )
    wait = (
        f"no verdict before {MINIMUM_ARM_SIZE} observations in every arm (the smallest has "
        f"{smallest})"
        if smallest < MINIMUM_ARM_SIZE
        else "keep it running: the intervals narrow as observations come in, and looking "
        "again does not raise the false-winner rate"
    )
    return Verdict(
        "no-difference-yet",
        None,
        f"no difference on {primary} is shown yet: the {level_change} of each change "
        f"({shown}) straddles 0; {wait}",
    )


def report_json(report: ExperimentReport) -> str:
    """The report as JSON (one object; numbers unrounded)."""
    verdict = decide(report)
    data: dict[str, Any] = {
        "experiment": report.name,
        "prompt": report.experiment.prompt,
        "label": report.experiment.label,
        "status": report.experiment.status,
        "primary": report.experiment.primary.name,
        "alpha": report.alpha,
        "control": report.control.name,
        "started": report.started.isoformat() if report.started else None,
        "stop_reached": report.stop_reached,
        "not_analysed": {"forced": report.forced, "without_subject": report.without_subject},
        "arms": [_arm_json(arm) for arm in report.arms],
        "verdict": verdict.kind,
        "verdict_arm": verdict.arm,
        "decision": verdict.decision,
    }
    return json.dumps(data, indent=2)


def report_markdown(report: ExperimentReport) -> str:
    """The report as Markdown, for a terminal or a pull request comment."""
    verdict = decide(report)
    experiment = report.experiment
    lines = [
        f"## Experiment `{report.name}`: {experiment.prompt}:{experiment.label} "
        f"({experiment.status})",
        "",
        f"**{HEADLINES[verdict.kind]}{f': {verdict.arm}' if verdict.arm else ''}**: "
        f"{verdict.decision}.",
        "",
        f"Primary metric `{experiment.primary.name}` ({experiment.primary.better} is better, "
        f"scaled to 0..1), {1 - report.alpha:.0%} anytime-valid intervals; control "
        f"`{report.control.name}`.",
        "",
        "| arm | version | answers | primary n | primary mean | interval | change vs control "
        "| latency p50 / p95 ms | cost per answer USD |",
        "| --- | --- | ---: | ---: | ---: | --- | --- | --- | ---: |",
    ]
    for arm in report.arms:
        low, high = arm.interval or (0.0, 1.0)
        change = f"{arm.change.difference:+.3f} ({_interval(arm)})" if arm.change else "(control)"
        version = f"v{arm.version}" + (f" via {arm.model}" if arm.model else "")
        lines.append(
            f"| {arm.name} | {version} | {arm.answers} | {arm.primary.n} | "
            f"{arm.primary.mean:.3f} | {low:.3f}..{high:.3f} | {change} | "
            f"{_ms(arm.latency_p50_ms)} / {_ms(arm.latency_p95_ms)} | "
            f"{_usd(arm.cost_per_answer_usd)} |"
        )
    if experiment.guardrails:
        lines += ["", "| guardrail | bound | " + " | ".join(a.name for a in report.arms) + " |"]
        lines.append("| --- | --- |" + " --- |" * len(report.arms))
        for index, (name, bound) in enumerate(experiment.guardrails.items()):
            cells = []
            for arm in report.arms:
                guard = arm.guardrails[index]
                mark = " **BREACHED**" if guard.crossed else ""
                cells.append(f"{_value(name, guard.value)}{mark}")
            lines.append(f"| {name} | {bound} | " + " | ".join(cells) + " |")
    for arm in report.arms:
        if arm.halted is not None:
            since = arm.halted.halted_at.isoformat(timespec="seconds")
            lines += [
                "",
                f"**HALTED: {arm.name}**: {arm.halted.describe()} since {since}; the service "
                f"serves its subjects with the control `{report.control.name}`.",
            ]
    lines += [
        "",
        f"Not analysed: {report.forced} forced answer(s) (X-Prompt-Label), "
        f"{report.without_subject} without a subject key ({experiment.subject}).",
    ]
    return "\n".join(lines) + "\n"


def _arm_json(arm: ArmSummary) -> dict[str, Any]:
    return {
        "arm": arm.name,
        "version": arm.version,
        "model": arm.model,
        "answers": arm.answers,
        "primary": {
            "n": arm.primary.n,
            "mean": arm.primary.mean if arm.primary.n else None,
            "interval": list(arm.interval) if arm.interval else None,
        },
        "change": None
        if arm.change is None
        else {
            "difference": arm.change.difference,
            "interval": [arm.change.lower, arm.change.upper],
            "verdict": arm.change.verdict,
        },
        "guardrails": {
            g.name: {"value": g.value, "bound": str(g.bound), "crossed": g.crossed}
            for g in arm.guardrails
        },
        "latency_ms": {"p50": arm.latency_p50_ms, "p95": arm.latency_p95_ms},
        "halted": None
        if arm.halted is None
        else {
            "since": arm.halted.halted_at.isoformat(),
            "guardrail": arm.halted.guardrail,
            "observed": arm.halted.observed,
            "bound": arm.halted.bound,
            "direction": arm.halted.direction,
        },
        "cost_usd": {"per_answer": arm.cost_per_answer_usd, "total": arm.cost_usd},
    }


def _interval(arm: ArmSummary) -> str:
    if arm.change is None:
        return "-"
    return f"{arm.change.lower:+.3f}..{arm.change.upper:+.3f}"


def _reading(name: str) -> str:
    if name == "latency_p95_ms":
        return "share of answers beyond the bound (at most 5% for a p95 within it)"
    if name == "cost_per_answer_usd":
        return "cost per answer"
    return "mean"


def _value(name: str, value: float | None) -> str:
    if value is None:
        return "-"
    if name == "latency_p95_ms":
        return _ms(value)
    if name == "cost_per_answer_usd":
        return _usd(value)
    return f"{value:.3f}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _usd(value: float | None) -> str:
    return "-" if value is None else f"{value:.6f}"
