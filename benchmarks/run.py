"""`make bench`: what adopting the template costs, measured side by side on this machine.

Renders this template (working tree, `--vcs-ref=HEAD`, squadkit installed editable from
this working tree) and measures, each several times, every figure next to a reference or a
target measured in the same run:

| figure | reference |
| --- | --- |
| `copier copy` of this template, with and without its tasks | a one-file template (target 2x) |
| files in a fresh render; Python lines in its src/ + tests/ | targets 120 files, 1,500 lines |
| fresh render to green `make check` (warm uv cache) | target 20 s |
| `squad --help`, `squad prompts check` | `python -c pass` (target 0.3 s) |
| 1,000 eval cases, 100 ms provider, concurrency 50 | promptfoo; bare `litellm.acompletion` (0.8x) |
| gateway and tracing overhead per call | bare litellm (`library/gateway_overhead.py`...) |
| service requests/s, peak RSS | a bare FastAPI endpoint (target 0.3x; `library/service_load.py`) |
| peak RSS of `squad eval run` on 100,000 replayed cases | target 300 MB |
| redacting 10 MB of text, adversarial near-misses included | target 1 s (`library/redaction.py`) |
| gate pass/fail/inconclusive rates, simulated (`library/gate_calibration.py`) | issue 23 |
| `squad harvest` over 1,000,000 logged inferences, peak RSS | target 30 s (`library/harvest.py`) |
| experiments' false winners, 30 daily looks (`library/experiment_simulation.py`) | daily z-test |
| experiment requests until a 5-point lift on 60% is decided | a one-look z-test's size |
| service p50 with the inference log on SQLite / PostgreSQL | the log off (target +0.3 ms) |
| `POST /v1/feedback` p99 at 200 requests/s, open loop, SQLite / PostgreSQL | target 20 ms |
| an experiment's assignment per request (`library/experiment_assignment.py`) | target 0.1 ms |
| a guardrail check, 100,000 logged answers (`library/guardrail_check.py`) | target 1 s |

The library's benchmark scripts (`benchmarks/library/*.py`) do the measuring: each runs with
the rendered repo's interpreter (which has squadkit) and the rendered repo as its working
directory, so it reads that squad's config/, prompts/ and evals/. This script renders, runs
them, adds what only the template repo can measure, prints one Markdown table (median,
min-max, ratio to the reference) and writes `benchmarks/results/<date>.json`.
Stdlib only; runs with any Python 3.11+. promptfoo is installed on first use into
`~/.cache/copier-ai-squad-bench/promptfoo` when `npm` is present (about 80 s, 1.4 GB) and
skipped with a message otherwise. Load goes to 127.0.0.1 only and every run is bounded.

    python benchmarks/run.py [--quick] [--only copier,check,startup,eval,memory,gateway,...]
    python benchmarks/run.py --quick --only hotpath   # issue 22's two ratios alone

(sections: copier, check, startup, eval, memory, gateway, service, redaction, calibration,
harvest, experiments, inferencelog, assignment, guardrails; hotpath only when named)
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE.parent
LIBRARY = HERE / "library"  # squadkit's benchmark scripts, run against a rendered repo
TOOLS = TEMPLATE / ".venv" / "bin"  # pinned copier and uv (`make bootstrap`)
PROMPTFOO_DIR = Path.home() / ".cache" / "copier-ai-squad-bench" / "promptfoo"
PROMPTFOO_VERSION = "0.121.20"  # the newest release that runs on Node 20
SECTIONS = (
    "copier",
    "check",
    "startup",
    "eval",
    "memory",
    "gateway",
    "service",
    "redaction",
    "calibration",
    "harvest",
    "experiments",
    "inferencelog",
    "assignment",
    "guardrails",
)
# Selectable with --only, not part of a default run (its figures are in eval and service).
EXTRA_SECTIONS = ("hotpath",)
CASES, CONCURRENCY, LATENCY_S = 1000, 50, 0.1
# `squad eval run` defaults to `--workers auto` (one process per core for a large live run:
# 2 here); the one-process figure is measured with `--workers 1`.
WORKERS = 1
QUIET_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "PROMPTFOO_DISABLE_TELEMETRY": "1",
    "PROMPTFOO_DISABLE_UPDATE": "1",
    "NPM_CONFIG_UPDATE_NOTIFIER": "false",
    "OPENAI_API_KEY": "dummy",
    "FAKE_PROVIDER_KEY": "sk-fake",
    "CI": "1",  # no progress bars, no prompts
}


# -- measuring ---------------------------------------------------------------------------
# As on a laptop or a CI runner: bytecode is cached. Some sandboxes set
# PYTHONDONTWRITEBYTECODE, which makes every process recompile what it imports (litellm's
# import: 12 s instead of 5 s here) and would measure the sandbox, not the template.
LAPTOP_ENVIRON = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@dataclass
class Run:
    wall_s: float
    returncode: int
    max_rss_mb: float
    output: str


def run(
    command: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 900,
) -> Run:
    """Run a command; wall time, exit code, the process's peak RSS and its combined output."""
    with tempfile.TemporaryFile() as sink:
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env={**LAPTOP_ENVIRON, **(env or {})},
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        sink.seek(0)
        output = sink.read().decode(errors="replace")
    return Run(wall, process.returncode, usage.ru_maxrss / 1024, output)


@dataclass
class Figure:
    """One line of the table: samples of a figure, and of its reference from the same run."""

    name: str
    unit: str
    samples: list[float] = field(default_factory=list)
    reference: str = ""
    reference_samples: list[float] = field(default_factory=list)
    target: str = ""
    meets_target: bool | None = None
    higher_is_better: bool = False
    note: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def reference_median(self) -> float | None:
        return statistics.median(self.reference_samples) if self.reference_samples else None

    @property
    def ratio(self) -> float | None:
        if self.median is None or not self.reference_median:
            return None
        return self.median / self.reference_median

    def summary(self) -> dict[str, object]:
        return {
            **asdict(self),
            "median": self.median,
            "reference_median": self.reference_median,
            "ratio": self.ratio,
        }


FIGURES: list[Figure] = []
NOTES: list[str] = []
RAW: dict[str, Any] = {}  # raw outputs for the results JSON


def figure(name: str, unit: str, **kwargs: object) -> Figure:
    found = Figure(name, unit, **kwargs)  # type: ignore[arg-type]
    FIGURES.append(found)
    return found


def note(text: str) -> None:
    NOTES.append(text)
    print(f"  note: {text}", flush=True)


def step(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


# -- rendering ---------------------------------------------------------------------------
# A render of this template installs squadkit from this working tree (editable), not from
# git at a commit: a hidden answer, never recorded in .copier-answers.yml.
SQUAD_DATA = {"project_name": "Bench Squad", "squadkit_path": str(TEMPLATE)}


def copier_copy(
    template: Path,
    destination: Path,
    *,
    data: dict[str, str] | None = None,
    skip_tasks: bool = False,
) -> Run:
    command = [str(TOOLS / "copier"), "copy", "--trust", "--defaults", "--vcs-ref=HEAD", "--quiet"]
    if skip_tasks:
        command.append("--skip-tasks")
    for key, value in (data or {}).items():
        command += ["--data", f"{key}={value}"]
    return run([*command, str(template), str(destination)], env=tool_env())


def tool_env() -> dict[str, str]:
    """The pinned uv first on PATH (the post-copy task and the rendered Makefile call `uv`)."""
    return {**QUIET_ENV, "PATH": f"{TOOLS}:{os.environ.get('PATH', '')}"}


def one_file_template(folder: Path) -> Path:
    """The smallest Copier template: one question, one file, a git repo like ours."""
    folder.mkdir(parents=True)
    (folder / "copier.yml").write_text("project_name:\n  type: str\n  default: Floor\n")
    (folder / "README.md.jinja").write_text("# {{ project_name }}\n")
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "floor"]):
        subprocess.run([*git, *command], cwd=folder, check=True, capture_output=True)
    return folder


