"""Views of an `EvalReport`: Markdown summary, one self-contained HTML page, and the writer.

`write_reports` writes all four files (JSON included) into an output folder:
`report.json`, `summary.md` (fit for `$GITHUB_STEP_SUMMARY` and a PR comment),
`junit.xml` (one testcase per case x scorer, `render_junit`) and `report.html` (its markup
is the Jinja template `templates/report.html.j2`, autoescaped, so nothing a model answers
becomes markup). An eval plan's side-by-side Markdown is `render_plan`; the words for the
gate's verdict and each row's outcome are `render_gate`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .render_gate import VERDICTS, advisory_lines, inconclusive_lines, row_mark, sample_text
from .render_junit import junit_pieces
from .report import ArmResult, CaseResult, EvalReport
from .spool import Report, as_report, write_report_json
from .stats import mean

if TYPE_CHECKING:
    import jinja2


def write_reports(
    report: EvalReport | Report,
    out_dir: Path,
    *,
    baseline: EvalReport | Report | None = None,
) -> dict[str, Path]:
    """Write every view of `report` into `out_dir`; returns name -> path.

    Each file is written as it is made, case by case, so a large run's views are never held
    whole in memory.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    run = as_report(report)
    paths = {
        "json": write_report_json(run, out_dir / "report.json"),
        "markdown": out_dir / "summary.md",
        "junit": out_dir / "junit.xml",
        "html": out_dir / "report.html",
    }
    paths["markdown"].write_text(markdown_summary(run, baseline), encoding="utf-8")
    _write(paths["junit"], junit_pieces(run))
    _write(paths["html"], html_pieces(run, baseline))
    return paths


def _write(path: Path, pieces: Iterable[str]) -> None:
    with path.open("w", encoding="utf-8") as file:
        for piece in pieces:
            file.write(piece)


def score_text(value: float) -> str:
    """A score or its interval bound as every view prints it: three decimals."""
    return f"{value:.3f}"


def _short_hash(value: str) -> str:
    return value.removeprefix("sha256:")[:12]


def _mean_deltas(baseline: Report, run: Report, name: str) -> dict[str, float]:
    """Mean per-case delta on the cases both runs share, per scorer."""
    base = {c.id: c for c in baseline.arm_scores()}
    cases = run.arm_scores(name)
    deltas: dict[str, float] = {}
    for scorer in run.arm(name).summary.scorers:
        pairs = [
            c.scores[scorer] - base[c.id].scores[scorer]
            for c in cases
            if c.id in base and scorer in base[c.id].scores
        ]
        if pairs:
            deltas[scorer] = mean(pairs)
    return deltas


