"""The offline `local/...` models: readable rules standing in for an LLM.

They exist so tests, CI and `make demo` run with no API key and no network: in-process when
a chain has only offline models (`offline.py`), through the Router as a provider when they are
a provider chain's last resort (`local_provider.py`). They are deliberately simple and
honest: keyword rules any reviewer can read, mediocre but useful, never tuned to a dataset.
A real model should beat them; the eval suite's baseline shows by how much.

- `triage-rubric-v1` follows the prompt: its queues, priority levels and rules are read from
  the rendered instructions (`rubric_model.py`, with the small thesaurus of
  `rubric_lexicon.py`), so a prompt change shows in the evals with no API key.
  `benchmarks/offline_triage_accuracy.py` prints how it and `triage-rules-v1` score on the
  template's prompts, whole and with parts deleted.
- `triage-rules-v1` reads the ticket and answers JSON
  `{"queue", "priority", "rationale"}`; the rationale quotes the phrases that decided.
  The ticket is the text inside `<ticket>...</ticket>` if the messages have that tag
  (so instructions listing the queue names are not mistaken for the ticket), else the
  last user message.
- `judge-heuristic-v1` reads a rubric and a candidate answer and answers JSON
  `{"score": 0..1, "reason"}`: the share of the rubric's key terms the answer covers.
  It looks for `<rubric>...</rubric>` and `<answer>...</answer>` tags (also `<reference>`)
  anywhere in the messages; without tags the system message is the rubric and the last
  user message the answer.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..plugins import LocalModel, squad_local_models
from ..yaml_lines import line_in_text
from .rubric_model import rubric_model

if TYPE_CHECKING:
    from .config import ModelsConfig


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


@dataclass(frozen=True)
class LocalAnswer:
    """What a local model answers, with approximate token counts (about 4 chars a token)."""

    text: str
    input_tokens: int
    output_tokens: int


def approx_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


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


_STOPWORDS = frozenset(
    _phrases(
        "a, an, and, are, as, at, be, but, by, does, for, from, has, have, how, if, in, "
        "into, is, it, its, must, not, of, on, or, should, that, the, their, them, then, "
        "there, these, this, those, to, was, were, what, when, which, who, will, with, "
        "would, you, your, answer, response, candidate, rubric, score, reason, json, give, "
        "only"
    )
)


@functools.cache
def _tag(name: str) -> re.Pattern[str]:
    return re.compile(rf"<{name}>(.*?)</{name}>", re.IGNORECASE | re.DOTALL)


def _tagged(name: str, text: str) -> str | None:
    match = _tag(name).search(text)
    return match.group(1).strip() if match else None


def _terms(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9][a-z0-9'\-]{2,}", text.lower())
    return list(dict.fromkeys(w for w in words if w not in _STOPWORDS))


def judge(rubric: str, answer: str) -> dict[str, Any]:
    """Score = share of the rubric's key terms present in the answer (0 when it is empty)."""
    terms = _terms(rubric)
    answer_terms = set(_terms(answer))
    if not answer.strip():
        return {"score": 0.0, "reason": "the answer is empty"}
    if not terms:
        return {"score": 0.5, "reason": "the rubric has no key terms; neutral score"}
    covered = [t for t in terms if t in answer_terms]
    missing = [t for t in terms if t not in answer_terms]
    score = round(len(covered) / len(terms), 2)
    reason = f"covers {len(covered)}/{len(terms)} rubric terms"
    if covered:
        reason += "; present: " + ", ".join(covered[:5])
    if missing:
        reason += "; missing: " + ", ".join(missing[:5])
    return {"score": score, "reason": reason}


def _text(message: dict[str, Any]) -> str:
    if not isinstance(message, dict):
        return ""  # not a chat message: nothing to read
    content = message.get("content")
    if isinstance(content, list):  # OpenAI content parts
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


def _triage_model(messages: list[dict[str, Any]]) -> dict[str, Any]:
    ticket = _tagged("ticket", "\n".join(_text(m) for m in messages))
    if ticket is None:
        users = [_text(m) for m in messages if m.get("role") == "user"]
        ticket = users[-1] if users else ""
    return triage(ticket)


def _judge_model(messages: list[dict[str, Any]]) -> dict[str, Any]:
    everything = "\n".join(_text(m) for m in messages)
    rubric = _tagged("rubric", everything)
    reference = _tagged("reference", everything)
    answer = _tagged("answer", everything)
    if rubric is None and reference is None:
        rubric = " ".join(_text(m) for m in messages if m.get("role") == "system")
    if answer is None:
        users = [_text(m) for m in messages if m.get("role") == "user"]
        answer = users[-1] if users else ""
    return judge(" ".join(filter(None, (rubric, reference))), answer)


def _rubric_model(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return rubric_model(messages, _text, _tagged)


LOCAL_MODELS: dict[str, LocalModel] = {
    "triage-rules-v1": _triage_model,
    "triage-rubric-v1": _rubric_model,
    "judge-heuristic-v1": _judge_model,
}
"""The models squadkit ships; a squad adds its own in `<package>.offline` (see plugins)."""


def known_models() -> dict[str, LocalModel]:
    """squadkit's local models and the squad's (a squad model may not shadow a shipped one)."""
    squad = squad_local_models()
    clash = sorted(set(squad) & set(LOCAL_MODELS))
    if clash:
        raise ConfigError(
            f"the squad's offline modules redefine squadkit's local model(s) {', '.join(clash)}; "
            "give yours another name"
        )
    return {**LOCAL_MODELS, **squad}


def unknown_local_models(config: ModelsConfig) -> list[str]:
    """One line per `local/...` deployment that names no known model (file:line first)."""
    known: dict[str, LocalModel] | None = None
    problems = []
    for alias, alias_config in config.aliases.items():
        for index, deployment in enumerate(alias_config.deployments):
            if not deployment.is_local:
                continue
            known = known if known is not None else known_models()
            name = deployment.model.split("/", 1)[1]
            if name not in known:
                where = _where(config, ("aliases", alias, "deployments", index, "model"))
                problems.append(
                    f"{where}alias '{alias}' deployment {index + 1}: {deployment.model} is not "
                    f"a known local model (known: {', '.join(f'local/{m}' for m in sorted(known))})"
                )
    return problems


def _where(config: ModelsConfig, loc: tuple[Any, ...]) -> str:
    if config.source is None:
        return ""
    try:
        line = line_in_text(config.source.read_text(encoding="utf-8"), loc)
    except (OSError, UnicodeDecodeError):
        line = None
    return f"{config.source}{f':{line}' if line else ''}: "


def answer(model: str, messages: list[dict[str, Any]]) -> LocalAnswer:
    """Run local model `model` (without the `local/` prefix); KeyError if unknown."""
    output = known_models()[model](messages)
    text = json.dumps(output)
    prompt = "\n".join(_text(m) for m in messages)
    return LocalAnswer(
        text=text, input_tokens=approx_tokens(prompt), output_tokens=approx_tokens(text)
    )
