"""Scrub secrets and personal data from anything recorded as telemetry content.

Content (prompts, completions) is only recorded when the operator opts in; even then it
passes through a `Redactor`: the configured patterns (emails, key-shaped strings) and the
literal value of every secret-looking environment variable are replaced. Keys are never
recorded by design (the gateway only knows the *name* of a key variable); this is the belt
to that pair of braces.

Redaction runs on every captured body, so it must stay linear in the text's length: a
pattern such as `[a-z.]+@[a-z.]+\\.[a-z]{2,}` is tried from every position of a long run
of letters and takes quadratic time (issue 24 measured 10.6 s on 80,000 characters). The
default patterns below start only where a token starts (a lookbehind), use possessive
quantifiers (no backtracking) and extend a match over the rest of its token, so an address
glued to another secret is still scrubbed whole; `make bench` measures 10 MB of text,
adversarial runs included.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

_SECRET_ENV = re.compile(r"(KEY|SECRET|TOKEN|PASSWORD|CREDENTIALS?)$", re.IGNORECASE)
_MIN_SECRET_LENGTH = 8

_WORD = r"A-Za-z0-9._%+\-"  # an email's local part: a token any default pattern may be glued to
# The rest of the token, glued addresses included, but not a sentence's final dots: what
# follows those is outside the token, so nothing a pattern could match is left behind.
_REST_OF_WORD = rf"(?:[{_WORD}@]*[A-Za-z0-9_%+\-@])?+"

DEFAULT_PATTERNS: tuple[str, ...] = (
    # Each starts with one character (a quick reject in the alternation), then a lookbehind
    # that fails at once inside a token, so no position is tried twice.
    # emails: from a token's start, the local part, `@`, a domain with a dot and two letters
    rf"[{_WORD}](?<![{_WORD}][{_WORD}])[{_WORD}]*+@[A-Za-z0-9.\-]+?\.[A-Za-z]{{2}}{_REST_OF_WORD}",
    rf"[psr](?<=\b[psr])k-[A-Za-z0-9_\-]{{8,}}+{_REST_OF_WORD}",  # sk-... style API keys
    rf"A(?<=\bA)KIA[0-9A-Z]{{16}}\b{_REST_OF_WORD}",  # AWS access key ids
    rf"[bB](?i:earer)\s++[A-Za-z0-9._\-]{{8,}}+{_REST_OF_WORD}",  # bearer tokens
)
"""Linear-time patterns; each redacts at least what its naive form (`[...]+@...`) did."""


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
    """Replace every known secret value, then every match of the patterns.

    Secrets go first, in a pass of their own: a pattern that starts only at a token's start
    then still sees an address glued to a secret (`<key>x@example.com`) as a token.
    """

    def __init__(
        self,
        patterns: Iterable[str],
        *,
        replacement: str = "[REDACTED]",
        secrets: Iterable[str] = (),
    ) -> None:
        literal = [re.escape(secret) for secret in secrets if secret]
        self._secrets = re.compile("|".join(literal)) if literal else None
        parts = [f"(?:{pattern})" for pattern in patterns]
        self._regex = re.compile("|".join(parts)) if parts else None
        self._replacement = replacement

    def __call__(self, text: str) -> str:
        if self._secrets is not None:
            text = self._secrets.sub(self._replacement, text)
        if self._regex is not None:
            text = self._regex.sub(self._replacement, text)
        return text
