"""Typed errors of the eval capability.

Suite, dataset and recording problems are data errors (exit 2); a gate that ran and found a
regression or a missed threshold is a failed check (exit 1).
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


class RefreshIncomplete(CheckFailed):
    """A refresh got answers that were not the model's own (an outage, a fallback): it
    replaced no recordings, baseline or evidence (exit 1)."""


class CallsUnanswered(CheckFailed):
    """A live or record run in which no call, or more than the suite's `max_error_share` of
    them, was answered (exit 1): its scores measure the outage, not the model."""


class ShardFailed(SquadError):
    """A `--workers` child process (one shard of the run) failed (exit 2); names the shard."""
