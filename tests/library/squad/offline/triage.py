"""`local/triage-rules-v1`: the fixture squad's offline triage model, keyword rules.

A copy of the rules model the template seeds in a squad's `offline/triage.py` (squadkit
ships no triage model: a squad's taxonomy is its own). The fixture's recordings, baseline
and evidence were made with it, so its answers must stay as they are: change it only with
a refresh of those files (see `tests/library/squad/__init__.py`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from squadkit.plugins import LocalModel


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


def _find(phrases: Sequence[str], text: str) -> list[str]:
    """The phrases present in `text`, quoted as they appear there (first occurrence each)."""
    found = []
    for phrase in phrases:
        match = re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, flags=re.IGNORECASE)
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
    if re.search(r"\benterprise\b", ticket, re.IGNORECASE) and priority == "normal":
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


def _tagged(name: str, text: str) -> str | None:
    """The text inside the first `<name>...</name>` of `text` (None when there is none)."""
    match = re.search(rf"<{name}>(.*?)</{name}>", text, flags=re.IGNORECASE | re.DOTALL)
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


LOCAL_MODELS: dict[str, LocalModel] = {"triage-rules-v1": _rules_model}
