"""`squad eval compare`: a Markdown diff of two reports, scorer by scorer.

Apart from `workflow` because it runs nothing and gates nothing: it reads two reports
case by case and applies the gate's paired check (`gate.compare_arms`) to show each
scorer's delta with its interval, for a reviewer to read.
"""

from __future__ import annotations

from pathlib import Path

from ..files import display_path
from .errors import EvalConfigError
from .gate import compare_arms
from .spool import Report, read_streamed

__all__ = ["compare"]


def compare(
    base_path: Path, new_path: Path, *, margin: float = 0.02, confidence: float = 0.95
) -> str:
    """Markdown comparison of two reports (first arm of each): deltas with bootstrap intervals."""
    with read_streamed(base_path) as base, read_streamed(new_path) as new:
        return _compare(base, new, base_path, new_path, margin=margin, confidence=confidence)


def _compare(
    base: Report,
    new: Report,
    base_path: Path,
    new_path: Path,
    *,
    margin: float,
    confidence: float,
) -> str:
    if base.suite != new.suite:
        raise EvalConfigError(
            f"cannot compare suite '{base.suite}' ({display_path(base_path)}) with "
            f"'{new.suite}' ({display_path(new_path)})"
        )
    scorers = [s for s in new.arm().summary.scorers if s in base.arm().summary.scorers]
    checks, unstable = compare_arms(
        base.arm_scores(),
        new.arm_scores(),
        scorers,
        margin=margin,
        confidence=confidence,
        resamples=2000,
        seed=0,
    )
    # compare_arms applies the gate's default rule: the interval and p it shows decided.
    level = f"{1 - 2 * (1 - confidence):.0%}"
    lines = [
        f"## Compare `{base.suite}`: {base.arm().name} -> {new.arm().name}",
        "",
        f"Base {display_path(base_path)}, new {display_path(new_path)}; "
        f"{checks[0].n if checks else 0} shared cases, margin {margin}, "
        f"confidence {confidence}, rule {checks[0].rule if checks else 'non-inferiority'}.",
        "",
        f"| Scorer | Base | New | Delta | {level} CI | p | |",
        "| --- | ---: | ---: | ---: | --- | ---: | --- |",
    ]
    for c in checks:
        lines.append(
            f"| {c.scorer} | {c.baseline_mean:.3f} | {c.new_mean:.3f} | {c.delta:+.3f} | "
            f"{c.ci_low:+.3f}..{c.ci_high:+.3f} | {c.p_value:.4f} | "
            f"{'FAIL' if c.regressed else ''} |"
        )
    if unstable:
        lines += ["", f"Unstable cases left out: {', '.join(unstable)}"]
    if base.header.dataset_hash != new.header.dataset_hash:
        lines += ["", "Note: the two runs used different dataset versions (shared ids compared)."]
    return "\n".join(lines) + "\n"
