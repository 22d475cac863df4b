"""Which prompt versions a change must pass the eval gate with: `squad eval plan`.

A pull request can add a prompt version, or move a gated label to one, without touching the
version a suite targets; gating only each suite's target would never show such a version's
scores. The plan, computed from the diff against the pull request's base, lists for every
suite: its target (what CI gated before), every version the change adds or edits under
`prompts/`, and every version a gated label points to after the change. Each entry names the
version its label serves at the base (`against`), so the summary can show the two side by
side. Without a base (a push to main, a laptop) the plan is each suite's target, as before.

The plan is a JSON file (`EvalPlan`) that the CI jobs pass along: the run shards run its
arms, the gate gates each entry. Git is read with `git diff --name-only` and `git show`.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import invalid_field
from ..files import REPORT_CAP, atomic_write, display_path, read_bytes
from ..prompts import LabelsFile, PromptRegistry
from ..prompts.labels import parse_labels
from .errors import EvalConfigError
from .suite import Suite, Target

PLAN_SCHEMA_VERSION = 1
_VERSION_FILE = re.compile(r"^(?P<prompt>[^/]+)/v(?P<version>[1-9][0-9]*)\.yaml$")


class Against(BaseModel):
    """What a gated version is shown beside: the version `label` serves at the base."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str
    version: int | None = Field(description="None: the label did not exist at the base.")


class PlannedGate(BaseModel):
    """One version to gate: which suite evaluates it, why it is gated, what it replaces."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    suite: str
    target: Target = Field(description="The arm that runs it (the suite's own target, or v<N>).")
    version: int | None = Field(description="The prompt version it resolves to (at the head).")
    reasons: tuple[str, ...] = Field(description="e.g. 'suite target', 'added', 'label staging'.")
    against: Against | None = None

    @property
    def arm(self) -> str:
        return self.target.arm_name


class EvalPlan(BaseModel):
    """Every version a change gates, per suite; `base` None means each suite's target only."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = PLAN_SCHEMA_VERSION
    base: str | None = None
    gates: tuple[PlannedGate, ...] = ()
    notes: tuple[str, ...] = ()

    def for_suite(self, suite: str) -> list[PlannedGate]:
        return [g for g in self.gates if g.suite == suite]

    def targets(self, suite: str) -> list[Target]:
        """The arms a run of `suite` needs: each gated version once, in plan order."""
        seen: set[str] = set()
        targets = []
        for planned in self.for_suite(suite):
            if planned.arm not in seen:
                seen.add(planned.arm)
                targets.append(planned.target)
        return targets

    def describe(self) -> str:
        """A few lines for people: what is gated and why."""
        lines = [f"eval plan (base {self.base or 'none: each suite target'}):"]
        for g in self.gates:
            against = ""
            if g.against is not None:
                served = f"v{g.against.version}" if g.against.version else "nothing"
                against = f"; beside {g.against.label} at the base ({served})"
            lines.append(f"  {g.suite}: {g.arm} ({', '.join(g.reasons)}{against})")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)


def write_plan(plan: EvalPlan, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, plan.model_dump_json(indent=2) + "\n")
    return path


def read_plan(path: Path) -> EvalPlan:
    """Read a plan file; a missing or malformed one is an `EvalConfigError` naming it."""
    where = display_path(path)
    try:
        return EvalPlan.model_validate_json(read_bytes(path, cap=REPORT_CAP))
    except FileNotFoundError:
        raise EvalConfigError(
            f"{where}: no eval plan here; write one with `squad eval plan`"
        ) from None
    except ValidationError as error:
        field = invalid_field(error, whole="(file)")
        raise EvalConfigError(
            f"{where}: not an eval plan ({field}); rewrite it with `squad eval plan`"
        ) from None


def _git(root: Path, *args: str) -> str:
    try:
        result = subprocess.run(  # noqa: S603 - fixed git arguments, no shell
            ["git", *args],  # noqa: S607 - git from PATH, as a developer runs it
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as error:
        raise EvalConfigError(f"cannot run git for the eval plan: {error}") from None
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["no output"])[0]
        raise EvalConfigError(f"git {' '.join(args[:2])}: {first}")
    return result.stdout


