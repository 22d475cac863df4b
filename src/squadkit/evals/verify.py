"""Evidence is verified, not trusted: re-derive an evidence file from the committed recordings.

An evidence file says a gate passed; anyone can write one by hand. `verify_evidence` replays
the suite that wrote it, for that version, from `evals/recordings/<suite>.jsonl` (no model
call, no litellm), applies the same gate to the same baseline (and the same committed
approval, if an inconclusive gate was approved) and compares what the gate
would write with what the file claims: verdict, each scorer's mean, prompt hash, dataset
and its hash, and the deployments that answered. Each file that does not reproduce, or
cannot be replayed (a replay miss), is one `Problem`.

A replay costs a second or two; `squad prompts check` must stay instant. A successful
verification is remembered in `evals/.cache/verified.json` (git-ignored by its own
.gitignore) under a hash of every input it read: the evidence, suite, recordings, baseline,
dataset and prompt files, the models file, squadkit's version and these rules. A changed or
forged input changes the hash, so it misses the cache and is replayed. Only that lookup runs
at import; the runner is imported when something has to be replayed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..files import REPORT_CAP, display_path, read_bytes
from ..prompts.errors import Problem
from ..prompts.evidence import Evidence, evidence_path

if TYPE_CHECKING:
    from ..gateway.config import ModelsConfig
    from ..settings import Settings

RULES = "3"  # 3: the judges' deployments compared apart (evidence schema 2)
"""Bump when what a verification compares changes: every cached verification is redone."""

CACHE_FILE = Path(".cache") / "verified.json"
"""Under `evals/`: prompt@vN -> hash of the inputs of its last successful verification."""

TOLERANCE = 1e-6
"""How far a replayed mean may be from the claimed one (means are stored to 6 places)."""


def verify_evidence(
    settings: Settings, versions: Iterable[tuple[str, int]], *, models: ModelsConfig
) -> list[Problem]:
    """One problem per evidence file of `versions` (prompt, version) that does not reproduce
    from the committed recordings; verifications whose inputs are unchanged are not redone."""
    cache = VerifiedCache(settings.evals_dir)
    pending = []
    for name, number in sorted(set(versions)):
        key = verification_key(settings, name, number)
        if cache.get(f"{name}@v{number}") != key:
            pending.append((name, number, key))
    problems = []
    for name, number, key in pending:
        problem = _reproduce(settings, models, name, number)
        if problem is None:
            cache.put(f"{name}@v{number}", key)
        else:
            problems.append(problem)
    cache.save()
    return problems


def verification_key(settings: Settings, name: str, number: int) -> str:
    """A hash of everything a verification of `name`@v`number`'s evidence reads."""
    evals = settings.evals_dir
    path = evidence_path(evals / "evidence", name, number)
    claimed = _peek(path)
    suite = str(claimed.get("suite", ""))
    dataset = Path(str(claimed.get("dataset", "")))
    inputs = {
        "rules": RULES,
        "squadkit": _squadkit_version(),
        "evidence": _digest(path),
        # The suite's files, where `Suite` puts them (by name, as `resolve_suite` finds it).
        "suite": _digest(evals / f"{suite}.yaml"),
        "recordings": _digest(evals / "recordings" / f"{suite}.jsonl"),
        "baseline": _digest(evals / "baselines" / f"{suite}.json"),
        "dataset": _digest(dataset if dataset.is_absolute() else settings.root / dataset),
        "prompt": _digest(settings.prompts_dir / name / f"v{number}.yaml"),
        "models": _digest(settings.models_file),
        "approval": _digest(evals / "approvals" / name / f"v{number}.yaml"),
    }
    canonical = json.dumps(inputs, sort_keys=True).encode("utf-8")
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


