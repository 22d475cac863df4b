"""Eval evidence: the record a passing eval gate leaves for one prompt version.

`evals/evidence/<prompt>/v<N>.json` says *this* prompt file, evaluated on *this* dataset
file, answered by *these* deployments, passed. It stays valid only while all three are
unchanged, which is what `evidence_problems` checks for `squad prompts check` and `promote`.
The eval gate writes it with `Evidence(...)` and `write_evidence`; the model lives here so
the writer and the reader cannot drift apart.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import invalid_field
from ..files import atomic_write, read_text
from .errors import Problem, PromptFileError
from .hashing import file_hash

if TYPE_CHECKING:
    from ..gateway.config import ModelsConfig
    from .version import PromptVersion

_HASH = r"^sha256:[0-9a-f]{64}$"


class Evidence(BaseModel):
    """The contents of one evidence file (schema_version 2; 1 is still read).

    Schema 2 keeps apart who answered the cases under test (`models`) and who judged the
    answers (`judges`, an `llm_judge` scorer's alias). Schema 1 listed both in `models`, so
    it cannot show that an alias answered the cases rather than judged them
    (`tells_judges_apart`): it still vouches for the prompt's own alias, which answers the
    cases in every gate of the prompt, but not for another alias an experiment arm names.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1, 2] = 2
    prompt: str
    version: int = Field(ge=1)
    prompt_hash: str = Field(pattern=_HASH, description="content_hash of the version file.")
    suite: str = Field(description="Eval suite that produced the verdict.")
    dataset: str = Field(description="Dataset file, relative to the repository root.")
    dataset_hash: str = Field(pattern=_HASH, description="file_hash of the dataset file.")
    models: dict[str, list[str]] = Field(
        description="Alias -> deployment model strings that answered the cases under test "
        "(schema 1: every alias that answered, the judges' included)."
    )
    judges: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Alias -> deployment model strings that judged the answers (schema 2).",
    )
    verdict: Literal["pass", "fail"]
    scores: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    approval: str | None = Field(
        default=None,
        description="The approval file an inconclusive gate was accepted with "
        "(evals/approvals/<prompt>/v<N>.yaml); absent for a plain pass.",
    )

    @property
    def tells_judges_apart(self) -> bool:
        """Whether `models` holds only the aliases that answered the cases under test."""
        return self.schema_version >= 2


def evidence_path(evidence_dir: Path, prompt: str, version: int) -> Path:
    """Where the evidence of `prompt` v`version` lives (`evals/evidence/<prompt>/v<N>.json`)."""
    return evidence_dir / prompt / f"v{version}.json"


def write_evidence(evidence_dir: Path, evidence: Evidence) -> Path:
    """Write `evidence` to its place under `evidence_dir`; returns the file written."""
    path = evidence_path(evidence_dir, evidence.prompt, evidence.version)
    path.parent.mkdir(parents=True, exist_ok=True)
    unset = {"approval"} if evidence.approval is None else set()  # files stay as they were
    atomic_write(path, evidence.model_dump_json(indent=2, exclude=unset) + "\n")
    return path


