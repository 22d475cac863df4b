"""Typed errors of the eval capability.

Suite, dataset and recording problems are data errors (exit 2); a gate that ran and found a
regression or a missed threshold is a failed check (exit 1); a gate whose data decide
neither way is inconclusive (exit 3: not a pass, but not a shown regression either).
"""

from __future__ import annotations

from ..errors import CheckFailed, ConfigError, SquadError


class EvalConfigError(ConfigError):
    """A suite file, dataset or report is missing or invalid (exit 2); names file and field."""


class ReplayMiss(ConfigError):
    """Replay mode found no recording for a request (exit 2); names the case and the alias."""


class GateFailed(CheckFailed):
    """The eval gate ran and failed a threshold or found a regression (exit 1).

    `summary` is the same Markdown table a pass prints, so a failing gate shows its numbers.
    """

    def __init__(self, message: str, *, summary: str = "") -> None:
        super().__init__(message)
        self.summary = summary


class GateInconclusive(GateFailed):
    """The eval gate ran and its data show neither non-inferiority nor a drop beyond the
    margin (exit 3): not a pass. The message says how many cases would decide it, and the
    report hash a reviewed approval (`evals/approvals/<prompt>/v<N>.yaml`) would name."""

    exit_code = 3


class RefreshIncomplete(CheckFailed):
    """A refresh got answers that were not the model's own (an outage, a fallback): it
    replaced no recordings, baseline or evidence (exit 1)."""


class CallsUnanswered(CheckFailed):
    """A live or record run in which no call, or more than the suite's `max_error_share` of
    them, was answered (exit 1): its scores measure the outage, not the model."""


class ShardFailed(SquadError):
    """A `--workers` child process (one shard of the run) failed (exit 2); names the shard."""
