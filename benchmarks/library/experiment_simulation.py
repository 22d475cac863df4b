"""How often an online experiment declares a winner, and how soon, by simulation through the
experiments' own decision functions (`squadkit.experiments.compare_arms`, `guardrail_crossed`).

Each simulated experiment is `--days` days of `--per-day` requests, each assigned to control
or treatment with probability 1/2; every request gives one pass/fail outcome. The report is
read once a day (30 looks) and the experiment stops at the first look with a verdict.

- **No true difference** (both arms 60%, and both at 5%, where a large-sample interval is
  most strained): the share of experiments that ever declare a winner, target at most alpha
  (plus two standard errors of simulation error). Beside it the naive habit this replaces:
  a fixed-sample two-proportion z-test at the same alpha, read every day (it inflates), and
  the same test read once, on the last day (its alpha holds, but only for that one look).
- **The same with a look every 50 requests** (300 looks): a confidence sequence holds at
  every n, so looking far more often must not break its alpha; the naive test gets worse.
- **A true difference of 5 points on a 60% success rate**: the share decided within the 30
  days (and in the wrong direction), the median requests until decided, beside the requests
  a fixed-sample test planned for 80% power needs (looking once).
- **A guardrail** (`at-most` 5% errors) on one arm: how often it is crossed when the arm's
  error rate sits exactly at the bound (target at most alpha), and how soon at 10%.

Pure Python, seeded, no file read or written. `--quick` for tests (a few experiments).

    .venv/bin/python benchmarks/library/experiment_simulation.py [--experiments 1000] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from squadkit.experiments import ArmOutcomes, compare_arms, guardrail_crossed

CONTROL_RATE, LIFT = 0.60, 0.05
RARE_RATE = 0.05
GUARDRAIL_BOUND = 0.05
FINE_LOOKS_PER_DAY = 10  # 300 looks in 30 days: every 50 requests at 500 a day


@dataclass
class Row:
    """One line of the table: a scenario read by one method over all its experiments."""

    scenario: str
    method: str
    declared: float  # share of experiments with a verdict (a winner, or a crossed guardrail)
    wrong: float  # share declared in the wrong direction (treatment-better scenarios only)
    median_requests: float | None  # among all experiments; None when fewer than half decided
    target: str = ""


@dataclass(frozen=True)
class Plan:
    experiments: int
    days: int
    per_day: int
    alpha: float
    planned_n: int


def successes(rng: random.Random, n: int, rate: float) -> int:
    return sum(rng.random() < rate for _ in range(n))


def looked_at(
    rng: random.Random, plan: Plan, control_rate: float, treatment_rate: float, per_day: int
) -> list[tuple[ArmOutcomes, ArmOutcomes]]:
    """The two arms' running sums as each of `per_day` reports a day reads them (pass/fail:
    x^2 = x, so the sum of squares is the sum)."""
    control, treatment = ArmOutcomes(0, 0.0, 0.0), ArmOutcomes(0, 0.0, 0.0)
    looks = []
    for _look in range(plan.days * per_day):
        to_treatment = successes(rng, plan.per_day // per_day, 0.5)
        to_control = plan.per_day // per_day - to_treatment
        won_c = successes(rng, to_control, control_rate)
        won_t = successes(rng, to_treatment, treatment_rate)
        control = ArmOutcomes(control.n + to_control, control.total + won_c, control.total + won_c)
        treatment = ArmOutcomes(
            treatment.n + to_treatment, treatment.total + won_t, treatment.total + won_t
        )
        looks.append((control, treatment))
    return looks


def z_test(control: ArmOutcomes, treatment: ArmOutcomes, critical: float) -> int:
    """A fixed-sample pooled two-proportion z-test: +1 treatment better, -1 worse, 0 neither."""
    pooled = (control.total + treatment.total) / (control.n + treatment.n)
    spread = pooled * (1 - pooled) * (1 / control.n + 1 / treatment.n)
    if spread <= 0:
        return 0
    z = (treatment.mean - control.mean) / math.sqrt(spread)
    return 1 if z > critical else -1 if z < -critical else 0


Decide = Callable[[ArmOutcomes, ArmOutcomes], int]


def first_decision(looks: list[tuple[ArmOutcomes, ArmOutcomes]], decide: Decide) -> tuple[int, int]:
    """(direction, requests read) at the first look with a decision; (0, 0) if none."""
    for control, treatment in looks:
        direction = decide(control, treatment)
        if direction:
            return direction, control.n + treatment.n
    return 0, 0


def summarise(scenario: str, method: str, found: list[tuple[int, int]], expected: int) -> Row:
    decided = [requests for direction, requests in found if direction]
    wrong = sum(1 for direction, _ in found if expected and direction == -expected)
    ordered = sorted(requests for direction, requests in found if direction == (expected or 1))
    median = None
    if expected and 2 * len(ordered) > len(found):
        # undecided experiments count as "later than any": the median of all experiments
        median = float(statistics.median([*ordered, *[math.inf] * (len(found) - len(ordered))]))
    return Row(scenario, method, len(decided) / len(found), wrong / len(found), median)


def comparisons(
    rng: random.Random,
    plan: Plan,
    treatment_rate: float,
    control_rate: float,
    *,
    looks_per_day: int = 1,
) -> list[Row]:
    """One scenario: the same simulated experiments read by the sequence and by z-tests."""
    critical = statistics.NormalDist().inv_cdf(1 - plan.alpha / 2)
    verdicts = {"treatment-better": 1, "control-better": -1, "no-difference-yet": 0}

    def sequential(control: ArmOutcomes, treatment: ArmOutcomes) -> int:
        found = compare_arms(control, treatment, alpha=plan.alpha, planned_n=plan.planned_n)
        return verdicts[found.verdict]

    def z(control: ArmOutcomes, treatment: ArmOutcomes) -> int:
        return z_test(control, treatment, critical)

    found: dict[str, list[tuple[int, int]]] = {"sequential": [], "peeking": [], "once": []}
    for _ in range(plan.experiments):
        reports = looked_at(rng, plan, control_rate, treatment_rate, looks_per_day)
        found["sequential"].append(first_decision(reports, sequential))
        found["peeking"].append(first_decision(reports, z))
        found["once"].append(first_decision(reports[-1:], z))
    null = treatment_rate == control_rate
    expected = 0 if null else 1
    scenario = (
        f"no difference, both {control_rate:.0%}"
        if null
        else f"{control_rate:.0%} -> {treatment_rate:.0%}"
    )
    looks = (
        f"{plan.days} daily looks"
        if looks_per_day == 1
        else f"{plan.days * looks_per_day} looks, every {plan.per_day // looks_per_day} requests"
    )
    rows = [
        summarise(scenario, f"confidence sequence, {looks}", found["sequential"], expected),
        summarise(scenario, f"z-test, {looks} (naive)", found["peeking"], expected),
    ]
    if looks_per_day == 1:
        rows.append(
            summarise(scenario, f"z-test, once on day {plan.days}", found["once"], expected)
        )
    if null:
        rows[0].target = judged(rows[0].declared, plan)
    return rows


def guardrails(rng: random.Random, plan: Plan, error_rate: float) -> Row:
    """One arm's error rate read daily against an `at-most` bound (half the traffic)."""
    found = []
    for _ in range(plan.experiments):
        arm, crossed = ArmOutcomes(0, 0.0, 0.0), (0, 0)
        for _day in range(plan.days):
            n = successes(rng, plan.per_day, 0.5)
            errors = successes(rng, n, error_rate)
            arm = ArmOutcomes(arm.n + n, arm.total + errors, arm.total + errors)
            if guardrail_crossed(
                arm,
                bound=GUARDRAIL_BOUND,
                direction="at-most",
                alpha=plan.alpha,
                planned_n=plan.planned_n // 2,
            ):
                crossed = (1, arm.n)
                break
        found.append(crossed)
    at_bound = math.isclose(error_rate, GUARDRAIL_BOUND)
    row = summarise(
        f"guardrail at most {GUARDRAIL_BOUND:.0%} errors, arm at {error_rate:.0%}",
        f"guardrail_crossed, {plan.days} daily looks",
        found,
        0 if at_bound else 1,
    )
    if at_bound:
        row.target = judged(row.declared, plan)
    return row