class _Repo:
    """The git side of a plan: where prompts/ is, what changed, the labels at the base."""

    def __init__(self, prompts_dir: Path, base: str) -> None:
        self.base = base
        try:
            self.root = Path(_git(prompts_dir.parent, "rev-parse", "--show-toplevel").strip())
        except EvalConfigError as error:
            raise EvalConfigError(
                f"--base {base}: {display_path(prompts_dir)} is not in a git repository "
                f"({error}); plan without --base to gate each suite's target"
            ) from None
        self.prompts = prompts_dir.resolve().relative_to(self.root.resolve()).as_posix()
        try:
            _git(self.root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
        except EvalConfigError:
            raise EvalConfigError(
                f"--base {base}: not a commit in this clone; fetch it (actions/checkout "
                "with fetch-depth: 0) or name another ref"
            ) from None

    def changed_versions(self) -> dict[tuple[str, int], str]:
        """(prompt, version) -> 'added' or 'changed', for version files that exist now."""
        diff = _git(
            self.root, "diff", "--name-status", "--no-renames", self.base, "--", self.prompts
        )
        found: dict[tuple[str, int], str] = {}
        for line in diff.splitlines():
            status, _, name = line.partition("\t")
            if status.startswith(("A", "M")):
                self._note(found, name, "added" if status.startswith("A") else "changed")
        untracked = _git(self.root, "ls-files", "--others", "--exclude-standard", self.prompts)
        for name in untracked.splitlines():
            self._note(found, name, "added")
        return found

    def _note(self, found: dict[tuple[str, int], str], name: str, how: str) -> None:
        match = _VERSION_FILE.match(name.removeprefix(self.prompts + "/"))
        if match:
            found[(match["prompt"], int(match["version"]))] = how

    def labels_at_base(self) -> LabelsFile:
        spec = f"{self.base}:{self.prompts}/labels.yaml"
        try:
            text = _git(self.root, "show", spec)
        except EvalConfigError:
            return LabelsFile()  # no labels file at the base: every label is new
        return parse_labels(text, Path(f"{self.prompts}/labels.yaml@{self.base}"))


def plan_gates(prompts_dir: Path, suites: list[Suite], *, base: str | None = None) -> EvalPlan:
    """The plan for a change against `base` (a git ref), or each suite's target without one.

    Raises `EvalConfigError` (exit 2) when `base` is not a commit of the clone.
    """
    registry = PromptRegistry.load(prompts_dir, label_overrides={})
    labels = registry.labels
    gates: list[PlannedGate] = []
    notes: list[str] = []
    repo = _Repo(prompts_dir, base) if base is not None else None
    at_base = repo.labels_at_base() if repo else None
    for suite in suites:
        target = suite.spec.target
        label = target.label or "production"
        number = target.version or labels.version_for(target.prompt_name(), label)
        against = None
        if at_base is not None:
            against = Against(label=label, version=at_base.version_for(target.prompt_name(), label))
            if target.version is not None:
                against = None
        gates.append(
            PlannedGate(
                suite=suite.name,
                target=target,
                version=number,
                reasons=("suite target",),
                against=against,
            )
        )
    if repo is None or at_base is None:
        return EvalPlan(base=None, gates=tuple(gates))
    # `squad prompts check --base` fails this; the note carries it into the PR comment.
    notes += [
        f"gated_labels no longer lists '{label}' ({repo.prompts}/labels.yaml; it did at the "
        f"base): versions at '{label}' would need no eval evidence after this change"
        for label in at_base.gated_labels
        if label not in labels.gated_labels
    ]
    wanted: dict[tuple[str, int], list[str]] = {}
    for (prompt, version), how in sorted(repo.changed_versions().items()):
        wanted.setdefault((prompt, version), []).append(how)
    for prompt in registry.names():
        for label, version in sorted(labels.labels_of(prompt).items()):
            if label in labels.gated_labels:
                wanted.setdefault((prompt, version), []).append(f"label {label}")
    by_prompt: dict[str, list[Suite]] = {}
    for suite in suites:
        by_prompt.setdefault(suite.spec.target.prompt_name(), []).append(suite)
    for (prompt, version), reasons in sorted(wanted.items()):
        evaluating = by_prompt.get(prompt, [])
        if not evaluating:
            notes.append(f"{prompt} v{version} ({', '.join(reasons)}): no suite targets {prompt}")
            continue
        served = labels.labels_of(prompt)
        mine = [name for name, number in served.items() if number == version]
        own = next((n for n in labels.gated_labels if n in mine), mine[0] if mine else None)
        for suite in evaluating:
            # An unlabelled version is shown beside what the suite's target label serves.
            label = own or suite.spec.target.label or "production"
            entry = PlannedGate(
                suite=suite.name,
                target=_version_of(suite.spec.target, prompt, version),
                version=version,
                reasons=tuple(reasons),
                against=Against(label=label, version=at_base.version_for(prompt, label)),
            )
            gates = _merge(gates, entry)
    return EvalPlan(base=base, gates=tuple(gates), notes=tuple(notes))


def _version_of(suite_target: Target, prompt: str, version: int) -> Target:
    """`version` of `prompt` run the way the suite runs it: through its feature, if it has one."""
    if suite_target.feature is not None:
        return Target(feature=suite_target.feature, version=version)
    return Target(prompt=prompt, version=version)


def _merge(gates: list[PlannedGate], entry: PlannedGate) -> list[PlannedGate]:
    """Add `entry`, or its reasons to the suite's target when that already runs the version."""
    for position, planned in enumerate(gates):
        same = (
            planned.suite == entry.suite
            and planned.version == entry.version
            and planned.target.subject == entry.target.subject
            and planned.target.model is None
        )
        if same:
            reasons = tuple(dict.fromkeys([*planned.reasons, *entry.reasons]))
            gates[position] = planned.model_copy(update={"reasons": reasons})
            return gates
    return [*gates, entry]


__all__ = [
    "Against",
    "EvalPlan",
    "PlannedGate",
    "plan_gates",
    "read_plan",
    "write_plan",
]
