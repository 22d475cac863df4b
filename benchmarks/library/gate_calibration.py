"""How often the eval gate says pass, fail and inconclusive, by simulation through its own
decision function (`squadkit.evals.stats.paired_bootstrap`, the non-inferiority rule).

Paired pass/fail scores as a triage suite has them (baseline accuracy about 0.63): a share
`disagreement` of the cases change verdict between baseline and new version, up or down, so
that the mean changes by the true change (0, -margin/2, -margin, -2 x margin). Each cell is
`--runs` simulated suites of `--cases` cases, decided at margin 0.05 and 95% confidence.
Targets (issue 23): at the margin, `pass` at most 5% (plus simulation error, 2 standard
errors); for a truly neutral change, `fail` at most 5% (the same allowance).

The bootstrap draws `--resamples` (default 400, the suites ship 2000) per decision: fewer
only add Monte Carlo noise to the interval's ends, and keep the section to a minute or two.
Pure Python, no model, no file read or written.

    .venv/bin/python benchmarks/library/gate_calibration.py [--runs 100] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time

from squadkit.evals.stats import paired_bootstrap

MARGIN, CONFIDENCE, ACCURACY = 0.05, 0.95, 0.63
SIZES = (157, 400, 1000)
DISAGREEMENTS = (0.10, 0.16)
CHANGES = (0.0, -MARGIN / 2, -MARGIN, -2 * MARGIN)


def simulate(
    rng: random.Random, cases: int, change: float, disagreement: float
) -> tuple[list[float], list[float]]:
    """One suite's paired scores: `disagreement` of the cases differ, netting `change`."""
    up = (disagreement + change) / 2  # 0 -> 1
    down = (disagreement - change) / 2  # 1 -> 0
    base, new = [], []
    for _ in range(cases):
        u = rng.random()
        if u < up:
            pair = (0.0, 1.0)
        elif u < up + down:
            pair = (1.0, 0.0)
        else:
            same = 1.0 if rng.random() < ACCURACY else 0.0
            pair = (same, same)
        base.append(pair[0])
        new.append(pair[1])
    return base, new


def cell(
    rng: random.Random, cases: int, change: float, disagreement: float, runs: int, resamples: int
) -> dict[str, float]:
    counts = {"pass": 0, "fail": 0, "inconclusive": 0}
    for run in range(runs):
        base, new = simulate(rng, cases, change, disagreement)
        decided = paired_bootstrap(
            base, new, margin=MARGIN, confidence=CONFIDENCE, resamples=resamples, seed=run
        )
        counts[decided.outcome] += 1
    return {name: count / runs for name, count in counts.items()}


def judged(change: float, shares: dict[str, float], runs: int) -> str:
    """The cell against its target, if it has one (simulation error: 2 standard errors)."""
    slack = 2 * math.sqrt(0.05 * 0.95 / runs)
    if math.isclose(change, -MARGIN):
        ok = shares["pass"] <= 0.05 + slack
        return f"pass <= 5% {'met' if ok else 'MISSED'}"
    if change == 0:
        ok = shares["fail"] <= 0.05 + slack
        return f"fail <= 5% {'met' if ok else 'MISSED'}"
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="simulated suites per cell")
    parser.add_argument("--resamples", type=int, default=400)
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--json", action="store_true", help="also print the cells as JSON")
    args = parser.parse_args()
    rng = random.Random(args.seed)  # a simulation, not secrets
    started = time.perf_counter()
    rows = []
    print(
        f"margin {MARGIN}, {CONFIDENCE:.0%} non-inferiority, baseline accuracy {ACCURACY}, "
        f"{args.runs} suites per cell, {args.resamples} resamples"
    )
    print("| true change | cases | disagreement | pass | fail | inconclusive | target |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for change in CHANGES:
        for disagreement in DISAGREEMENTS:
            for cases in SIZES:
                shares = cell(rng, cases, change, disagreement, args.runs, args.resamples)
                target = judged(change, shares, args.runs)
                rows.append(
                    {
                        "change": change,
                        "cases": cases,
                        "disagreement": disagreement,
                        **shares,
                        "target": target,
                    }
                )
                print(
                    f"| {change:+.3f} | {cases} | {disagreement:.0%} | {shares['pass']:.1%} "
                    f"| {shares['fail']:.1%} | {shares['inconclusive']:.1%} | {target} |",
                    flush=True,
                )
    print(f"calibration took {time.perf_counter() - started:.1f} s")
    if args.json:
        print(json.dumps({"runs": args.runs, "resamples": args.resamples, "cells": rows}))
    missed = [row for row in rows if "MISSED" in str(row["target"])]
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