def markdown_summary(
    report: EvalReport | Report, baseline: EvalReport | Report | None = None
) -> str:
    """A compact summary: verdict, per-scorer table with deltas, tags, cost, arms."""
    run = as_report(report)
    report = run.header
    gate = report.gate
    verdict = f" - gate {VERDICTS[gate.verdict]}" if gate else ""
    lines: list[str] = [f"## Eval `{report.suite}`{verdict}", ""]
    arm = report.arm(gate.arm if gate else None)
    prompt = arm.prompt
    models = "; ".join(f"{a}: {', '.join(m)}" for a, m in arm.models.items()) or "none answered"
    if arm.judges:
        models += ", judged by " + "; ".join(f"{a}: {', '.join(m)}" for a, m in arm.judges.items())
    lines.append(
        f"Prompt `{prompt.name}@v{prompt.version}`"
        + (f" (label `{prompt.label}`)" if prompt.label else "")
        + f", hash `{_short_hash(prompt.hash)}`, alias `{prompt.alias}`. Models: {models}.  "
    )
    lines.append(
        f"Dataset `{report.dataset}` ({arm.summary.cases} cases, hash "
        f"`{_short_hash(report.dataset_hash)}`), mode `{report.mode}`, repeats {report.repeats}"
        + (f", shard {report.shard.index}/{report.shard.count}" if report.shard else "")
        + "."
    )
    lines.append("")
    lines.extend(_warnings(run, arm.name))
    lines.extend(advisory_lines(gate))
    thresholds = {t.scorer: t for t in gate.thresholds} if gate else {}
    regressions = {r.scorer: r for r in gate.regressions} if gate else {}
    deltas = (
        _mean_deltas(as_report(baseline), run, arm.name) if baseline and not regressions else {}
    )
    lines.append("| Scorer | Mean | 95% CI | Passed | Threshold | Delta vs baseline | |")
    lines.append("| --- | ---: | --- | ---: | ---: | --- | --- |")
    for name, stats in arm.summary.scorers.items():
        threshold = thresholds.get(name)
        check = regressions.get(name)
        if check is not None:
            delta = f"{check.delta:+.3f} ({check.ci_low:+.3f}..{check.ci_high:+.3f})"
        elif name in deltas:
            delta = f"{deltas[name]:+.3f}"
        else:
            delta = "-"
        mark = row_mark(threshold, check, advisory=bool(gate and name in gate.advisory))
        interval = f"{score_text(stats.ci_low)}..{score_text(stats.ci_high)}"
        lines.append(
            f"| {name} | {score_text(stats.mean)} | {interval} "
            f"| {stats.passed}/{stats.n} | {f'>= {threshold.threshold:.2f}' if threshold else '-'} "
            f"| {delta} | {mark} |"
        )
    lines.append("")
    if regressions:
        rule = next(iter(regressions.values())).rule
        lines.append(
            f"Regression rule `{rule}`, margin {gate.regressions[0].margin:.3f}:" if gate else ""
        )
        for check in regressions.values():
            if check.decision:
                sample = sample_text(check)
                lines.append(
                    f"- {check.decision}" + (f". {sample[0].upper()}{sample[1:]}" if sample else "")
                )
        lines.append("")
    s = arm.summary
    lines.append(
        f"Overall {score_text(s.overall)}; latency p50 {s.latency_p50_s * 1000:.0f} ms, "
        f"p95 {s.latency_p95_s * 1000:.0f} ms; tokens {s.input_tokens} in / "
        f"{s.output_tokens} out; cost ${s.cost_usd:.4f}; errors {s.errors}."
    )
    if s.unstable_cases:
        lines.append("")
        lines.append(
            f"Unstable across repeats (left out of the regression check): "
            f"{', '.join(s.unstable_cases[:20])}" + (" ..." if len(s.unstable_cases) > 20 else "")
        )
    lines.extend(_weakest_tags(arm))
    if len(report.arms) > 1:
        lines.append("")
        lines.extend(comparison_table(run))
    lines.append("")
    return "\n".join(lines)


def _weakest_tags(arm: ArmResult, count: int = 8) -> list[str]:
    """A collapsed table of the tags with the lowest mean score."""
    s = arm.summary
    lines: list[str] = []
    worst = sorted(s.tags.items(), key=lambda item: mean(list(item[1].scores.values())))[:count]
    if worst:
        lines.append("")
        lines.append("<details><summary>Weakest tags</summary>")
        lines.append("")
        names = list(s.scorers)
        lines.append("| Tag | n | " + " | ".join(names) + " |")
        lines.append("| --- | ---: |" + " ---: |" * len(names))
        for tag, summary in worst:
            row = " | ".join(score_text(summary.scores.get(n, 0.0)) for n in names)
            lines.append(f"| {tag} | {summary.n} | {row} |")
        lines.append("")
        lines.append("</details>")
    return lines


def comparison_table(report: EvalReport | Report) -> list[str]:
    """One row per arm: quality per scorer, latency p50/p95, tokens and cost per case."""
    run = as_report(report)
    report = run.header
    names = [info.name for info in report.scorers]
    lines = ["### Arms", ""]
    lines.append(
        "| Arm | Prompt | Alias | "
        + " | ".join(names)
        + " | p50 ms | p95 ms | tokens/case | cost/case |"
    )
    lines.append("| --- | --- | --- |" + " ---: |" * (len(names) + 4))
    for arm, cases in zip(report.arms, run.scores, strict=True):
        s = arm.summary
        attempts = max(1, sum(c.attempts for c in cases))
        tokens = (s.input_tokens + s.output_tokens) / attempts
        quality = " | ".join(score_text(s.scorers[n].mean) for n in names)
        lines.append(
            f"| {arm.name} | {arm.prompt.name}@v{arm.prompt.version} | {arm.prompt.alias} "
            f"| {quality} | {s.latency_p50_s * 1000:.0f} | {s.latency_p95_s * 1000:.0f} "
            f"| {tokens:.0f} | ${s.cost_usd / attempts:.6f} |"
        )
    return lines


def _cell_class(value: float, pass_score: float) -> str:
    if value >= max(pass_score, 0.999):
        return "ok"
    return "mid" if value >= pass_score else "bad"


