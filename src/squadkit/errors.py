"""Error base shared by every capability.

Each capability raises its own typed subclasses; the CLI turns any `SquadError` into one
line on stderr and its `exit_code`, and the service turns them into problem details. So a
new error type only needs the right base class to get user-facing handling everywhere.
"""


class SquadError(Exception):
    """An expected failure with a message fit for a user: what is wrong, where, what to do."""

    exit_code: int = 2


class ConfigError(SquadError):
    """A configuration or data file is missing or invalid (exit 2)."""


class CheckFailed(SquadError):
    """A check ran and found problems (exit 1); the message lists them."""

    exit_code = 1
