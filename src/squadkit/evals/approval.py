"""Reviewed approvals: how a team accepts an inconclusive gate on the record.

An inconclusive gate is not a pass: the data show neither that a drop stays within the
margin nor a drop beyond it. More cases or more repeats decide it; when a team decides
instead, the decision is a file committed in the repository, reviewed like code:
`evals/approvals/<prompt>/v<N>.yaml` names who approved, why, the prompt version and its
hash, and the hash of the gate it accepts (`gate.report_hash`: the gate's canonical
content, printed by the inconclusive gate). The gate accepts it only when all of them match
exactly (verdict `pass-with-approval`, shown in every report and noted in the evidence);
any change to the prompt, dataset, recordings or baseline changes the hash, so an approval
cannot outlive what was reviewed. It never turns a `fail` into a pass.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import invalid_field
from ..files import atomic_write, display_path, read_text
from ..yaml_lines import load_yaml
from .errors import EvalConfigError
from .report import Approval, GateResult

if TYPE_CHECKING:
    from .report import EvalReport
    from .spool import Report

__all__ = [
    "ApprovalFile",
    "apply_approval",
    "approval_path",
    "new_approval",
    "read_approval",
    "write_approval",
]

_HASH = r"^sha256:[0-9a-f]{64}$"


class ApprovalFile(BaseModel):
    """The contents of `evals/approvals/<prompt>/v<N>.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str = Field(min_length=1)
    version: int = Field(ge=1)
    prompt_hash: str = Field(pattern=_HASH, description="content_hash of the version file.")
    report_hash: str = Field(pattern=_HASH, description="The inconclusive gate's report hash.")
    approved_by: str = Field(min_length=1, description="Who reviewed and approved.")
    reason: str = Field(min_length=1, description="Why the inconclusive result is accepted.")
    approved_at: datetime | None = None


def approval_path(approvals_dir: Path, prompt: str, version: int) -> Path:
    """Where an approval of `prompt` v`version` lives (`evals/approvals/<prompt>/v<N>.yaml`)."""
    return approvals_dir / prompt / f"v{version}.yaml"


def read_approval(path: Path) -> ApprovalFile:
    """Read one approval; a bad file is an `EvalConfigError` naming the file and field."""
    where = display_path(path)
    try:
        text = read_text(path)
    except FileNotFoundError:
        raise EvalConfigError(f"{where}: approval not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise EvalConfigError(f"{where}: not a readable approval ({error})") from None
    data = load_yaml(text, path)
    if not isinstance(data, dict):
        raise EvalConfigError(f"{where}: an approval is a mapping of prompt, version, ... fields")
    try:
        return ApprovalFile.model_validate(data)
    except ValidationError as error:
        raise EvalConfigError(f"{where}: {invalid_field(error, whole='(approval)')}") from None


def write_approval(approvals_dir: Path, approval: ApprovalFile) -> Path:
    """Write `approval` to its place, atomically; returns the file written."""
    path = approval_path(approvals_dir, approval.prompt, approval.version)
    data = approval.model_dump(mode="json", exclude_none=True)
    atomic_write(path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


def new_approval(
    gate: GateResult, report: EvalReport | Report, *, approved_by: str, reason: str
) -> ApprovalFile:
    """The approval of an inconclusive `gate` on `report` (what `squad eval approve` writes)."""
    if gate.verdict != "inconclusive" or gate.report_hash is None:
        raise EvalConfigError(
            f"the gate of {gate.arm} is '{gate.verdict}', not inconclusive: only an "
            "inconclusive gate can be approved"
        )
    prompt = report.arm(gate.arm).prompt
    return ApprovalFile(
        prompt=prompt.name,
        version=prompt.version,
        prompt_hash=prompt.hash,
        report_hash=gate.report_hash,
        approved_by=approved_by,
        reason=reason,
        approved_at=datetime.now(UTC).replace(microsecond=0),
    )


def apply_approval(
    gate: GateResult, report: EvalReport | Report, approvals_dir: Path
) -> tuple[GateResult, str | None]:
    """`gate` accepted by its committed approval, if it is inconclusive and one matches.

    Returns the gate (verdict `pass-with-approval` when accepted) and a note when an
    approval exists but does not match (it names what differs), else None.
    """
    if gate.verdict != "inconclusive":
        return gate, None
    prompt = report.arm(gate.arm).prompt
    path = approval_path(approvals_dir, prompt.name, prompt.version)
    if not path.is_file():
        return gate, None
    approval = read_approval(path)
    wanted = {
        "prompt": prompt.name,
        "version": prompt.version,
        "prompt_hash": prompt.hash,
        "report_hash": gate.report_hash,
    }
    differs = [field for field, value in wanted.items() if getattr(approval, field) != value]
    if differs:
        return gate, (
            f"{display_path(path)} does not approve this gate: its "
            + ", ".join(f"{field} {getattr(approval, field)}" for field in differs)
            + " differ(s) from this gate's "
            + ", ".join(f"{wanted[field]}" for field in differs)
            + "; the prompt, data or recordings changed since it was reviewed"
        )
    accepted = Approval(
        file=_from_root(path, approvals_dir),
        approved_by=approval.approved_by,
        reason=approval.reason,
    )
    return gate.model_copy(update={"verdict": "pass-with-approval", "approval": accepted}), None


def _from_root(path: Path, approvals_dir: Path) -> str:
    """`evals/approvals/<prompt>/v<N>.yaml`: the same wherever the gate ran."""
    try:
        return path.relative_to(approvals_dir.parent.parent).as_posix()
    except ValueError:
        return path.as_posix()