def render_synced(work: Path) -> Path:
    """A rendered repo with its .venv installed (for the sections that need one)."""
    repo = work / "repo"
    if not (repo / ".venv" / "bin" / "squad").exists():
        result = copier_copy(TEMPLATE, repo, data=SQUAD_DATA)
        if result.returncode:
            raise SystemExit(f"copier copy failed:\n{result.output[-3000:]}")
        sync = run([str(TOOLS / "uv"), "sync", "-q"], cwd=repo, env=tool_env())
        if sync.returncode:
            raise SystemExit(f"uv sync failed in the rendered repo:\n{sync.output[-3000:]}")
    return repo


# -- sections ----------------------------------------------------------------------------
MAX_FILES, MAX_PYTHON_LINES, MAX_COPY_RATIO = 120, 1500, 2.0
MAX_FEATURE_LINES = 120


def feature_walk_lines(doc: Path) -> int:
    """Hand-written lines of the second feature `docs/adding-a-feature.md` walks: counted by
    the same parser as the test that follows the page (tests/template/test_adding_a_feature)."""
    if str(TEMPLATE) not in sys.path:
        sys.path.insert(0, str(TEMPLATE))
    walk = importlib.import_module("tests.template.test_adding_a_feature")
    return int(walk.hand_written_lines(walk.steps(doc.read_text(encoding="utf-8"), "package")))


SQUAD_PYTHON = ("src", "tests")  # the Python a squad owns or must read to change its feature


def inventory(repo: Path) -> dict[str, dict[str, int]]:
    """Files and Python lines of a render by top-level folder (`.git/` left out)."""
    files: dict[str, int] = {}
    lines: dict[str, int] = {}
    for path in repo.rglob("*"):
        parts = path.relative_to(repo).parts
        if not path.is_file() or parts[0] == ".git":
            continue
        top = parts[0] if len(parts) > 1 else "."
        files[top] = files.get(top, 0) + 1
        if path.suffix == ".py":
            lines[top] = lines.get(top, 0) + len(path.read_text(encoding="utf-8").splitlines())
    return {"files": files, "python_lines": lines}


def largest(counts: dict[str, int], top: int = 4) -> str:
    ranked = sorted(counts.items(), key=lambda item: -item[1])[:top]
    return ", ".join(f"{folder}/ {count}" for folder, count in ranked)


def bench_copier(work: Path, repeats: int) -> None:
    """`copier copy` (defaults, with and without its post-copy task) vs a one-file template,
    and what the fresh render holds: its files and the Python a squad owns or reads."""
    floor = one_file_template(work / "floor-template")
    ours = figure(
        "copier copy, defaults (incl. git init + uv lock task)", "s", reference="one-file template"
    )
    skipped = figure(
        "copier copy --skip-tasks, defaults",
        "s",
        reference="one-file template",
        target=f"<= {MAX_COPY_RATIO:g}x",
    )
    files = figure("files in a fresh default render", "files", target=f"<= {MAX_FILES}")
    lines = figure(
        "Python lines a squad owns or reads (src/ + tests/)",
        "lines",
        target=f"<= {MAX_PYTHON_LINES:,}",
    )
    feature = figure(
        "hand-written lines for a second feature (docs/adding-a-feature.md)",
        "lines",
        target=f"<= {MAX_FEATURE_LINES}, no library file edited",
    )
    for index in range(repeats):
        result = copier_copy(TEMPLATE, work / f"copy-{index}", data=SQUAD_DATA)
        if result.returncode:
            note(f"copier copy failed (exit {result.returncode}): {result.output[-500:]}")
            return
        ours.samples.append(result.wall_s)
        ours.reference_samples.append(copier_copy(floor, work / f"floor-{index}").wall_s)
        bare = copier_copy(TEMPLATE, work / f"skip-{index}", data=SQUAD_DATA, skip_tasks=True)
        if bare.returncode:
            note(f"copier copy --skip-tasks failed (exit {bare.returncode}): {bare.output[-500:]}")
            return
        skipped.samples.append(bare.wall_s)
        floor_copy = copier_copy(floor, work / f"floor-skip-{index}", skip_tasks=True)
        skipped.reference_samples.append(floor_copy.wall_s)
        if index == 0:  # the same render every time: count it once, as a squad commits it
            found = inventory(work / "copy-0")
            RAW["render_inventory"] = found
            files.samples.append(sum(found["files"].values()))
            owned = {k: v for k, v in found["python_lines"].items() if k in SQUAD_PYTHON}
            others = {k: v for k, v in found["python_lines"].items() if k not in SQUAD_PYTHON}
            lines.samples.append(sum(owned.values()))
            files.note = f"largest: {largest(found['files'])}; .git/ not counted"
            feature.samples.append(
                feature_walk_lines(work / "copy-0" / "docs" / "adding-a-feature.md")
            )
            feature.note = "the page's test writes these files, then make check passes"
            lines.note = f"also template-owned Python: {largest(others) or 'none'}"
        for folder in (f"copy-{index}", f"skip-{index}"):
            shutil.rmtree(work / folder, ignore_errors=True)
    skipped.meets_target = skipped.ratio is not None and skipped.ratio <= MAX_COPY_RATIO
    files.meets_target = files.median is not None and files.median <= MAX_FILES
    lines.meets_target = lines.median is not None and lines.median <= MAX_PYTHON_LINES
    feature.meets_target = feature.median is not None and feature.median <= MAX_FEATURE_LINES


# Issue 22 ("a lean hot path"): the library's own work per request or call, as a share of
# the bare reference's throughput measured beside it in the same run.
MIN_SERVICE_RATIO = 0.3  # service requests/s on the offline chain / a bare FastAPI endpoint's
MIN_EVAL_RATIO = 0.8  # in-process eval runner calls/s / bare litellm.acompletion calls/s

FAILED_TARGET = re.compile(r"make(?:\[\d+\])?: \*\*\* \[Makefile:\d+: ([\w-]+)\]")
DURATION = re.compile(r"^\s*([\d.]+)s (call|setup|teardown)\s+(\S+)", re.M)
PYTEST_SUMMARY = re.compile(r"=+ (.*?) in ([\d.]+)s")


MAX_CHECK_S = 20.0


def bench_check(work: Path, repeats: int) -> None:
    """Fresh render to `make check` with a warm uv cache; `-k` so every step runs and is timed."""
    total = figure(
        "fresh render -> make check (warm uv cache)", "s", target=f"<= {MAX_CHECK_S:g} s"
    )
    tests = figure("  of which pytest (make test)", "s")
    failures: set[str] = set()
    slowest: list[str] = []
    for index in range(repeats):
        last = index == repeats - 1 and not (work / "repo").exists()
        repo = work / "repo" if last else work / f"check-{index}"  # the last one is kept
        copied = copier_copy(TEMPLATE, repo, data=SQUAD_DATA)
        env = {**tool_env(), "PYTEST_ADDOPTS": "--durations=8 -p no:cacheprovider"}
        checked = run(["make", "-k", "check"], cwd=repo, env=env, timeout=1200)
        total.samples.append(copied.wall_s + checked.wall_s)
        failures |= set(FAILED_TARGET.findall(checked.output))
        summary = PYTEST_SUMMARY.findall(checked.output)
        if summary:
            tests.samples.append(float(summary[-1][1]))
        slowest = [f"{float(s):.1f}s {test}" for s, _, test in DURATION.findall(checked.output)]
        if not last:
            shutil.rmtree(repo, ignore_errors=True)
    total.meets_target = not failures and total.median is not None and total.median <= MAX_CHECK_S
    if failures:
        total.note = f"NOT GREEN: failed targets {sorted(failures)}"
        note(f"make check was not green in the rendered repo: failed {sorted(failures)}")
    RAW["slowest_tests"] = slowest
    if slowest:
        note("slowest tests (last run): " + "; ".join(slowest[:5]))