def read_evidence(path: Path) -> Evidence:
    """Read one evidence file; a malformed file is a `PromptFileError` naming it."""
    try:
        # evals/evidence/<prompt>/v<N>.json: refused when it leads out of the repository
        data = json.loads(read_text(path, root=path.parents[3] if len(path.parents) > 3 else None))
    except FileNotFoundError:
        raise PromptFileError(Problem(path, "evidence file not found", kind="invalid")) from None
    except RecursionError:
        raise PromptFileError(
            Problem(path, "not valid JSON: nested too deeply; rerun the eval gate", kind="invalid")
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise PromptFileError(
            Problem(path, f"not valid JSON: {error}; rerun the eval gate", kind="invalid")
        ) from None
    try:
        return Evidence.model_validate(data)
    except ValidationError as error:
        field = invalid_field(error, whole="(file)")
        raise PromptFileError(
            Problem(path, f"{field}; rerun the eval gate", kind="invalid")
        ) from None


def awaiting_first_recording(
    version: PromptVersion, *, evidence_dir: Path, models: ModelsConfig
) -> str | None:
    """Why `version` may not be gated yet, or None: its prompt was never recorded (no
    evidence for any of its versions) and its alias's first deployment is a provider.

    A repo rendered for a provider that needs a key starts so: the offline model's answers
    must not stand in for the provider's, so it ships nothing recorded for such a prompt.
    Until someone records it with the key, `squad prompts check` says so instead of
    failing. A prompt answered offline first is always gated, and so is every version of a
    prompt once one of its versions has evidence.
    """
    alias = models.aliases.get(version.model)
    if alias is None or alias.deployments[0].is_local:
        return None
    if any((evidence_dir / version.name).glob("v*.json")):
        return None
    primary = alias.deployments[0]
    key = f" (it needs {primary.api_key_env})" if primary.api_key_env else ""
    return (
        f"note: {version.name} is not recorded yet, so its labels are not gated: "
        f"{primary.model}{key} must answer its suite first; put the key in .env, run "
        "`make eval-refresh WRITE_FLOORS=1`, then commit evals/ (docs/evals.md)"
    )


def evidence_problems(
    version: PromptVersion,
    *,
    evidence_dir: Path,
    models: ModelsConfig,
    root: Path,
    arm_alias: bool = False,
) -> list[Problem]:
    """Why `version` has no valid passing evidence; an empty list means it has.

    Valid means: the file exists and parses, its verdict is `pass`, its prompt hash is the
    version file's current hash, the dataset file still has the recorded hash, the prompt's
    alias answered the cases under test (not only judged them), through the first
    deployment of its chain in `config/models.yaml` (the model under test: a fallback's
    answers, the offline last resort's above all, say nothing about it), and every other
    deployment that answered or judged is still in its alias's chain. `arm_alias` says
    `version.model` is an experiment arm's own alias, not the prompt's: a schema 1 file
    cannot vouch for it (`Evidence.tells_judges_apart`).
    """
    path = evidence_path(evidence_dir, version.name, version.version)
    rerun = f"rerun the eval gate for {version.ident}"
    if not path.is_file():
        return [Problem(path, f"no eval evidence for {version.ident}; run the eval gate for it")]
    try:
        evidence = read_evidence(path)
    except PromptFileError as error:
        return [Problem(path, error.problem.message)]
    problems: list[Problem] = []
    if (evidence.prompt, evidence.version) != (version.name, version.version):
        problems.append(
            Problem(
                path,
                f"records {evidence.prompt}@v{evidence.version}, not {version.ident}; {rerun}",
            )
        )
    if evidence.verdict != "pass":
        problems.append(Problem(path, f"verdict is '{evidence.verdict}', not 'pass'"))
    if evidence.approval is not None and not (root / evidence.approval).is_file():
        problems.append(
            Problem(
                path,
                f"passed with approval {evidence.approval}, which is no longer in the "
                f"repository; restore it or {rerun}",
            )
        )
    if evidence.prompt_hash != version.content_hash:
        problems.append(
            Problem(
                path,
                f"prompt hash {evidence.prompt_hash[:19]}... is not the current hash "
                f"{version.content_hash[:19]}... of {version.path.name}; {rerun}",
            )
        )
    dataset = Path(evidence.dataset)
    dataset = dataset if dataset.is_absolute() else root / dataset
    if not dataset.is_file():
        problems.append(Problem(path, f"dataset {evidence.dataset} no longer exists; {rerun}"))
    elif file_hash(dataset) != evidence.dataset_hash:
        problems.append(Problem(path, f"dataset {evidence.dataset} changed since; {rerun}"))
    problems.extend(_model_problems(evidence, version, models, path, rerun, arm_alias=arm_alias))
    return problems


def _model_problems(
    evidence: Evidence,
    version: PromptVersion,
    models: ModelsConfig,
    path: Path,
    rerun: str,
    *,
    arm_alias: bool = False,
) -> list[Problem]:
    """Who answered: the alias's first deployment only, not as a judge, and nobody outside
    its chain."""
    problems: list[Problem] = []
    alias = version.model
    if alias not in evidence.models:
        judged = " (it only judged the answers: the judge's alias)" * (alias in evidence.judges)
        problems.append(
            Problem(path, f"records no deployment for the prompt's alias '{alias}'{judged}")
        )
    elif arm_alias and not evidence.tells_judges_apart:
        problems.append(
            Problem(
                path,
                f"schema_version 1 lists the judges' aliases with the answering ones, so it "
                f"cannot show that alias '{alias}' answered the cases rather than judged "
                f"them; {rerun} with the arm's model (a suite target with model: {alias})",
            )
        )
    elif alias in models.aliases:
        primary = models.aliases[alias].deployments[0].model
        answered = evidence.models[alias]
        if answered != [primary]:
            problems.append(
                Problem(
                    path,
                    f"alias '{alias}' was answered by {', '.join(answered) or 'nothing'}, "
                    f"not only by its first deployment {primary} (the model under test); "
                    f"{rerun} with {primary} reachable",
                )
            )
    for other in sorted({*evidence.models, *evidence.judges}):
        chain = models.aliases[other].deployments if other in models.aliases else None
        if chain is None:
            problems.append(
                Problem(path, f"alias '{other}' is no longer in config/models.yaml; {rerun}")
            )
            continue
        current = {deployment.model for deployment in chain}
        seen = {*evidence.models.get(other, []), *evidence.judges.get(other, [])}
        for model in sorted(seen):
            if model not in current:
                problems.append(
                    Problem(
                        path,
                        f"deployment '{model}' is no longer in alias '{other}' "
                        f"in config/models.yaml; {rerun}",
                    )
                )
    return problems
