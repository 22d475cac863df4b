"""What the `squad eval` commands do, as plain functions (the CLI is a thin shell over these).

run -> reports; gate -> run (or read a merged report) + verdict + evidence; baseline ->
`evals/baselines/<suite>.json`; compare -> a Markdown diff of two reports; merge -> one report
from shards.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .dataset import load_dataset
from .errors import EvalConfigError, GateFailed, ShardFailed
from .gate import compare_arms, evaluate_gate, write_gate_evidence
from .paths import display_path
from .render import markdown_summary, write_reports
from .report import EvalReport, merge_reports, read_report, write_json
from .runner import RunOptions, run_suite
from .suite import Suite, Target, load_suite, resolve_suite, suite_paths

if TYPE_CHECKING:
    from ..settings import Settings


@dataclass(frozen=True)
class TargetOverride:
    """Command-line changes to a suite's target; several versions/models make a matrix."""

    labels: tuple[str, ...] = ()
    versions: tuple[int, ...] = ()
    models: tuple[str, ...] = ()
    matrix: bool = False

    def targets(self, suite: Suite) -> list[Target]:
        base = suite.spec.target
        if self.matrix:
            if not suite.spec.matrix:
                raise EvalConfigError(f"{display_path(suite.path)}: suite has no 'matrix' arms")
            return list(suite.spec.matrix)
        selectors: list[dict[str, object]] = [
            {"label": label, "version": None} for label in self.labels
        ]
        selectors += [{"version": version, "label": None} for version in self.versions]
        if not selectors:
            selectors = [{}]
        models: list[str | None] = list(self.models) or [None]
        targets = []
        for selector, model in itertools.product(selectors, models):
            update: dict[str, object] = {**selector, "name": None}
            if model is not None:
                update["model"] = model
            targets.append(base.model_copy(update=update))
        return targets

    def cli_args(self) -> list[str]:
        """The `squad eval run` options that give the same targets (for child processes)."""
        args = [arg for label in self.labels for arg in ("--label", label)]
        args += [arg for version in self.versions for arg in ("--version", str(version))]
        args += [arg for model in self.models for arg in ("--model", model)]
        return [*args, "--matrix"] if self.matrix else args


@dataclass
class Outcome:
    """What a command produced: the report, the files written and, for a gate, evidence."""

    report: EvalReport
    suite: Suite | None = None
    paths: dict[str, Path] = field(default_factory=dict)
    evidence: Path | None = None
    notes: list[str] = field(default_factory=list)


def suites(settings: Settings, names: list[str]) -> list[Suite]:
    """The named suites, or every suite in `evals/` when none is named."""
    evals_dir = settings.evals_dir
    paths = [resolve_suite(evals_dir, n) for n in names] if names else suite_paths(evals_dir)
    if not paths:
        raise EvalConfigError(f"no suites in {display_path(evals_dir)}; add evals/<suite>.yaml")
    return [load_suite(path, evals_dir) for path in paths]


def _baseline(suite: Suite) -> EvalReport | None:
    return read_report(suite.baseline_path) if suite.baseline_path.is_file() else None


def run(
    settings: Settings,
    suite: Suite,
    options: RunOptions,
    targets: list[Target],
    out_dir: Path,
) -> Outcome:
    """Run a suite (every arm) and write its reports into `out_dir/<suite>/`."""
    report = asyncio.run(run_suite(suite, settings=settings, options=options, targets=targets))
    paths = write_reports(report, out_dir / suite.name, baseline=_baseline(suite))
    return Outcome(suite=suite, report=report, paths=paths)