def _peek(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(read_bytes(path, cap=REPORT_CAP))
    except (OSError, ValueError, RecursionError, ConfigError):
        return {}
    return data if isinstance(data, dict) else {}


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(read_bytes(path, cap=REPORT_CAP)).hexdigest()
    except (OSError, ConfigError):
        return "missing"


def _squadkit_version() -> str:
    try:
        return version("squadkit")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown"


class VerifiedCache:
    """`evals/.cache/verified.json`; any error reading or writing it means a replay."""

    def __init__(self, evals_dir: Path) -> None:
        self.path = evals_dir / CACHE_FILE
        self.entries: dict[str, str] = {}
        self.dirty = False
        try:
            data = json.loads(read_bytes(self.path, cap=REPORT_CAP))
            self.entries = {str(k): str(v) for k, v in dict(data["verified"]).items()}
        except (OSError, ValueError, KeyError, TypeError, RecursionError, ConfigError):
            pass

    def get(self, ident: str) -> str | None:
        return self.entries.get(ident)

    def put(self, ident: str, key: str) -> None:
        self.entries[ident] = key
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            ignore = self.path.parent / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Created by squadkit: a cache, never commit it.\n*\n")
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            payload = {"verified": self.entries}
            temporary.write_text(json.dumps(payload, indent=1, sort_keys=True), encoding="utf-8")
            temporary.replace(self.path)
        except OSError:
            return  # a read-only checkout: stay correct, replay next time


def _reproduce(settings: Settings, models: ModelsConfig, name: str, number: int) -> Problem | None:
    """Replay the suite that wrote `name`@v`number`'s evidence; None when it reproduces."""
    from ..errors import SquadError  # noqa: PLC0415 - below: only when replaying
    from ..prompts.evidence import read_evidence  # noqa: PLC0415
    from .agreement import advisory_judges  # noqa: PLC0415
    from .approval import apply_approval  # noqa: PLC0415
    from .gate import evaluate_gate, gate_evidence  # noqa: PLC0415
    from .report import read_report  # noqa: PLC0415
    from .runner import RunOptions, run_suite  # noqa: PLC0415
    from .spool import as_report  # noqa: PLC0415
    from .suite import Target, load_suite, resolve_suite  # noqa: PLC0415

    path = evidence_path(settings.evals_dir / "evidence", name, number)
    rerun = f"rerun the eval gate for {name}@v{number}"
    recordings = display_path(settings.evals_dir / "recordings")
    try:
        claimed = read_evidence(path)
        recordings = display_path(settings.evals_dir / "recordings" / f"{claimed.suite}.jsonl")
        suite = load_suite(
            resolve_suite(settings.evals_dir, claimed.suite), settings.evals_dir, models=models
        )
        report = asyncio.run(
            run_suite(
                suite,
                settings=settings,
                options=RunOptions(mode="replay", progress=False),
                targets=[Target(prompt=name, version=number)],
            )
        )
        baseline = read_report(suite.baseline_path) if suite.baseline_path.exists() else None
        if baseline is not None and baseline.dataset_hash != report.dataset_hash:
            return Problem(
                path,
                f"cannot be re-derived: {display_path(suite.baseline_path)} was made on another "
                f"version of {report.dataset}; run `make eval-refresh`, then {rerun}",
            )
        result = evaluate_gate(
            report,
            suite.spec.gate,
            baseline,
            baseline_name=display_path(suite.baseline_path) if baseline else None,
            advisory=advisory_judges(suite, as_report(report).arm_scores()),
        )
        result, _ = apply_approval(result, report, settings.evals_dir / "approvals")
    except SquadError as error:
        reason = " ".join(str(error).split())
        return Problem(path, f"cannot be re-derived from {recordings}: {reason}; {rerun}")
    replayed = gate_evidence(report, result, suite=suite.name)
    found = differences(claimed, replayed)
    if not found:
        return None
    aspects = list(found)
    what = aspects[0] if len(aspects) == 1 else ", ".join(aspects[:-1]) + " and " + aspects[-1]
    verb = "does" if len(aspects) == 1 and aspects[0] in {"verdict", "prompt hash"} else "do"
    return Problem(
        path,
        f"{what} {verb} not reproduce from {recordings} ({'; '.join(found.values())}); {rerun}",
    )


def differences(claimed: Evidence, replayed: Evidence) -> dict[str, str]:
    """What the replayed evidence disagrees on: aspect -> `X claimed, Y replayed`."""
    found: dict[str, str] = {}
    if claimed.verdict != replayed.verdict:
        found["verdict"] = f"{claimed.verdict} claimed, {replayed.verdict} replayed"
    scores = []
    for scorer in sorted(set(claimed.scores) | set(replayed.scores)):
        old, new = _mean(claimed.scores, scorer), _mean(replayed.scores, scorer)
        if old is None or new is None or abs(old - new) > TOLERANCE:
            scores.append(f"{scorer} {_shown(old)} claimed, {_shown(new)} replayed")
    if scores:
        found["scores"] = "; ".join(scores[:3]) + (
            f"; {len(scores) - 3} more" if len(scores) > 3 else ""
        )
    if claimed.prompt_hash != replayed.prompt_hash:
        found["prompt hash"] = (
            f"{claimed.prompt_hash[:19]}... claimed, {replayed.prompt_hash[:19]}... replayed"
        )
    if (claimed.dataset, claimed.dataset_hash) != (replayed.dataset, replayed.dataset_hash):
        found["dataset"] = (
            f"{claimed.dataset} {claimed.dataset_hash[:19]}... claimed, "
            f"{replayed.dataset} {replayed.dataset_hash[:19]}... replayed"
        )
    if claimed.tells_judges_apart:
        if claimed.models != replayed.models:
            found["answering deployments"] = (
                f"{_models(claimed.models)} claimed, {_models(replayed.models)} replayed"
            )
        if claimed.judges != replayed.judges:
            found["judging deployments"] = (
                f"{_models(claimed.judges)} claimed, {_models(replayed.judges)} replayed"
            )
    else:  # schema 1 listed the judges with the answering deployments, under `models`
        both = _merged(replayed.models, replayed.judges)
        if claimed.models != both:
            found["answering deployments"] = (
                f"{_models(claimed.models)} claimed, {_models(both)} replayed"
            )
    return found


def _merged(*listings: dict[str, list[str]]) -> dict[str, list[str]]:
    merged: dict[str, set[str]] = {}
    for listing in listings:
        for alias, deployments in listing.items():
            merged.setdefault(alias, set()).update(deployments)
    return {alias: sorted(found) for alias, found in sorted(merged.items())}


def _mean(scores: dict[str, Any], scorer: str) -> float | None:
    entry = scores.get(scorer)
    value = entry.get("mean") if isinstance(entry, dict) else None
    return float(value) if isinstance(value, int | float) else None


def _shown(value: float | None) -> str:
    return "none" if value is None else f"{value:.3f}"


def _models(models: dict[str, list[str]]) -> str:
    listed = ", ".join(f"{alias}: {'+'.join(chain)}" for alias, chain in sorted(models.items()))
    return listed or "none"