def judged(share: float, plan: Plan) -> str:
    """At most alpha, with two standard errors of simulation slack."""
    slack = 2 * math.sqrt(plan.alpha * (1 - plan.alpha) / plan.experiments)
    met = share <= plan.alpha + slack
    return f"<= {plan.alpha:.0%} {'met' if met else 'MISSED'}"


def fixed_sample_size(alpha: float, power: float = 0.8) -> int:
    """Requests (both arms) a one-look two-proportion z-test needs for the 5-point lift."""
    normal = statistics.NormalDist()
    z = normal.inv_cdf(1 - alpha / 2) + normal.inv_cdf(power)
    treated = CONTROL_RATE + LIFT
    per_arm = z * z * (CONTROL_RATE * (1 - CONTROL_RATE) + treated * (1 - treated)) / LIFT**2
    return 2 * math.ceil(per_arm)


def percent(value: float) -> str:
    return f"{value:.1%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=1000, help="per scenario")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=500, help="requests a day, both arms")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument(
        "--planned-n",
        type=int,
        default=0,
        help="requests the sequence is tuned for (default: days x per-day)",
    )
    parser.add_argument("--seed", type=int, default=26)
    parser.add_argument("--quick", action="store_true", help="40 experiments per scenario")
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON")
    args = parser.parse_args()
    plan = Plan(
        experiments=40 if args.quick else args.experiments,
        days=args.days,
        per_day=args.per_day,
        alpha=args.alpha,
        planned_n=args.planned_n or args.days * args.per_day,
    )
    rng = random.Random(args.seed)
    started = time.perf_counter()
    print(
        f"{plan.experiments} experiments per scenario, {plan.days} days x {plan.per_day} "
        f"requests split 50/50, alpha {plan.alpha}, sequence tuned for {plan.planned_n} "
        f"requests; a fixed-sample z-test needs {fixed_sample_size(plan.alpha)} requests "
        f"for 80% power at {CONTROL_RATE:.0%} -> {CONTROL_RATE + LIFT:.0%}, looking once"
    )
    print("| scenario | method | declared | wrong direction | median requests to decide | target |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    rows: list[Row] = []
    for control_rate, treatment_rate in (
        (CONTROL_RATE, CONTROL_RATE),
        (RARE_RATE, RARE_RATE),
        (CONTROL_RATE, CONTROL_RATE + LIFT),
    ):
        rows.extend(comparisons(rng, plan, treatment_rate, control_rate))
    for rate in (CONTROL_RATE, RARE_RATE):  # anytime: a look every few requests, not daily
        rows.extend(comparisons(rng, plan, rate, rate, looks_per_day=FINE_LOOKS_PER_DAY))
    rows.append(guardrails(rng, plan, GUARDRAIL_BOUND))
    rows.append(guardrails(rng, plan, 2 * GUARDRAIL_BOUND))
    for row in rows:
        median = (
            "-"
            if row.median_requests is None
            else "not within the days"
            if math.isinf(row.median_requests)
            else f"{row.median_requests:.0f}"
        )
        print(
            f"| {row.scenario} | {row.method} | {percent(row.declared)} | {percent(row.wrong)} "
            f"| {median} | {row.target} |",
            flush=True,
        )
    print(f"simulation took {time.perf_counter() - started:.1f} s")
    if args.json:
        cells = [
            {
                **asdict(row),
                "median_requests": None
                if row.median_requests in (None, math.inf)
                else row.median_requests,
            }
            for row in rows
        ]
        fixed = fixed_sample_size(plan.alpha)
        print(json.dumps({**asdict(plan), "fixed_sample_requests": fixed, "rows": cells}))
    sys.exit(1 if any("MISSED" in row.target for row in rows) else 0)


if __name__ == "__main__":
    main()
