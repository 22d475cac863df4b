"""The default redaction patterns: linear-time forms that scrub at least what the naive ones did.

Speed is `make bench`'s (benchmarks/library/redaction.py); these tests pin what is redacted.
"""

from __future__ import annotations

import random
import re

import pytest

from squadkit.observability.config import RedactionConfig
from squadkit.observability.redaction import DEFAULT_PATTERNS, Redactor

NAIVE = (  # the patterns before they were made linear: quadratic on long runs of letters
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    r"\b(?:sk|pk|rk)-[A-Za-z0-9_\-]{8,}",
    r"\bAKIA[0-9A-Z]{16}\b",
    r"(?i:bearer)\s+[A-Za-z0-9._\-]{8,}",
)


def _covered(patterns: tuple[str, ...], text: str) -> set[int]:
    """The positions of `text` that a redaction with `patterns` replaces."""
    regex = re.compile("|".join(f"(?:{pattern})" for pattern in patterns))
    return {index for match in regex.finditer(text) for index in range(*match.span())}


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("mail ann@example.com today", "mail [REDACTED] today"),
        ("Write to ann@example.com.", "Write to [REDACTED]."),  # the sentence keeps its dot
        ("key sk-abcdefgh12345678...", "key [REDACTED]..."),
        ("ann.lee+tag@mail.example.co.uk, bob", "[REDACTED], bob"),
        ("key sk-abcdefgh12345678 leaked", "key [REDACTED] leaked"),
        ("AKIAABCDEFGHIJKLMNOP", "[REDACTED]"),
        ("Authorization: Bearer abc.def-ghi_jkl", "Authorization: [REDACTED]"),
        ("a@b.com5x@evil.org end", "[REDACTED] end"),  # an address glued to another
        ("sk-abcdefgh.x@y.com", "[REDACTED]"),  # an address glued to a key
        ("no secret here, just text", "no secret here, just text"),
        ("a@b.c is not an address", "a@b.c is not an address"),
    ],
)
def test_default_patterns_redact_addresses_and_keys(text: str, redacted: str) -> None:
    assert Redactor(DEFAULT_PATTERNS)(text) == redacted


def test_default_patterns_redact_everything_the_naive_patterns_did() -> None:
    rng = random.Random(24)  # noqa: S311 - a reproducible corpus, not a secret
    alphabet = "ab.@-_+1 sk-AKIA%."
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24)))
        missed = _covered(NAIVE, text) - _covered(DEFAULT_PATTERNS, text)
        assert not missed, text


def test_an_address_glued_to_a_secret_value_is_redacted() -> None:
    redactor = Redactor(DEFAULT_PATTERNS, secrets=["hunter2-secret"])

    assert redactor("pw hunter2-secretx@example.com") == "pw [REDACTED][REDACTED]"


def test_a_long_near_miss_is_left_as_it_was() -> None:
    text = "a@a.a " * 16_000 + "a" * 80_000 + "@" + "a." * 40_000  # issue 24's near-misses

    assert Redactor(DEFAULT_PATTERNS)(text) == text


def test_the_config_defaults_are_the_linear_patterns() -> None:
    assert RedactionConfig().patterns == DEFAULT_PATTERNS
