"""Whether a live or record run was answered at all: an outage is not a model's score.

A run against a stopped provider, a revoked key or a wrong `api_base` still writes reports:
every case scores 0 with "call failed", and before this check the command exited 0 with
"Models: none answered". A team reading that as the model's quality (or a script reading
the exit code) is misled. So a run in which no call was answered by any deployment, or more
than the suite's `max_error_share` of its calls were not, fails (exit 1, `CallsUnanswered`)
after its reports are written (they say why each call failed), naming the share. A model
that answered badly (invalid output) did answer: that is its behaviour, scored as such, and
not counted here. Replay never calls a model, so it is never checked. A live gate checks
the same before it judges: an outage is neither a pass nor evidence.
"""

from __future__ import annotations

from .spool import Report
from .suite import Suite


def unanswered(report: Report, suite: Suite, *, max_share: float | None = None) -> str | None:
    """Why a live or record `report` does not count: an arm had no call answered, or more
    than `max_share` (default: the suite's `max_error_share`) unanswered; else None."""
    if report.header.mode == "replay":
        return None
    allowed = suite.spec.max_error_share if max_share is None else max_share
    for arm, cases in zip(report.arms, report.scores, strict=True):
        calls = sum(case.attempts for case in cases)
        unanswered = sum(case.unanswered for case in cases)
        if not calls or not unanswered:
            continue
        share = unanswered / calls
        if unanswered == calls or share > allowed:
            how = "no call was answered" if unanswered == calls else f"{share:.1%} unanswered"
            return (
                f"{report.header.mode} run of suite '{suite.name}' ({arm.name}): {how} "
                f"({unanswered} of {calls} calls; at most {allowed:.1%} allowed by "
                f"max_error_share in {suite.path.name}); its scores measure the outage, not "
                "the model: check the provider's key and status (`squad models check`), "
                "then rerun"
            )
    return None
