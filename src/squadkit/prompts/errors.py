"""Typed errors of the prompt registry.

Data problems (a prompt file that does not parse, an unknown prompt, inputs that do not match
the prompt's `input_schema`) exit 2; a check or a refused promotion exits 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import CheckFailed, ConfigError, SquadError
from ..files import display_path


@dataclass(frozen=True)
class Problem:
    """One problem found in one file; `str()` is the one line shown to the user."""

    path: Path
    message: str
    line: int | None = None
    # "invalid": the file cannot be used at all (data error, exit 2).
    # "check": the file is valid but breaks a registry rule (exit 1).
    kind: Literal["invalid", "check"] = "check"

    def __str__(self) -> str:
        where = display_path(self.path) + (f":{self.line}" if self.line else "")
        return f"{where}: {self.message}"


class PromptFileError(ConfigError):
    """A prompt, labels or lock file is missing or invalid (exit 2)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class PromptNotFound(ConfigError):
    """The prompt, version or label asked for does not exist (exit 2)."""


class PromptInputError(SquadError):
    """Render inputs do not match the prompt's `input_schema` (exit 2)."""


class PromptRenderError(SquadError):
    """A template failed while rendering, e.g. it reached for something the sandbox blocks."""


class PromptCheckError(CheckFailed):
    """`check` found problems; the message has one line per problem, each naming its file.

    Exits 2 when a file is unusable (a data error), otherwise 1.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        header = (
            f"{count} prompt problem{'s' if count != 1 else ''}; "
            "fix each, then rerun `squad prompts check`"
        )
        super().__init__("\n".join([header, *(str(p) for p in self.problems)]))
        if any(p.kind == "invalid" for p in self.problems):
            self.exit_code = 2


class PromotionRefused(CheckFailed):
    """A label move was refused, e.g. no passing evidence for a gated label (exit 1)."""