def _pre(value: Any) -> str:
    """A value as the page shows it in a `<pre>`: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=1)


def _answer(case: CaseResult) -> Any:
    first = case.attempts[0]
    if first.error:
        return f"ERROR: {first.error}"
    return first.output if first.output is not None else first.text


@dataclass(frozen=True)
class _Cell:
    css: str
    reason: str
    value: float
    was: float | None
    unstable: bool


@dataclass(frozen=True)
class _Row:
    """One case of the page's table, with what the filters read (`fails`, `changed`)."""

    id: str
    tags: list[str]
    inputs: str
    expected: str
    answer: str
    baseline_answer: str | None  # None: no baseline run at all
    fails: list[str]
    changed: bool
    cells: list[_Cell]


def _row(
    case: CaseResult, base_case: CaseResult | None, pass_scores: dict[str, float], baseline: bool
) -> _Row:
    names = list(pass_scores)
    first = case.attempts[0]
    return _Row(
        id=case.id,
        tags=list(case.tags),
        inputs=_pre(case.inputs),
        expected=_pre(case.expected),
        answer=_pre(_answer(case)),
        baseline_answer=(
            None
            if not baseline
            else _pre(_answer(base_case) if base_case is not None else "(not in baseline)")
        ),
        fails=[n for n in names if case.scores.get(n, 0.0) < pass_scores[n]],
        changed=base_case is not None
        and any(abs(case.scores.get(n, 0.0) - base_case.scores.get(n, 0.0)) > 1e-9 for n in names),
        cells=[
            _Cell(
                css=_cell_class(case.scores.get(name, 0.0), pass_scores[name]),
                reason=first.scores[name].reason if name in first.scores else "",
                value=case.scores.get(name, 0.0),
                was=(
                    base_case.scores[name]
                    if base_case is not None and name in base_case.scores
                    else None
                ),
                unstable=name in case.unstable,
            )
            for name in names
        ],
    )


@cache
def _page_template() -> jinja2.Template:
    """`templates/report.html.j2`, package data of this subpackage, loaded once."""
    import jinja2  # noqa: PLC0415 - only when a page is rendered

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader(__package__ or "squadkit.evals", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return environment.get_template("report.html.j2")


def _warnings(run: Report, arm: str) -> list[str]:
    """What a reader must see before the numbers: why the gate failed, or (with no gate,
    which names it among its reasons) that a fallback answered for the model under test."""
    gate = run.header.gate
    if gate and gate.reasons:
        return ["**Why the gate failed**", "", *(f"- {reason}" for reason in gate.reasons), ""]
    if gate and gate.verdict in ("inconclusive", "pass-with-approval"):
        return inconclusive_lines(gate)
    answered = None if gate else fallback_note(run, arm)
    return [f"**{answered}**", ""] if answered else []


def fallback_note(run: Report, arm: str) -> str | None:
    """A line for the reports of a run in which a fallback answered for the model under
    test, or None: those scores are the fallback's, so every report says so up front."""
    cases = run.arm_scores(arm)
    answered = [case for case in cases if case.fallback]
    if not answered:
        return None
    deployments = sorted({deployment for case in answered for deployment in case.fallback})
    return (
        f"{len(answered)} of {len(cases)} case(s) were answered by a fallback "
        f"({', '.join(deployments)}), not by the model under test: these scores are not its"
    )


def html_page(report: EvalReport | Report, baseline: EvalReport | Report | None = None) -> str:
    """One self-contained page: summary and a filterable per-case table beside the baseline.

    The markup is `templates/report.html.j2`; this function only decides what each row says.
    """
    return "".join(html_pieces(report, baseline))


def html_pieces(
    report: EvalReport | Report, baseline: EvalReport | Report | None = None
) -> Iterator[str]:
    """`html_page`, piece by piece: the rows are made as the template reaches them."""
    run = as_report(report)
    header = run.header
    arm = header.arm(header.gate.arm if header.gate else None)
    base = as_report(baseline) if baseline is not None else None
    base_arm = base.arm() if base else None
    base_case = base.finder() if base else lambda _: None
    pass_scores = {info.name: info.pass_score for info in header.scorers}
    rows = (
        _row(case, base_case(case.id), pass_scores, base_arm is not None)
        for case in run.cases(arm.name)
    )
    return _page_template().generate(
        report=header,
        gate=header.gate,
        arm=arm,
        base_arm=base_arm,
        prompt_hash=_short_hash(arm.prompt.hash),
        created=header.created_at.isoformat(timespec="seconds"),
        scorers=list(pass_scores),
        rows=rows,
        fallback=None if header.gate else fallback_note(run, arm.name),
    )
