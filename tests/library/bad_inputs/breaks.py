"""How a bad-input case is written: the edits that break a copy of the fixture squad, the
record of one case, and the squad's files and commands the cases name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

Break = Callable[[Path], None]
"""An edit of the squad's copy (its root given) that makes the input bad."""


def nothing(_repo: Path) -> None:
    return None


def replace(relative: str, old: str, new: str, count: int = 1) -> Break:
    def edit(repo: Path) -> None:
        path = repo / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{relative} has no {old!r}: the case is stale"
        path.write_text(text.replace(old, new, count), encoding="utf-8")

    return edit


def write(relative: str, content: str | bytes) -> Break:
    def edit(repo: Path) -> None:
        path = repo / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        path.write_bytes(data)

    return edit


def append(relative: str, text: str) -> Break:
    def edit(repo: Path) -> None:
        path = repo / relative
        path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")

    return edit


def delete(relative: str) -> Break:
    return lambda repo: (repo / relative).unlink()


def dataset_line(number: int, line: str) -> Break:
    def edit(repo: Path) -> None:
        path = repo / "evals" / "datasets" / "triage.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines()
        lines[number - 1] = line
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    return edit


def symlink(relative: str, target: str) -> Break:
    def edit(repo: Path) -> None:
        path = repo / relative
        path.unlink(missing_ok=True)
        path.symlink_to(target)

    return edit


def append_bytes(relative: str, make: Callable[[], bytes]) -> Break:
    """Append what `make` builds (called at break time: a 20 MB case costs nothing unrun)."""

    def edit(repo: Path) -> None:
        with (repo / relative).open("ab") as file:
            file.write(make())

    return edit


def folder(relative: str) -> Break:
    """Put a folder where the squad expects a file."""

    def edit(repo: Path) -> None:
        path = repo / relative
        path.unlink(missing_ok=True)
        path.mkdir(parents=True)

    return edit


def new_version(*edits: tuple[str, str]) -> Break:
    """Write prompts/triage/v3.yaml: v2 with `version: 3` and each (old, new) replaced."""

    def edit(repo: Path) -> None:
        text = (repo / V2).read_text(encoding="utf-8").replace("version: 2", "version: 3")
        for old, new in edits:
            assert old in text, f"v2 has no {old!r}: the case is stale"
            text = text.replace(old, new, 1)
        (repo / V3).write_text(text, encoding="utf-8")

    return edit


def both(*edits: Break) -> Break:
    def edit(repo: Path) -> None:
        for one in edits:
            one(repo)

    return edit


@dataclass(frozen=True)
class Bad:
    """One bad input: how to break the squad, what to run, how it must end."""

    name: str
    command: tuple[str, ...]
    says: str
    breaks: Break = nothing
    env: dict[str, str] = field(default_factory=dict)
    exit: int = 2
    listing: bool = False  # `prompts check`: a count line, then one line per problem
    xfail: str | None = None


MODELS = "config/models.yaml"
OBSERVABILITY = "config/observability.yaml"
LABELS = "prompts/labels.yaml"
LOCK = "prompts/prompts.lock"
V2 = "prompts/triage/v2.yaml"
V3 = "prompts/triage/v3.yaml"
CALLERS = "config/callers.yaml"
FEEDBACK = "config/feedback.yaml"
DOTENV = ".env"
SUITE = "evals/triage.yaml"
DATASET = "evals/datasets/triage.jsonl"
BASELINE = "evals/baselines/triage.json"
EVIDENCE = "evals/evidence/triage/v2.json"
RECORDINGS = "evals/recordings/triage.jsonl"
EXPERIMENTS = "config/experiments.yaml"

CHECK_MODELS = ("models", "check")
CHECK_PROMPTS = ("prompts", "list")
GATE = ("eval", "gate", "triage", "--no-evidence")
RUN = ("eval", "run", "triage")
PROMOTE = ("prompts", "promote", "triage", "2", "--label", "production")
HARVEST = ("harvest", "triage")
REVIEW = ("review", "triage")
LIST_CALLERS = ("callers", "list")
SERVE = ("serve", "--port", "0")  # every case is refused before it binds; 0 if one is not
