"""Error base shared by every capability.

Each capability raises its own typed subclasses; the CLI turns any `SquadError` into one
line on stderr and its `exit_code`, and the service turns them into problem details. So a
new error type only needs the right base class to get user-facing handling everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class SquadError(Exception):
    """An expected failure with a message fit for a user: what is wrong, where, what to do."""

    exit_code: int = 2


class ConfigError(SquadError):
    """A configuration or data file is missing or invalid (exit 2)."""


class CheckFailed(SquadError):
    """A check ran and found problems (exit 1); the message lists them."""

    exit_code = 1


def invalid_field(error: ValidationError, *, whole: str) -> str:
    """`field 'a.b': <why>` for the first problem pydantic found: the part of a one-line
    message that names the field. `whole` names it when the problem is the value itself."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or whole
    return f"field '{field}': {first['msg']}"