def run_workers(
    settings: Settings,
    suite: Suite,
    options: RunOptions,
    override: TargetOverride,
    out_dir: Path,
    *,
    workers: int,
    command: list[str],
    on_shard: Callable[[str], None] = lambda _: None,
) -> Outcome:
    """`run`, split into `workers` shards run by child processes, merged into `out_dir/<suite>/`.

    The runner spends its CPU in one process (litellm costs milliseconds of CPU per call), so
    a large live run only scales with cores as several processes. Each child is `command`
    (the CLI's `eval run`) with `--shard i/n`: a crash stays in its shard, and the merge is
    the one `squad eval merge` does. The suite's concurrency is divided across the children.
    """
    if options.shard is not None:
        raise EvalConfigError("--workers shards the run itself: give --workers or --shard")
    override.targets(suite)  # a bad override fails here, once, rather than in every child
    count = max(1, min(workers, len(load_dataset(suite.dataset_path).cases)))
    concurrency = math.ceil((options.concurrency or suite.spec.concurrency) / count)
    shared = [str(suite.path), "--mode", options.mode, "--concurrency", str(concurrency)]
    if options.repeats is not None:
        shared += ["--repeats", str(options.repeats)]
    shared += override.cli_args()
    # Only the parent writes the job summary: a child's is one shard's.
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    env["SQUAD_ROOT"] = str(settings.root)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="squad-eval-workers-") as tmp:
        children: dict[int, subprocess.Popen[bytes]] = {}
        logs: dict[int, Path] = {}
        try:
            for index in range(1, count + 1):
                logs[index] = Path(tmp) / f"shard-{index}.log"
                # A file, not a pipe: a chatty child cannot block on a full buffer.
                with logs[index].open("wb") as log:
                    children[index] = subprocess.Popen(  # noqa: S603 - our own CLI, no shell
                        [*command, *shared, "--shard", f"{index}/{count}", "--out", tmp],
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
            with ThreadPoolExecutor(max_workers=count) as pool:
                waits = {pool.submit(child.wait): index for index, child in children.items()}
                for done in as_completed(waits):
                    index, code = waits[done], done.result()
                    if code != 0:
                        _stop(children.values())  # before the pool waits for the other shards
                        last = _last_line(logs[index])
                        raise ShardFailed(
                            f"suite '{suite.name}': shard {index}/{count} exited {code}"
                            + (f": {last}" if last else "")
                        )
                    on_shard(
                        f"{suite.name}: shard {index}/{count} done "
                        f"({time.perf_counter() - started:.1f} s)"
                    )
        finally:
            _stop(children.values())
        shard_reports = [
            Path(tmp) / f"shard-{i}-of-{count}" / suite.name / "report.json"
            for i in range(1, count + 1)
        ]
        report = merge_reports([read_report(path) for path in shard_reports])
    paths = write_reports(report, out_dir / suite.name, baseline=_baseline(suite))
    return Outcome(suite=suite, report=report, paths=paths)


def _last_line(log: Path) -> str:
    """A failed child's last words: the CLI's one-line `error: ...`."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return next((line.strip() for line in reversed(lines) if line.strip()), "")


def _stop(children: Iterable[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.kill()
            child.wait()


def gate(
    settings: Settings,
    suite: Suite,
    options: RunOptions,
    targets: list[Target],
    out_dir: Path,
    *,
    report_path: Path | None = None,
    evidence: bool = True,
) -> Outcome:
    """Run (or read) one arm, apply the gate, write reports; evidence on a pass.

    Raises `GateFailed` (exit 1) after writing the reports when the gate fails.
    """
    if report_path is not None:
        report = read_report(report_path)
        if report.suite != suite.name:
            raise EvalConfigError(
                f"{display_path(report_path)}: report is of suite '{report.suite}', "
                f"not '{suite.name}'"
            )
    else:
        if options.shard is not None:
            raise EvalConfigError(
                "the gate needs the whole dataset: run shards with `squad eval run --shard`, "
                "`squad eval merge` them, then `squad eval gate --report merged/report.json`"
            )
        if len(targets) != 1:
            raise EvalConfigError(
                "the gate checks one arm: give at most one --label/--version/--model"
            )
        report = asyncio.run(run_suite(suite, settings=settings, options=options, targets=targets))
    if report.shard is not None:
        raise EvalConfigError("the gate needs a whole run, not one shard: merge the shards first")
    baseline = _baseline(suite)
    notes: list[str] = []
    if baseline is None:
        notes.append(
            f"no baseline at {display_path(suite.baseline_path)}: only thresholds were checked; "
            f"create one with `squad eval baseline {suite.name}`"
        )
    elif baseline.dataset_hash != report.dataset_hash:
        raise EvalConfigError(
            f"{display_path(suite.baseline_path)}: baseline was made on another version of "
            f"{report.dataset}; regenerate it with `squad eval baseline {suite.name}`"
        )
    result = evaluate_gate(
        report,
        suite.spec.gate,
        baseline,
        baseline_name=display_path(suite.baseline_path) if baseline else None,
    )
    report = report.model_copy(update={"gate": result})
    paths = write_reports(report, out_dir / suite.name, baseline=baseline)
    outcome = Outcome(suite=suite, report=report, paths=paths, notes=notes)
    if result.verdict == "fail":
        raise GateFailed(
            f"eval gate failed for suite '{suite.name}' ({result.arm}): "
            + "; ".join(result.reasons)
            + f". Report: {display_path(paths['html'])}"
        )
    arm = report.arm(result.arm)
    if evidence and arm.prompt.alias != _prompt_alias(
        settings, arm.prompt.name, arm.prompt.version
    ):
        notes.append("no evidence written: the run overrode the prompt's model alias")
    elif evidence:
        outcome.evidence = write_gate_evidence(
            report, result, suite=suite.name, evidence_dir=suite.evidence_dir
        )
    return outcome


def _prompt_alias(settings: Settings, name: str, version: int) -> str:
    from ..prompts import PromptRegistry  # noqa: PLC0415

    registry = PromptRegistry.load(settings.prompts_dir, label_overrides={})
    return registry.get(name, version=version).model


def baseline(
    settings: Settings,
    suite: Suite,
    options: RunOptions,
    targets: list[Target],
    *,
    from_report: Path | None = None,
) -> Outcome:
    """Write `evals/baselines/<suite>.json` from a fresh run (or an existing whole report)."""
    if from_report is not None:
        report = read_report(from_report)
    else:
        if len(targets) != 1:
            raise EvalConfigError(
                "a baseline is one arm: give at most one --label/--version/--model"
            )
        report = asyncio.run(run_suite(suite, settings=settings, options=options, targets=targets))
    if report.shard is not None or len(report.arms) != 1:
        raise EvalConfigError("a baseline must be one whole arm: merge shards, run one target")
    report = report.model_copy(update={"gate": None})
    path = write_json(report, suite.baseline_path)
    return Outcome(suite=suite, report=report, paths={"baseline": path})


def refresh(
    settings: Settings, suite: Suite, out_dir: Path, *, concurrency: int | None = None
) -> list[Outcome]:
    """Re-record every arm (target + matrix), rewrite the baseline, gate every arm.

    The one command to run after a prompt, dataset or model change: stale recordings are
    dropped (restored if recording fails), the baseline comes from the suite's target, and
    each arm that passes the gate gets its evidence.
    """
    targets = _unique([suite.spec.target, *suite.spec.matrix])
    recordings = suite.recordings_dir
    previous = recordings.with_name(recordings.name + ".previous")
    if previous.exists():
        shutil.rmtree(previous)
    if recordings.exists():
        recordings.rename(previous)
    try:
        recorded = asyncio.run(
            run_suite(
                suite,
                settings=settings,
                options=RunOptions(mode="record", concurrency=concurrency, progress=None),
                targets=targets,
            )
        )
    except BaseException:
        if recordings.exists():
            shutil.rmtree(recordings)
        if previous.exists():
            previous.rename(recordings)
        raise
    if previous.exists():
        shutil.rmtree(previous)
    outcomes = []
    first = recorded.model_copy(update={"arms": recorded.arms[:1]})
    write_json(first, suite.baseline_path)
    replay = RunOptions(mode="replay", concurrency=concurrency)
    for target in targets:
        outcomes.append(gate(settings, suite, replay, [target], out_dir / target.arm_name))
    return outcomes


def _unique(targets: list[Target]) -> list[Target]:
    seen: set[tuple[str, str | None, int | None, str | None]] = set()
    unique = []
    for target in targets:
        key = (
            target.prompt,
            target.label or (None if target.version else "production"),
            target.version,
            target.model,
        )
        if key not in seen:
            seen.add(key)
            unique.append(target)
    return unique


def compare(
    base_path: Path, new_path: Path, *, margin: float = 0.02, confidence: float = 0.95
) -> str:
    """Markdown comparison of two reports (first arm of each): deltas with bootstrap intervals."""
    base, new = read_report(base_path), read_report(new_path)
    if base.suite != new.suite:
        raise EvalConfigError(
            f"cannot compare suite '{base.suite}' ({display_path(base_path)}) with "
            f"'{new.suite}' ({display_path(new_path)})"
        )
    scorers = [s for s in new.arm().summary.scorers if s in base.arm().summary.scorers]
    checks, unstable = compare_arms(
        base.arm(), new.arm(), scorers, margin=margin, confidence=confidence, resamples=2000, seed=0
    )
    lines = [
        f"## Compare `{base.suite}`: {base.arm().name} -> {new.arm().name}",
        "",
        f"Base {display_path(base_path)}, new {display_path(new_path)}; "
        f"{checks[0].n if checks else 0} shared cases, margin {margin}, "
        f"confidence {confidence}.",
        "",
        "| Scorer | Base | New | Delta | CI | Holm p | |",
        "| --- | ---: | ---: | ---: | --- | ---: | --- |",
    ]
    for c in checks:
        lines.append(
            f"| {c.scorer} | {c.baseline_mean:.3f} | {c.new_mean:.3f} | {c.delta:+.3f} | "
            f"{c.ci_low:+.3f}..{c.ci_high:+.3f} | {c.p_adjusted:.4f} | "
            f"{'REGRESSED' if c.regressed else ''} |"
        )
    if unstable:
        lines += ["", f"Unstable cases left out: {', '.join(unstable)}"]
    if base.dataset_hash != new.dataset_hash:
        lines += ["", "Note: the two runs used different dataset versions (shared ids compared)."]
    return "\n".join(lines) + "\n"


def merge(paths: list[Path], out_dir: Path) -> Outcome:
    """Merge shard reports into one report (and its views) in `out_dir`."""
    reports = [read_report(p) for p in paths]
    merged = merge_reports(reports)
    written = write_reports(merged, out_dir)
    return Outcome(report=merged, paths=written)


def summary_text(outcome: Outcome) -> str:
    return markdown_summary(outcome.report)
