"""The views of `squad eval judge-agreement`: text for a terminal, Markdown for a pull
request, JSON for scripts. Every view says how the interval was made (a seeded percentile
bootstrap over cases), so a reader can check it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from .agreement import Agreement, Verdict

Format = Literal["text", "markdown", "json"]

__all__ = ["Format", "render_agreement"]

_CORNER = "people \\ judge"  # rows: what people said; columns: what the judge said


def render_agreement(
    suite: str, dataset: str, found: Sequence[Agreement], *, seed: int, fmt: Format
) -> str:
    """`found` (one entry per `llm_judge` scorer) in the chosen format."""
    if fmt == "json":
        return json.dumps(_document(suite, dataset, found, seed), indent=1) + "\n"
    if not found:
        return f"suite '{suite}' has no llm_judge scorer: nothing to check against people\n"
    if fmt == "markdown":
        return _markdown(suite, dataset, found, seed)
    return _text(suite, dataset, found, seed)


def status(found: Agreement) -> str:
    """gating, advisory, or unchecked (the suite sets no `gate.judge_agreement`)."""
    return {True: "gating", False: "advisory", None: "unchecked"}[found.gates]


def _method(found: Agreement, seed: int) -> str:
    return (
        f"{found.confidence:.0%} interval: percentile bootstrap over cases, "
        f"{found.resamples} resamples, seed {seed}"
    )


def _kappa(found: Agreement) -> str:
    if found.kappa is None:
        return "kappa undefined"
    interval = (
        f" ({found.ci_low:.2f}..{found.ci_high:.2f})"
        if found.ci_low is not None and found.ci_high is not None
        else ""
    )
    return f"kappa {found.kappa:.2f}{interval}"


def _label(verdict: Verdict) -> str:
    if isinstance(verdict, bool):
        return "true" if verdict else "false"
    return verdict


def _text(suite: str, dataset: str, found: Sequence[Agreement], seed: int) -> str:
    lines = [f"judge agreement with people, suite '{suite}' ({dataset})"]
    for one in found:
        lines.append(
            f"{one.scorer}: {_kappa(one)}, agreement {one.observed:.0%}, n {one.n} "
            f"[{status(one)}] {one.why}"
        )
        lines.append(f"  {_method(one, seed)}")
        width = max(len(_CORNER), *(len(_label(v)) for v in one.verdicts))
        cells = [max(5, len(_label(v))) for v in one.verdicts]
        head = "".join(f" {_label(v):>{w}}" for v, w in zip(one.verdicts, cells, strict=True))
        lines.append(f"  {_CORNER:<{width}}{head}")
        for verdict, row in zip(one.verdicts, one.matrix, strict=True):
            counts = "".join(f" {count:>{w}}" for count, w in zip(row, cells, strict=True))
            lines.append(f"  {_label(verdict):<{width}}{counts}")
    return "\n".join(lines) + "\n"


def _markdown(suite: str, dataset: str, found: Sequence[Agreement], seed: int) -> str:
    lines = [f"## Judge agreement with people: `{suite}`", "", f"Dataset `{dataset}`.", ""]
    lines += ["| Judge | Kappa | Interval | Agreement | n | Status |"]
    lines += ["| --- | ---: | --- | ---: | ---: | --- |"]
    for one in found:
        kappa = "undefined" if one.kappa is None else f"{one.kappa:.2f}"
        interval = (
            f"{one.ci_low:.2f}..{one.ci_high:.2f}"
            if one.ci_low is not None and one.ci_high is not None
            else "-"
        )
        lines.append(
            f"| {one.scorer} | {kappa} | {interval} | {one.observed:.0%} | {one.n} "
            f"| {status(one).upper()} |"
        )
    for one in found:
        lines += ["", f"### {one.scorer}", "", f"{one.why}; {_method(one, seed)}.", ""]
        labels = [_label(v) for v in one.verdicts]
        lines.append("| people \\ judge | " + " | ".join(f"`{label}`" for label in labels) + " |")
        lines.append("| --- |" + " ---: |" * len(labels))
        for label, row in zip(labels, one.matrix, strict=True):
            lines.append(f"| `{label}` | " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines) + "\n"


def _document(suite: str, dataset: str, found: Sequence[Agreement], seed: int) -> dict[str, Any]:
    return {
        "suite": suite,
        "dataset": dataset,
        "interval": "percentile bootstrap over cases (seeded)",
        "seed": seed,
        "judges": [
            {
                "scorer": one.scorer,
                "n": one.n,
                "kappa": one.kappa,
                "ci_low": one.ci_low,
                "ci_high": one.ci_high,
                "confidence": one.confidence,
                "resamples": one.resamples,
                "observed_agreement": round(one.observed, 6),
                "verdicts": list(one.verdicts),
                "confusion": {
                    "rows": "people",
                    "columns": "judge",
                    "matrix": [list(row) for row in one.matrix],
                },
                "status": status(one),
                "why": one.why,
            }
            for one in found
        ],
    }
