"""From production to the dataset, through review (issue 25, item 3).

`squad harvest SUITE` picks, from the inference log (`squadkit.inferences`), the answers a
person should look at (corrections, negative feedback, low online scores, fallback
answers, a stratified sample) that are not yet in the suite's dataset, and writes them to
`evals/review/<suite>.jsonl` (`selection`, `candidates`). `squad review SUITE` shows them,
writes a static review page (`page`) and applies decisions: accepted cases are appended to
the dataset with their provenance, rejected inputs remembered (`review_file`).
"""

from .candidates import REASONS, Candidate, FeedbackSeen, propose_expected
from .page import review_page
from .review_file import (
    Applied,
    Decision,
    Decisions,
    RejectedInput,
    apply_decisions,
    dataset_known,
    read_candidates,
    read_decisions,
    rejected_path,
    review_path,
    write_candidates,
)
from .selection import HarvestOptions, HarvestResult, Known, NoContentLogged, select_candidates

__all__ = [
    "REASONS",
    "Applied",
    "Candidate",
    "Decision",
    "Decisions",
    "FeedbackSeen",
    "HarvestOptions",
    "HarvestResult",
    "Known",
    "NoContentLogged",
    "RejectedInput",
    "apply_decisions",
    "dataset_known",
    "propose_expected",
    "read_candidates",
    "read_decisions",
    "rejected_path",
    "review_page",
    "review_path",
    "select_candidates",
    "write_candidates",
]
