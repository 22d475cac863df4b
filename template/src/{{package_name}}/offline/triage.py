"""The triage feature's offline models: readable rules standing in for an LLM.

They exist so tests, CI and `make demo` run with no API key and no network: the last
deployment of each chain in `config/models.yaml` is one of them, and the shipped
recordings, baselines and evidence were made with them. They are deliberately simple and
honest: rules any reviewer can read, mediocre but useful, never tuned to the dataset. A real
model should beat them; the eval suite's baseline shows by how much.

- `local/triage-rubric-v1` follows the prompt: its queues, priority levels and rules are
  read from the rendered instructions (`triage_rubric.py`, with the small thesaurus of
  `triage_lexicon.py`), so a prompt change shows in the evals with no API key.
- `local/triage-rules-v1` reads only the ticket, with the keyword lists below, so it
  answers the same whatever the prompt asks.

Both answer JSON `{"queue", "priority", "rationale"}`; the rationale quotes the phrases that
decided. The ticket is the text inside `<ticket>...</ticket>` if the messages have that tag
(so instructions listing the queue names are not mistaken for the ticket), else the last
user message.

They are this repo's code, not squadkit's, because they know this feature's taxonomy (the
queues and priorities of the prompt, the dataset and the feature): change them with it.
They use only the standard library, so a squadkit upgrade never changes what they answer.
The committed recordings keep the answers they were made with: after an edit here,
`make eval-refresh` records the new ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from squadkit.plugins import LocalModel

from .triage_rubric import rubric_model


def _phrases(text: str) -> tuple[str, ...]:
    return tuple(phrase.strip() for phrase in text.split(","))


# Phrases per queue, checked as whole words, case-insensitively. Order breaks ties:
# security first, because a possible breach outranks everything else in the ticket.
QUEUE_PHRASES: dict[str, tuple[str, ...]] = {
    "security": _phrases(
        "hacked, phishing, breach, suspicious, unauthorized, unauthorised, "
        "compromised, fraud, fraudulent, vulnerability, leaked, stolen, malware, "
        "someone else"
    ),
    "billing": _phrases(
        "refund, invoice, billing, billed, charged, charge, overcharged, payment, "
        "credit card, receipt, subscription fee, vat, double charge"
    ),
    "account": _phrases(
        "password, log in, login, sign in, locked out, username, 2fa, two-factor, "
        "reset, my account, delete my account, email address, profile"
    ),
    "shipping": _phrases(
        "shipping, delivery, delivered, package, parcel, tracking, courier, shipment, "
        "arrived, damaged, return label, lost in transit"
    ),
    "technical": _phrases(
        "error, bug, crash, crashes, not working, broken, timeout, api, integration, "
        "outage, slow, fails, failed, sync, 500, webhook"
    ),
    "sales": _phrases(
        "pricing, quote, demo, upgrade, plan, seats, licence, license, discount, "
        "trial, purchase, buy, contract"
    ),
}
DEFAULT_QUEUE = "technical"

PRIORITY_PHRASES: dict[str, tuple[str, ...]] = {
    "urgent": _phrases(
        "urgent, asap, immediately, emergency, production down, outage, all users, "
        "data breach, hacked, right now"
    ),
    "high": _phrases(
        "cannot, can't, unable, blocked, critical, deadline, charged twice, "
        "locked out, not working, stopped working, angry, unacceptable"
    ),
    "low": _phrases(
        "question, wondering, curious, suggestion, feature request, no rush, "
        "when you have time, just wanted, feedback"
    ),
}
DEFAULT_PRIORITY = "normal"
_PRIORITY_ORDER = ("low", "normal", "high", "urgent")


def _whole_words(phrase: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(phrase)}(?!\w)", flags=re.IGNORECASE)


# Each phrase's pattern, compiled once here rather than looked up in `re`'s cache per call.
_PATTERNS = {
    phrase: _whole_words(phrase)
    for phrases in (*QUEUE_PHRASES.values(), *PRIORITY_PHRASES.values())
    for phrase in phrases
}


def _find(phrases: Sequence[str], text: str) -> list[str]:
    """The phrases present in `text`, quoted as they appear there (first occurrence each)."""
    found = []
    for phrase in phrases:
        pattern = _PATTERNS.get(phrase) or _whole_words(phrase)
        match = pattern.search(text)
        if match:
            found.append(match.group(0))
    return found


def triage(ticket: str) -> dict[str, str]:
    """Queue and priority of a ticket from keyword rules, with the phrases that decided."""
    hits = {queue: _find(phrases, ticket) for queue, phrases in QUEUE_PHRASES.items()}
    best = max(hits, key=lambda queue: len(hits[queue]))  # ties: first in QUEUE_PHRASES
    queue = best if hits[best] else DEFAULT_QUEUE

    priority, reasons = DEFAULT_PRIORITY, []
    for level in ("urgent", "high", "low"):
        found = _find(PRIORITY_PHRASES[level], ticket)
        if found:
            priority, reasons = level, found
            break
    if queue == "security" and _PRIORITY_ORDER.index(priority) < _PRIORITY_ORDER.index("high"):
        priority, reasons = "high", [*reasons, "security rule: at least high"]
    if _ENTERPRISE.search(ticket) and priority == "normal":
        priority, reasons = "high", ["enterprise customer"]

    queue_part = (
        f"{queue}: mentions " + ", ".join(f'"{p}"' for p in hits[queue][:3])
        if hits[queue]
        else f"{queue}: no queue keyword matched, default queue"
    )
    priority_part = (
        f"{priority}: " + ", ".join(f'"{r}"' if "rule" not in r else r for r in reasons[:3])
        if reasons
        else f"{priority}: no urgency cue"
    )
    return {"queue": queue, "priority": priority, "rationale": f"{queue_part}; {priority_part}"}


_ENTERPRISE = re.compile(r"\benterprise\b", re.IGNORECASE)
_TAGS: dict[str, re.Pattern[str]] = {}  # the pattern of each tag name `_tagged` was asked for


def _tagged(name: str, text: str) -> str | None:
    """The text inside the first `<name>...</name>` of `text` (None when there is none)."""
    pattern = _TAGS.get(name)
    if pattern is None:
        pattern = _TAGS[name] = re.compile(rf"<{name}>(.*?)</{name}>", re.IGNORECASE | re.DOTALL)
    match = pattern.search(text)
    return match.group(1).strip() if match else None


def _text(message: dict[str, Any]) -> str:
    """A chat message's text: its content, or its text parts joined (OpenAI content parts)."""
    if not isinstance(message, dict):
        return ""  # not a chat message: nothing to read
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


def _rules_model(messages: list[dict[str, Any]]) -> dict[str, Any]:
    ticket = _tagged("ticket", "\n".join(_text(m) for m in messages))
    if ticket is None:
        users = [_text(m) for m in messages if m.get("role") == "user"]
        ticket = users[-1] if users else ""
    return triage(ticket)


def _rubric_model(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return rubric_model(messages, _text)


LOCAL_MODELS: dict[str, LocalModel] = {
    "triage-rules-v1": _rules_model,
    "triage-rubric-v1": _rubric_model,
}
"""Served by squadkit as `local/triage-rules-v1` and `local/triage-rubric-v1`."""
