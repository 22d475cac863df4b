"""Scrub secrets and personal data from anything recorded as telemetry content.

Content (prompts, completions) is only recorded when the operator opts in; even then it
passes through a `Redactor`: the configured patterns (emails, key-shaped strings) and the
literal value of every secret-looking environment variable are replaced. Keys are never
recorded by design (the gateway only knows the *name* of a key variable); this is the belt
to that pair of braces.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

_SECRET_ENV = re.compile(r"(KEY|SECRET|TOKEN|PASSWORD|CREDENTIALS?)$", re.IGNORECASE)
_MIN_SECRET_LENGTH = 8


def secret_env_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of variables named like secrets (`*_API_KEY`, `*_TOKEN`...), longest first."""
    env = os.environ if environ is None else environ
    values = {
        value
        for name, value in env.items()
        if _SECRET_ENV.search(name) and len(value) >= _MIN_SECRET_LENGTH
    }
    return sorted(values, key=len, reverse=True)


class Redactor:
    """Replace every match of the patterns and every known secret value."""

    def __init__(
        self,
        patterns: Iterable[str],
        *,
        replacement: str = "[REDACTED]",
        secrets: Iterable[str] = (),
    ) -> None:
        literal = [re.escape(secret) for secret in secrets if secret]
        parts = [*literal, *(f"(?:{pattern})" for pattern in patterns)]
        self._regex = re.compile("|".join(parts)) if parts else None
        self._replacement = replacement

    def __call__(self, text: str) -> str:
        if self._regex is None:
            return text
        return self._regex.sub(self._replacement, text)