def bench_startup(repo: Path, repeats: int) -> None:
    """CLI start-up, the venv's `squad` binary directly, vs the same interpreter doing nothing."""
    bin_dir = repo / ".venv" / "bin"
    env = {**QUIET_ENV, "SQUAD_ROOT": str(repo)}
    floor = [run([str(bin_dir / "python"), "-c", "pass"], env=env).wall_s for _ in range(repeats)]
    commands = {"squad --help": ["--help"], "squad prompts check": ["prompts", "check"]}
    for name, args in commands.items():
        first = run([str(bin_dir / "squad"), *args], cwd=repo, env=env)  # warms pyc / caches
        if first.returncode:
            note(f"`{name}` exited {first.returncode}: {first.output.strip()[-300:]}")
        samples = [
            run([str(bin_dir / "squad"), *args], cwd=repo, env=env).wall_s for _ in range(repeats)
        ]
        found = figure(
            f"{name} start-up",
            "s",
            samples=samples,
            reference="python -c pass",
            reference_samples=floor,
            target="<= 0.3 s",
        )
        found.meets_target = found.median is not None and found.median <= 0.3
    # The samples above reuse the verification cached by the first run; without it, the
    # check replays each gated label's evidence from the recordings (issue 17).
    cache = repo / "evals" / ".cache" / "verified.json"
    cold = []
    for _ in range(max(1, repeats // 5)):
        cache.unlink(missing_ok=True)
        cold.append(run([str(bin_dir / "squad"), "prompts", "check"], cwd=repo, env=env).wall_s)
    figure(
        "squad prompts check, evidence replayed (no cached verification)",
        "s",
        samples=cold,
        reference="python -c pass",
        reference_samples=floor,
    )


@contextmanager
def fake_provider(repo: Path) -> Iterator[str]:
    """squadkit's fake OpenAI-compatible server, in its own process, 100 ms a call."""
    process = subprocess.Popen(
        [
            str(repo / ".venv" / "bin" / "python"),
            str(HERE / "fake_provider.py"),
            "--latency",
            str(LATENCY_S),
            "--max-seconds",
            "3600",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdin is not None
    try:
        yield process.stdout.readline().strip()
    finally:
        process.stdin.close()
        process.wait(timeout=30)


def ensure_promptfoo() -> Path | None:
    binary = PROMPTFOO_DIR / "node_modules" / ".bin" / "promptfoo"
    if binary.exists():
        return binary
    if shutil.which("npm") is None:
        note("promptfoo skipped: npm is not installed (install Node.js 20+ to compare)")
        return None
    step(f"installing promptfoo {PROMPTFOO_VERSION} into {PROMPTFOO_DIR} (~80 s, ~1.4 GB)")
    PROMPTFOO_DIR.mkdir(parents=True, exist_ok=True)
    (PROMPTFOO_DIR / "package.json").write_text('{"name": "bench-promptfoo", "private": true}')
    result = run(
        ["npm", "install", "--no-audit", "--no-fund", f"promptfoo@{PROMPTFOO_VERSION}"],
        cwd=PROMPTFOO_DIR,
        env=QUIET_ENV,
        timeout=900,
    )
    if result.returncode or not binary.exists():
        note(f"promptfoo skipped: npm install failed: {result.output[-500:]}")
        return None
    return binary


@dataclass
class EvalFigures:
    """The eval section's rows, created in the order the table prints them."""

    cli: Figure
    one_process: Figure
    rss: Figure
    inproc: Figure
    throughput: Figure
    imported: Figure
    warmed: Figure
    cpu: Figure

    @classmethod
    def create(cls, ideal: float) -> EvalFigures:
        return cls(
            cli=figure(
                "squad eval run, 1,000 cases, end to end",
                "s",
                reference="promptfoo eval",
                target="< promptfoo",
                note=f"--workers auto: one process per core, forked after the litellm import; "
                f"the ideal (latency only) is {ideal:.1f} s",
            ),
            one_process=figure(
                f"squad eval run --workers {WORKERS}, 1,000 cases, end to end",
                "s",
                reference="promptfoo eval",
                target="< promptfoo",
                note="one process",
            ),
            rss=figure("peak RSS, squad eval run", "MB", reference="bare litellm script"),
            inproc=figure(
                "eval runner (in-process, import excluded)",
                "s",
                target=f"< {2 * ideal:.1f} s (2x the ideal {ideal:.1f} s)",
                note="library/eval_concurrency.py",
            ),
            throughput=figure(
                "eval runner calls/s (in-process, a process's first run timed whole)",
                "calls/s",
                higher_is_better=True,
                reference="bare litellm.acompletion calls/s, first call timed",
                target=f">= {MIN_EVAL_RATIO:g}x the reference",
                note="both against the harness's fake provider, in its own process; both "
                "after an untimed `import litellm`, litellm's first call in both clocks",
            ),
            imported=figure(
                "litellm import (first thing a live eval pays)",
                "s",
                note="from eval_concurrency.py",
            ),
            warmed=figure(
                "eval runner calls/s (in-process, first call untimed as the reference's)",
                "calls/s",
                higher_is_better=True,
                reference="bare litellm.acompletion calls/s, first call untimed",
                target=f">= {MIN_EVAL_RATIO:g}x the reference",
                note="eval_concurrency.py --warm-up: litellm's lazy imports and client set-up "
                "out of both clocks; the run's own set-up (suite, prompts, gateway) still in",
            ),
            cpu=figure(
                "eval runner CPU per case (in-process, first call untimed)",
                "ms",
                reference="bare litellm.acompletion CPU per call",
                note="steadier than calls/s on a shared host: what each process itself spent",
            ),
        )


def squad_eval_run(repo: Path, workspace: Path, out: Path, *options: str) -> Run:
    """`squad eval run bench --mode live` in the eval workspace, the repo's own `squad`."""
    command = [str(repo / ".venv" / "bin" / "squad"), "eval", "run", "bench", "--mode", "live"]
    env = {**QUIET_ENV, "SQUAD_ROOT": str(workspace)}
    return run([*command, *options, "--out", str(out)], cwd=workspace, env=env)


def litellm_floor(python: str, base_url: str, found: EvalFigures, *, cold: bool) -> None:
    """Bare `litellm.acompletion`: the same calls at the same concurrency, no squadkit.

    `cold`: every call timed from the first, the reference of the runner's first run timed
    whole (`throughput`); otherwise the first call is untimed, the reference of the runner
    with its first case untimed (`warmed`, `cpu`)."""
    floor = run(
        [
            python,
            str(HERE / "litellm_floor.py"),
            "--base-url",
            base_url,
            "--calls",
            str(CASES),
            "--concurrency",
            str(CONCURRENCY),
            *(["--cold"] if cold else []),
        ]
    )
    bare = json.loads(floor.output.strip().splitlines()[-1])
    if cold:
        found.throughput.reference_samples.append(bare["calls_per_s"])
        found.rss.reference_samples.append(floor.max_rss_mb)
    else:
        found.warmed.reference_samples.append(bare["calls_per_s"])
        found.cpu.reference_samples.append(bare["cpu_s"] * 1000 / CASES)
    RAW.setdefault("litellm_floor", []).append(bare)


def promptfoo_eval(binary: Path, workspace: Path, work: Path, index: int) -> float | None:
    """promptfoo on the same cases; its wall seconds, or None (with a note) when it failed."""
    out = work / f"promptfoo-{index}.json"
    pf = run(
        [
            str(binary),
            "eval",
            "--no-cache",
            "-j",
            str(CONCURRENCY),
            "--no-table",
            "--no-progress-bar",
            "-o",
            str(out),
            "-c",
            "promptfooconfig.yaml",
        ],
        cwd=workspace / "promptfoo",
        env={**QUIET_ENV, "PROMPTFOO_CONFIG_DIR": str(work / "promptfoo-home")},
    )
    if pf.returncode not in (0, 100) or not out.exists():  # 100: some tests failed
        note(f"promptfoo exited {pf.returncode}: {pf.output[-500:]}")
        return None
    stats = json.loads(out.read_text())["results"]["stats"]
    RAW.setdefault("promptfoo_stats", []).append(stats)
    RAW.setdefault("promptfoo_rss_mb", []).append(pf.max_rss_mb)
    return pf.wall_s


def eval_in_process(
    python: str, repo: Path, base_url: str, found: EvalFigures, *, warm_up: bool = False
) -> None:
    """The library's eval_concurrency.py on the rendered repo: the runner without the CLI,
    calling the provider bare litellm calls (`litellm_floor`), so the two compare.

    `warm_up`: one case first, untimed, as `litellm_floor` leaves its first call out (the
    `warmed` row); otherwise the process's first run is timed whole (`inproc`, `throughput`).
    """
    inner = run(
        [
            python,
            str(LIBRARY / "eval_concurrency.py"),
            "--cases",
            str(CASES),
            "--concurrency",
            str(CONCURRENCY),
            "--base-url",
            base_url,
            *(["--warm-up"] if warm_up else []),
        ],
        cwd=repo,
    )
    wall = re.search(r"wall time:\s+([\d.]+) s", inner.output)
    seconds = re.search(r"litellm import:\s+([\d.]+) s", inner.output)
    if seconds and not warm_up:
        found.imported.samples.append(float(seconds.group(1)))
    cpu = re.search(r"cpu time:\s+([\d.]+) s", inner.output)
    if wall and warm_up:
        found.warmed.samples.append(CASES / float(wall.group(1)))
        if cpu:
            found.cpu.samples.append(float(cpu.group(1)) * 1000 / CASES)
    elif wall:
        found.inproc.samples.append(float(wall.group(1)))
        found.throughput.samples.append(CASES / float(wall.group(1)))
    else:
        note(f"eval_concurrency.py gave no wall time: {inner.output[-500:]}")


def eval_breakdown(python: str, repo: Path, base_url: str) -> None:
    """Where a case's time goes, layer by layer (`eval_breakdown.py`): one row per layer."""
    layers = run(
        [
            python,
            str(HERE / "eval_breakdown.py"),
            "--repo",
            str(repo),
            "--base-url",
            base_url,
            "--calls",
            str(CASES),
            "--concurrency",
            str(CONCURRENCY),
        ],
        cwd=repo,
        timeout=1200,
    )
    lines = layers.output.strip().splitlines()
    if layers.returncode or not lines:
        note(f"eval_breakdown.py failed: {layers.output[-500:]}")
        return
    RAW["eval_breakdown"] = json.loads(lines[-1])
    print("\n".join(lines[:-1]), flush=True)
    for layer, r in RAW["eval_breakdown"].items():
        figure(
            f"CPU per call: {layer}",
            "ms",
            samples=[r["cpu_ms_per_call"]],
            note=f"eval_breakdown.py, {CASES:,} calls at c{CONCURRENCY}",
        )


def bench_eval(repo: Path, work: Path, repeats: int, *, promptfoo: bool, breakdown: bool) -> None:
    """1,000 cases at concurrency 50 against one fake provider answering after 100 ms."""
    python = str(repo / ".venv" / "bin" / "python")
    ideal = CASES / CONCURRENCY * LATENCY_S
    found = EvalFigures.create(ideal)
    binary = ensure_promptfoo() if promptfoo else None
    if not promptfoo:
        note("promptfoo skipped (--no-promptfoo)")
    workspace = work / "eval"
    # The first import after `uv sync` compiles litellm's bytecode (seconds); every later run
    # of an installed repo finds it cached. Pay it here, untimed, not in the first sample.
    run([python, "-c", "import litellm"], cwd=repo, env=QUIET_ENV)
    with fake_provider(repo) as base_url:
        made = run(
            [
                python,
                str(HERE / "eval_workspace.py"),
                "--repo",
                str(repo),
                "--out",
                str(workspace),
                "--base-url",
                base_url,
                "--cases",
                str(CASES),
                "--concurrency",
                str(CONCURRENCY),
            ],
            cwd=repo,
        )
        if made.returncode:
            note(f"eval workspace failed: {made.output[-800:]}")
            return
        for index in range(repeats):
            squad = squad_eval_run(repo, workspace, work / f"reports-{index}")
            if squad.returncode not in (0, 1):  # 1: a gate/threshold, not a crash
                note(f"squad eval run exited {squad.returncode}: {squad.output[-500:]}")
            found.cli.samples.append(squad.wall_s)
            found.rss.samples.append(squad.max_rss_mb)
            out = work / f"reports-workers-{index}"
            single = squad_eval_run(repo, workspace, out, "--workers", str(WORKERS))
            if single.returncode not in (0, 1):
                note(f"squad eval run --workers exited {single.returncode}: {single.output[-500:]}")
            else:
                found.one_process.samples.append(single.wall_s)
            litellm_floor(python, base_url, found, cold=True)
            promptfoo_s = promptfoo_eval(binary, workspace, work, index) if binary else None
            if promptfoo_s is not None:
                found.cli.reference_samples.append(promptfoo_s)
                found.one_process.reference_samples.append(promptfoo_s)
            eval_in_process(python, repo, base_url, found)
        if breakdown:
            eval_breakdown(python, repo, base_url)
    for whole_run in (found.cli, found.one_process):
        if whole_run.reference_samples and whole_run.median is not None:
            whole_run.meets_target = whole_run.median < (whole_run.reference_median or 0)
    found.inproc.meets_target = found.inproc.median is not None and found.inproc.median < 2 * ideal
    if found.throughput.ratio is not None:
        found.throughput.meets_target = found.throughput.ratio >= MIN_EVAL_RATIO


# `squad eval run` in replay on a large synthetic suite (`library/eval_replay.py --workspace`):
# the dataset, the recordings and the cases are streamed, so its peak memory stays flat.
REPLAY_CASES, QUICK_REPLAY_CASES, MAX_REPLAY_RSS_MB = 100_000, 20_000, 300


def bench_memory(repo: Path, work: Path, cases: int) -> None:
    """Peak RSS of one `squad eval run <suite> --mode replay` process on `cases` cases."""
    peak = figure(
        "peak RSS, squad eval run, 100,000 replayed cases",
        "MB",
        target=f"< {MAX_REPLAY_RSS_MB} MB",
        note="library/eval_replay.py --workspace; the run's process alone"
        + ("" if cases == REPLAY_CASES else f"; --quick: {cases:,} cases, not 100,000"),
    )
    workspace = work / f"replay-{cases}"
    python = str(repo / ".venv" / "bin" / "python")
    script = str(LIBRARY / "eval_replay.py")
    made = run(
        [python, script, "--cases", str(cases), "--workspace", str(workspace)],
        cwd=repo,
        env=QUIET_ENV,
        timeout=1800,
    )
    if made.returncode:
        note(f"eval_replay.py --workspace failed: {made.output[-500:]}")
        return
    command = [str(repo / ".venv" / "bin" / "squad"), "eval", "run", "bench", "--mode", "replay"]
    replay = run(
        [*command, "--out", str(work / f"replay-reports-{cases}")],
        cwd=workspace,
        env={**QUIET_ENV, "SQUAD_ROOT": str(workspace)},
        timeout=1800,
    )
    if replay.returncode not in (0, 1):  # 1: a threshold, not a crash
        note(f"squad eval run --mode replay exited {replay.returncode}: {replay.output[-500:]}")
        return
    peak.samples.append(replay.max_rss_mb)
    RAW.setdefault("replay_memory", []).append(
        {"cases": cases, "max_rss_mb": replay.max_rss_mb, "wall_s": replay.wall_s}
    )
    peak.meets_target = peak.median is not None and peak.median < MAX_REPLAY_RSS_MB
    shutil.rmtree(workspace, ignore_errors=True)


# `--quick` sizes of the library's gateway and tracing scripts (tests/template/test_benchmarks.py
# shrinks them further: it checks that every figure is read, not how fast).
QUICK_GATEWAY_ARGS = ["--sequential", "100", "--calls", "500"]
QUICK_TRACING_ARGS = ["--calls", "5000", "--gateway-calls", "100"]

GATEWAY_ROW = re.compile(
    r"^(bare|bare-tuned|router|gateway)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$", re.M
)


def bench_gateway(repo: Path, quick: bool, repeats: int) -> None:
    """library/gateway_overhead.py (run `repeats` times), then tracing_overhead.py, in the repo."""
    gateway_overhead(repo, quick, repeats)
    tracing_overhead(repo, quick)


def gateway_overhead(repo: Path, quick: bool, repeats: int) -> None:
    python = str(repo / ".venv" / "bin" / "python")
    script = LIBRARY / "gateway_overhead.py"
    args = QUICK_GATEWAY_ARGS if quick else []
    runs: dict[str, list[list[float]]] = {}
    outputs = []
    for _ in range(repeats):
        result = run([python, str(script), *args], cwd=repo, env=QUIET_ENV)
        outputs.append(result.output)
        for name, *values in GATEWAY_ROW.findall(result.output):
            runs.setdefault(name, []).append([float(v) for v in values])
    RAW["gateway_overhead"] = "\n".join(outputs)
    if all(len(runs.get(name, [])) == repeats for name in ("bare-tuned", "router", "gateway")):
        p50, calls_per_s, cpu = 0, 2, 3  # columns: p50 ms, p99 ms, calls/s at c50, CPU ms

        def column(variant: str, index: int) -> list[float]:
            return [row[index] for row in runs.get(variant, [])]

        added = figure(
            "gateway call p50, 0 ms provider",
            "ms",
            samples=column("gateway", p50),
            reference="bare-tuned litellm",
            reference_samples=column("bare-tuned", p50),
            target="< 1 ms added",
        )
        pairs = zip(column("gateway", p50), column("bare-tuned", p50), strict=True)
        added.meets_target = statistics.median(g - b for g, b in pairs) < 1
        figure(
            "litellm Router alone, call p50",
            "ms",
            samples=column("router", p50),
            reference="bare-tuned litellm",
            reference_samples=column("bare-tuned", p50),
        )
        figure(
            "gateway CPU per call",
            "ms",
            samples=column("gateway", cpu),
            reference="litellm Router alone",
            reference_samples=column("router", cpu),
        )
        figure(
            "gateway calls/s at c50, 0 ms provider",
            "calls/s",
            higher_is_better=True,
            samples=column("gateway", calls_per_s),
            reference="bare litellm (untuned)",
            reference_samples=column("bare", calls_per_s),
        )
    else:
        note(f"gateway_overhead.py output not understood: {outputs[-1][-400:]}")


def tracing_overhead(repo: Path, quick: bool) -> None:
    python = str(repo / ".venv" / "bin" / "python")
    script = LIBRARY / "tracing_overhead.py"
    args = QUICK_TRACING_ARGS if quick else []
    result = run([python, str(script), *args], cwd=repo, env=QUIET_ENV)
    RAW["tracing_overhead"] = result.output
    hooks = dict(re.findall(r"^\s+(\S.*?)\s+([\d.]+) us/call", result.output, re.M))
    calls = dict(re.findall(r"^\s+(\S.*?)\s+p50\s+([\d.]+) ms/call", result.output, re.M))
    mode = "no exporter" if "no exporter" in hooks else "logs"
    if "noop" in hooks and mode in hooks:
        found = figure(
            f"tracing hooks per call ({mode})",
            "us",
            samples=[float(hooks[mode])],
            reference="no-op observer",
            reference_samples=[float(hooks["noop"])],
            target="overhead < 300 us",
        )
        found.meets_target = float(hooks[mode]) - float(hooks["noop"]) < 300
    if "noop" in calls and mode in calls:
        figure(
            f"gateway call p50 with tracing ({mode})",
            "ms",
            samples=[float(calls[mode])],
            reference="no-op observer",
            reference_samples=[float(calls["noop"])],
        )
    if "noop" not in hooks:
        note(
            f"tracing_overhead.py output not understood (exit {result.returncode}): "
            f"{result.output[-400:]}"
        )


REDACTION_ROW = re.compile(r"^(\S.*?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", re.M)


HARVEST_ROW = re.compile(
    r"^harvest (\w+) (\d+) rows: fill ([\d.]+) s, harvest ([\d.]+) s, peak RSS ([\d.]+) MB",
    re.M,
)


def bench_harvest(rows: int) -> None:
    """library/harvest.py: `squad harvest` over `rows` logged inferences (issue 25: 1,000,000
    in at most 30 s), on SQLite and, when reachable, PostgreSQL; the template's own triage
    suite and dataset (`template/`, copied to a scratch squad by the script)."""
    result = run(
        [str(TOOLS / "python"), str(LIBRARY / "harvest.py"), "--rows", str(rows)],
        cwd=TEMPLATE / "template",
        timeout=1800,
    )
    RAW["harvest"] = result.output
    found = HARVEST_ROW.findall(result.output)
    if not found:
        note(f"harvest.py output not understood: {result.output[-400:]}")
        return
    for backend, count, _fill, seconds, peak in found:
        name = f"squad harvest, 1,000,000 inferences ({backend})"
        timed = figure(name, "s", samples=[float(seconds)], target="<= 30 s")
        timed.meets_target = float(seconds) <= 30 * int(count) / 1_000_000  # pro rata
        memory = figure(f"squad harvest peak RSS ({backend})", "MB", samples=[float(peak)])
        if int(count) != 1_000_000:
            timed.note = memory.note = f"{int(count):,} inferences, not 1,000,000"


def bench_redaction(repeats: int, megabytes: float = 10.0) -> None:
    """library/redaction.py with the template's own config/observability.yaml, each input
    `repeats` times: 10 MB of prose and of issue 24's adversarial near-misses (the 1 s
    target is for 10 MB; a smaller run, as in the harness's test, is judged pro rata)."""
    script = LIBRARY / "redaction.py"
    samples: dict[str, list[float]] = {}
    outputs = []
    for _ in range(repeats):
        result = run(
            [str(TOOLS / "python"), str(script), "--mb", str(megabytes)],
            cwd=TEMPLATE / "template",
        )
        outputs.append(result.output)
        for name, _mb, seconds, _rate in REDACTION_ROW.findall(result.output):
            samples.setdefault(name, []).append(float(seconds))
    RAW["redaction"] = "\n".join(outputs)
    if not samples:
        note(f"redaction.py output not understood: {outputs[-1][-400:]}")
        return
    for name, seconds in samples.items():
        found = figure(f"redact 10 MB: {name}", "s", samples=seconds, target="< 1 s")
        found.meets_target = statistics.median(seconds) < megabytes / 10
        if megabytes != 10:
            found.note = f"{megabytes:g} MB, not 10"


ASSIGNMENT_ROW = re.compile(
    r"^(plain registry\.get|no experiment running|experiment assigned)\s+\d+\s+([\d.]+)$", re.M
)


def bench_assignment(repeats: int, calls: int = 200_000) -> None:
    """library/experiment_assignment.py on the template's prompts, `repeats` times: what
    choosing an experiment's arm adds to a request's path (issue 26: target 0.1 ms), beside
    the plain `registry.get` every request does anyway."""
    script = LIBRARY / "experiment_assignment.py"
    samples: dict[str, list[float]] = {}
    outputs = []
    for _ in range(repeats):
        result = run(
            [str(TOOLS / "python"), str(script), "--calls", str(calls)],
            cwd=TEMPLATE / "template",
        )
        outputs.append(result.output)
        for name, micros in ASSIGNMENT_ROW.findall(result.output):
            samples.setdefault(name, []).append(float(micros))
    RAW["assignment"] = "\n".join(outputs)
    if len(samples) != 3:
        note(f"experiment_assignment.py output not understood: {outputs[-1][-400:]}")
        return
    plain = samples["plain registry.get"]
    for variant in ("experiment assigned", "no experiment running"):
        added = [a - b for a, b in zip(samples[variant], plain, strict=True)]
        found = figure(
            f"{variant}: added per request",
            "us",
            samples=added,
            reference="the feature's registry.get",
            reference_samples=plain,
            target="<= 100 us",
        )
        found.meets_target = statistics.median(added) <= 100


GUARDRAIL_ROW = re.compile(r"^\s*(\d+)\s+([\d.]+)$", re.M)


def bench_guardrails(repeats: int, rows: int = 100_000) -> None:
    """library/guardrail_check.py on the template's prompts, `repeats` times: what one of the
    service's periodic guardrail checks costs with `rows` answers of a running experiment in
    a SQLite log (it runs off the event loop every SQUAD_EXPERIMENTS_GUARDRAIL_CHECK_S)."""
    script = LIBRARY / "guardrail_check.py"
    samples: list[float] = []
    outputs = []
    for _ in range(repeats):
        result = run(
            [str(TOOLS / "python"), str(script), "--rows", str(rows), "--rounds", "3"],
            cwd=TEMPLATE / "template",
        )
        outputs.append(result.output)
        samples += [float(ms) for size, ms in GUARDRAIL_ROW.findall(result.output)]
    RAW["guardrails"] = "\n".join(outputs)
    if not samples:
        note(f"guardrail_check.py output not understood: {outputs[-1][-400:]}")
        return
    found = figure(
        f"guardrail check, {rows:,} logged answers",
        "ms",
        samples=samples,
        target="<= 1,000 ms (3% of the 30 s between checks)",
    )
    found.meets_target = statistics.median(samples) <= 1000


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def watch_peak_rss(pid: int, peaks: dict[str, float], stop: threading.Event) -> None:
    """Peak RSS (VmHWM) of the uvicorn servers service_load.py starts, by app."""
    while not stop.wait(0.2):
        for child in descendants(pid):
            try:
                cmdline = (Path("/proc") / str(child) / "cmdline").read_text()
                status = (Path("/proc") / str(child) / "status").read_text()
            except OSError:
                continue
            kind = "service" if "create_app" in cmdline else "bare" if "bare_app" in cmdline else ""
            hwm = re.search(r"VmHWM:\s+(\d+) kB", status)
            if kind and hwm:
                peaks[kind] = max(peaks.get(kind, 0.0), int(hwm.group(1)) / 1024)


def rendered_with_service(repo: Path) -> bool:
    answers = (repo / ".copier-answers.yml").read_text(encoding="utf-8")
    return re.search(r"^include_service:\s*true\s*$", answers, re.M) is not None


def bench_service(repo: Path, repeats: int, duration: float) -> None:
    """library/service_load.py against the rendered repo's service, `repeats` times."""
    script = LIBRARY / "service_load.py"
    if not rendered_with_service(repo):
        note("service not measured: the repo was rendered without the service")
        return
    rps = figure(
        "service POST /v1/triage requests/s",
        "req/s",
        higher_is_better=True,
        reference="bare FastAPI endpoint",
        target=f">= {MIN_SERVICE_RATIO:g}x the reference",
        note="the offline chain: answered in-process, no network",
    )
    p99 = figure("service p99 latency", "ms", reference="bare FastAPI endpoint")
    rss = figure("peak RSS, service under load", "MB", reference="bare FastAPI endpoint")
    for _ in range(repeats):
        peaks: dict[str, float] = {}
        stop = threading.Event()
        process = subprocess.Popen(
            [str(repo / ".venv" / "bin" / "python"), str(script), "--duration", str(duration)],
            cwd=repo,
            env={**LAPTOP_ENVIRON, **QUIET_ENV},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        watcher = threading.Thread(target=watch_peak_rss, args=(process.pid, peaks, stop))
        watcher.start()
        output, _ = process.communicate(timeout=600)
        stop.set()
        watcher.join()
        rows = {
            m[0]: [float(x) for x in m[1:]]
            for m in re.findall(
                r"^(bare|service)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$",
                output,
                re.M,
            )
        }
        if set(rows) != {"bare", "service"}:
            note(
                f"service_load.py output not understood (exit {process.returncode}): "
                f"{output[-400:]}"
            )
            return
        RAW.setdefault("service_load", []).append(output)
        rps.samples.append(rows["service"][2])
        rps.reference_samples.append(rows["bare"][2])
        p99.samples.append(rows["service"][4])
        p99.reference_samples.append(rows["bare"][4])
        if "service" in peaks and "bare" in peaks:
            rss.samples.append(peaks["service"])
            rss.reference_samples.append(peaks["bare"])
    if rps.ratio is not None:
        rps.meets_target = rps.ratio >= MIN_SERVICE_RATIO


HOTPATH_REPEATS = 5
"""Runs of each side of issue 22's two ratios in a full `--only hotpath`: both sit near
their targets, and one process's calls/s on this 2-core host moved by a quarter within a
run (three runs' medians gave the runner 0.75-0.82x on one afternoon)."""


def bench_hotpath(repo: Path, repeats: int, duration: float) -> None:
    """Issue 22's two hot-path ratios alone (`--only hotpath`): the in-process runner beside
    bare `litellm.acompletion` (alternated, `repeats` times each, one fake provider), then
    the service beside a bare FastAPI endpoint (`bench_service`)."""
    python = str(repo / ".venv" / "bin" / "python")
    found = EvalFigures.create(CASES / CONCURRENCY * LATENCY_S)
    run([python, "-c", "import litellm"], cwd=repo, env=QUIET_ENV)  # compile bytecode, untimed
    with fake_provider(repo) as base_url:
        for _ in range(repeats):  # each runner between the two references
            litellm_floor(python, base_url, found, cold=False)
            eval_in_process(python, repo, base_url, found)
            eval_in_process(python, repo, base_url, found, warm_up=True)
            litellm_floor(python, base_url, found, cold=True)
    for calls in (found.throughput, found.warmed):
        if calls.ratio is not None:
            calls.meets_target = calls.ratio >= MIN_EVAL_RATIO
    found.inproc.meets_target = found.inproc.median is not None and (
        found.inproc.median < 2 * CASES / CONCURRENCY * LATENCY_S
    )
    bench_service(repo, repeats, duration)


# Issue 25's "Measured": what the inference log adds to an answer, and feedback under load.
MAX_LOG_OVERHEAD_MS, MAX_FEEDBACK_P99_MS, FEEDBACK_RATE = 0.3, 20.0, 200
QUICK_INFERENCELOG_ARGS = ["--duration", "2", "--rounds", "1", "--calls", "500"]
QUICK_FEEDBACK_ARGS = ["--duration", "3"]
STORES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
OVERHEAD_ROW = re.compile(
    r"^(off|off-again|sqlite|postgresql)\s+([\d.]+)\s+(-?[\d.]+|-)\s+([\d.]+|-)\s*$", re.M
)
FEEDBACK_ROW = re.compile(
    r"^(sqlite|postgresql)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$", re.M
)


def bench_inferencelog(repo: Path, quick: bool) -> None:
    """library/inference_log_overhead.py (the service's p50 with the log off, on SQLite and
    on PostgreSQL, interleaved in one run) and library/feedback_latency.py (`POST
    /v1/feedback` open loop at 200 requests/s on each store), against the rendered repo.
    A store the script could not reach (no PostgreSQL) is a note, not a figure."""
    if not rendered_with_service(repo):
        note("inference log not measured: the repo was rendered without the service")
        return
    python = str(repo / ".venv" / "bin" / "python")
    overhead = run(
        [
            python,
            str(LIBRARY / "inference_log_overhead.py"),
            *(QUICK_INFERENCELOG_ARGS if quick else []),
        ],
        cwd=repo,
        env=QUIET_ENV,
    )
    RAW["inference_log_overhead"] = overhead.output
    rows = {m[0]: m[1:] for m in OVERHEAD_ROW.findall(overhead.output)}
    if "off" not in rows:
        note(
            f"inference_log_overhead.py output not understood (exit {overhead.returncode}): "
            f"{overhead.output[-400:]}"
        )
    else:
        off = float(rows["off"][0])
        floor = ""
        if "off-again" in rows:  # the noise floor: two processes both without the log
            floor = f"; a 2nd log-off process: {rows['off-again'][1]} ms over off"
        for store, shown in STORES.items():
            if store not in rows:
                note(f"inference log on {shown} not measured: {overhead.output[:200]}")
                continue
            p50, _over, work = rows[store]
            found = figure(
                f"service p50, inference log on {shown}",
                "ms",
                samples=[float(p50)],
                reference="the log off",
                reference_samples=[off],
                target=f"<= +{MAX_LOG_OVERHEAD_MS:g} ms",
                note=f"request-path work {work} us per call (in process){floor}",
            )
            found.meets_target = float(p50) - off <= MAX_LOG_OVERHEAD_MS
    feedback = run(
        [
            python,
            str(LIBRARY / "feedback_latency.py"),
            "--rate",
            str(FEEDBACK_RATE),
            *(QUICK_FEEDBACK_ARGS if quick else []),
        ],
        cwd=repo,
        env=QUIET_ENV,
    )
    RAW["feedback_latency"] = feedback.output
    found_rows = {m[0]: [float(x) for x in m[1:]] for m in FEEDBACK_ROW.findall(feedback.output)}
    if "sqlite" not in found_rows:
        note(
            f"feedback_latency.py output not understood (exit {feedback.returncode}): "
            f"{feedback.output[-400:]}"
        )
        return
    for store, shown in STORES.items():
        if store not in found_rows:
            note(f"POST /v1/feedback on {shown} not measured: {feedback.output[:200]}")
            continue
        sent, errors, achieved, p50, p99 = found_rows[store]
        found = figure(
            f"POST /v1/feedback p99 at {FEEDBACK_RATE} req/s, {shown}",
            "ms",
            samples=[p99],
            target=f"<= {MAX_FEEDBACK_P99_MS:g} ms, no errors",
            note=f"p50 {p50:.2f} ms, achieved {achieved:.0f} req/s, {errors:.0f} of {sent:.0f} "
            "errors",
        )
        found.meets_target = p99 <= MAX_FEEDBACK_P99_MS and errors == 0


# -- report ------------------------------------------------------------------------------
QUICK_CALIBRATION_ARGS = ["--runs", "40"]


def bench_calibration(quick: bool) -> None:
    """The gate's calibration: how often it says pass, fail and inconclusive on simulated
    paired scores at several true changes, sizes and disagreement rates, through its own
    decision function (`library/gate_calibration.py`, with this checkout's squadkit). Its
    table is printed as it is, each missed target is a note, the cells go to the results."""
    script = LIBRARY / "gate_calibration.py"
    runs = QUICK_CALIBRATION_ARGS if quick else []
    found = run([str(TOOLS / "python"), str(script), "--json", *runs], timeout=1800)
    lines = found.output.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        note(f"calibration printed no result (exit {found.returncode}): {found.output[-300:]}")
        return
    RAW["calibration"] = json.loads(lines[-1])
    print("\n".join(lines[:-1]), flush=True)
    for cell in RAW["calibration"]["cells"]:
        if "MISSED" in cell["target"]:
            note(
                f"calibration: change {cell['change']:+.3f}, {cell['cases']} cases, "
                f"disagreement {cell['disagreement']:.0%}: {cell['target']}"
            )


QUICK_EXPERIMENT_ARGS = ["--quick"]


def bench_experiments(quick: bool) -> None:
    """Online experiments' decisions (issue 26), simulated through `compare_arms` and
    `guardrail_crossed` (`library/experiment_simulation.py`, with this checkout's squadkit):
    its table is printed as it is, and two rows become figures. False winners with no true
    difference under 30 daily looks, beside a naive z-test peeking daily (target: alpha);
    requests until a 5-point lift on 60% is decided, beside the one-look test's planned size."""
    script = LIBRARY / "experiment_simulation.py"
    extra = QUICK_EXPERIMENT_ARGS if quick else []
    found = run([str(TOOLS / "python"), str(script), "--json", *extra], timeout=900)
    lines = found.output.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        note(f"experiments printed no result (exit {found.returncode}): {found.output[-300:]}")
        return
    result = RAW["experiments"] = json.loads(lines[-1])
    print("\n".join(lines[:-1]), flush=True)
    rows = result["rows"]
    days, alpha = result["days"], result["alpha"]
    sequence = [row for row in rows if row["method"].startswith("confidence sequence")]
    daily = f"{days} daily looks"
    sequence = [row for row in sequence if daily in row["method"]]
    naive = [row for row in rows if row["method"] == f"z-test, {daily} (naive)"]
    null_sequence = next(row for row in sequence if row["scenario"].startswith("no difference"))
    null_naive = next(row for row in naive if row["scenario"] == null_sequence["scenario"])
    false_winners = figure(
        f"experiments: false winners, {days} daily looks ({null_sequence['scenario']})",
        "%",
        reference="z-test peeking daily",
        target=f"<= {alpha:.0%}",
        note=f"{result['experiments']} simulated experiments",
    )
    false_winners.samples.append(100 * null_sequence["declared"])
    false_winners.reference_samples.append(100 * null_naive["declared"])
    false_winners.meets_target = "met" in null_sequence["target"]
    lift = next(row for row in sequence if not row["scenario"].startswith("no difference"))
    decided = figure(
        f"experiments: median requests to decide {lift['scenario']}",
        "requests",
        reference="one-look z-test, 80% power",
        note=f"{lift['declared']:.0%} decided within {days} days",
    )
    decided.reference_samples.append(result["fixed_sample_requests"])
    if lift["median_requests"] is not None:
        decided.samples.append(lift["median_requests"])
    else:
        note(f"experiments: fewer than half decided {lift['scenario']} within {days} days")
    for row in rows:
        if "MISSED" in row["target"]:
            note(f"experiments: {row['scenario']}, {row['method']}: {row['target']}")


def machine() -> dict[str, Any]:
    def first(path: str, pattern: str) -> str:
        try:
            found = re.search(pattern, Path(path).read_text(), re.M)
        except OSError:
            return "unknown"
        return found.group(1).strip() if found else "unknown"

    return {
        "cores": os.cpu_count(),
        "memory_gb": round(int(first("/proc/meminfo", r"MemTotal:\s+(\d+)")) / 1024**2, 1)
        if first("/proc/meminfo", r"MemTotal:\s+(\d+)") != "unknown"
        else None,
        "cpu_model": first("/proc/cpuinfo", r"^model name\s*:\s*(.*)$"),
        "platform": platform.platform(),
        "load_average_at_start": os.getloadavg(),
        "cpu_loop_s_at_start": cpu_loop_s(),
    }


def cpu_loop_s() -> float:
    """Seconds for a fixed pure-Python loop, best of three: a one-core speed reference taken at
    start and end. This VM's speed drifts with its neighbours, and not every slowdown shows in
    a loop (a `make check` went from 60 to 83 s while the loop timed the same)."""
    best = float("inf")
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for number in range(5_000_000):
            total += number
        best = min(best, time.perf_counter() - started)
    return round(best, 3)


def versions(repo: Path | None) -> dict[str, str]:
    found = {"harness_python": platform.python_version()}
    for name, command in {
        "copier": [str(TOOLS / "copier"), "--version"],
        "uv": [str(TOOLS / "uv"), "--version"],
        "node": ["node", "--version"],
    }.items():
        try:
            found[name] = subprocess.run(
                command, capture_output=True, text=True, check=False
            ).stdout.strip()
        except OSError:
            found[name] = "absent"
    if repo is not None and (repo / ".venv" / "bin" / "python").exists():
        code = (
            "import importlib.metadata as m, platform, json; print(json.dumps({'python': "
            "platform.python_version(), **{p: m.version(p) for p in ('squadkit', 'litellm', "
            "'fastapi', 'uvicorn', 'pydantic', 'opentelemetry-sdk', 'jsonschema')}}))"
        )
        result = run([str(repo / ".venv" / "bin" / "python"), "-c", code])
        if result.returncode == 0:
            found.update(json.loads(result.output.strip().splitlines()[-1]))
    package = PROMPTFOO_DIR / "node_modules" / "promptfoo" / "package.json"
    if package.exists():
        found["promptfoo"] = json.loads(package.read_text())["version"]
    return found


def number(value: float | None) -> str:
    if value is None:
        return "-"
    return (
        f"{value:.3f}" if abs(value) < 1 else f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    )


def table() -> str:
    lines = [
        "| figure | median | min-max | n | reference (median) | ratio | target |",
        "| --- | ---: | ---: | ---: | --- | ---: | --- |",
    ]
    for f in FIGURES:
        if not f.samples:
            continue
        spread = f"{number(min(f.samples))}-{number(max(f.samples))}"
        ref = f"{f.reference} ({number(f.reference_median)})" if f.reference_samples else "-"
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "-"
        verdict = {True: "met", False: "MISSED", None: ""}[f.meets_target]
        target = f"{f.target} {verdict}".strip() if f.target else ""
        if f.note:
            target = f"{target} ({f.note})".strip()
        lines.append(
            f"| {f.name} | {number(f.median)} {f.unit} | {spread} | {len(f.samples)} "
            f"| {ref} | {ratio} | {target} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (about 6 minutes)")
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections: {','.join(SECTIONS)} (default: all), or hotpath "
        "(issue 22's two ratios alone)",
    )
    parser.add_argument("--no-promptfoo", action="store_true", help="skip the promptfoo comparison")
    parser.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/")
    args = parser.parse_args()
    sections = [s for s in args.only.split(",") if s]
    unknown = set(sections) - set(SECTIONS) - set(EXTRA_SECTIONS)
    if unknown:
        choices = ",".join((*SECTIONS, *EXTRA_SECTIONS))
        parser.error(f"unknown sections {sorted(unknown)}; choose from {choices}")
    if not (TOOLS / "copier").exists():
        raise SystemExit("error: .venv has no copier; run `make bootstrap` first")
    quick = args.quick
    info = machine()
    started = time.perf_counter()
    repo: Path | None = None
    print(
        f"{info['cores']} cores, {info['memory_gb']} GB, {info['cpu_model']}; load average "
        f"{' '.join(f'{x:.2f}' for x in info['load_average_at_start'])}; reference loop "
        f"{info['cpu_loop_s_at_start']} s; other load makes "
        "these figures noisy: compare ratios measured in the same run.",
        flush=True,
    )
    plan: list[tuple[str, Callable[[Path], None]]] = [
        ("copier", lambda w: bench_copier(w, 2 if quick else 5)),
        ("check", lambda w: bench_check(w, 1 if quick else 3)),
        ("startup", lambda w: bench_startup(render_synced(w), 5 if quick else 15)),
        (
            "eval",
            lambda w: bench_eval(
                render_synced(w),
                w,
                1 if quick else 3,
                promptfoo=not args.no_promptfoo,
                breakdown=not quick,
            ),
        ),
        (
            "memory",
            lambda w: bench_memory(
                render_synced(w), w, QUICK_REPLAY_CASES if quick else REPLAY_CASES
            ),
        ),
        ("gateway", lambda w: bench_gateway(render_synced(w), quick, 1 if quick else 3)),
        (
            "service",
            lambda w: bench_service(render_synced(w), 1 if quick else 3, 3.0 if quick else 5.0),
        ),
        ("redaction", lambda _w: bench_redaction(1 if quick else 3)),
        ("calibration", lambda _: bench_calibration(quick)),
        ("harvest", lambda _w: bench_harvest(100_000 if quick else 1_000_000)),
        ("experiments", lambda _: bench_experiments(quick)),
        ("inferencelog", lambda w: bench_inferencelog(render_synced(w), quick)),
        ("assignment", lambda _: bench_assignment(1 if quick else 3, 20_000 if quick else 200_000)),
        ("guardrails", lambda _: bench_guardrails(1 if quick else 3, 10_000 if quick else 100_000)),
        (
            "hotpath",
            lambda w: bench_hotpath(
                render_synced(w), 1 if quick else HOTPATH_REPEATS, 3.0 if quick else 5.0
            ),
        ),
    ]
    with tempfile.TemporaryDirectory(prefix="squad-bench-") as folder:
        work = Path(folder)
        for name, section in plan:
            if name not in sections:
                continue
            step(f"{name}")
            try:
                section(work)
            except Exception as error:
                note(f"section {name} failed: {type(error).__name__}: {error}")
        if (work / "repo").exists():
            repo = work / "repo"
        info["package_versions"] = versions(repo)
    info["load_average_at_end"] = os.getloadavg()
    info["cpu_loop_s_at_end"] = cpu_loop_s()
    info["minutes"] = round((time.perf_counter() - started) / 60, 1)
    print(
        f"\nreference loop {info['cpu_loop_s_at_start']} s at start, "
        f"{info['cpu_loop_s_at_end']} s at end (lower is a faster machine)"
    )
    print(table())
    for text in NOTES:
        print(f"- {text}")
    if not args.no_save:
        today = datetime.date.today().isoformat()
        path = HERE / "results" / f"{today}.json"
        runs_today = 1
        while path.exists():  # a second run the same day is kept beside the first
            runs_today += 1
            path = HERE / "results" / f"{today}-{runs_today}.json"
        path.parent.mkdir(exist_ok=True)
        result = {
            "date": today,
            "quick": quick,
            "sections": sections,
            "machine": info,
            "figures": [f.summary() for f in FIGURES],
            "notes": NOTES,
            "raw": RAW,
        }
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nwrote {path.relative_to(TEMPLATE)}")


if __name__ == "__main__":
    main()
