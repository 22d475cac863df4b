"""`local/triage-rubric-v1`: an offline triage model that does what the prompt says.

`triage-rules-v1` carries its own keyword lists, so it answers the same whatever the prompt
asks, and the eval loop shows nothing without an API key. This model reads its rubric from
the rendered messages instead, the way an instruction-following model would, and only that:

- queues: every `- <name>: <definition>` line of the instructions whose name is not a
  priority level; a ticket goes to the queue whose definition terms it mentions most (ties
  and no match: the first queue listed);
- priorities: `- <level>: <definition>` lines for low, normal, high and urgent; the most
  urgent level whose terms the ticket mentions, else `normal`; a prompt without priority
  rules gets `normal` for every ticket;
- rules the prompt states in these words: "<queue> tickets are at least <level>" and
  "<tier> customers move up one level from <level> to <level>";
- the ticket: the text inside `<ticket>...</ticket>`, else the last user message.

A term is a comma-, "and"- or "or"-separated piece of a definition; it matches when at
least half of its words of four letters or more appear in the ticket (ignoring a plural or
-ing/-ed ending). Deterministic, readable, never tuned to a dataset: remove a rubric line, drop the
ticket's body or a rule from the prompt, and the answers change the way they would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

LEVELS = ("low", "normal", "high", "urgent")
_BULLET = re.compile(r"^\s*-\s*([a-z][a-z_-]*)\s*:\s*(.+)$", re.MULTILINE)
_AT_LEAST = re.compile(
    r"\b([a-z][a-z_-]*)\s+tickets\s+are\s+at\s+least\s+(low|normal|high|urgent)\b"
)
_MOVE_UP = re.compile(
    r"\b([a-z][a-z_-]*)\s+customers\s+move\s+up\s+one\s+level\s+from\s+"
    r"(low|normal|high)\s+to\s+(normal|high|urgent)\b"
)
_SPLIT = re.compile(r",|;|\band\b|\bor\b")
_WORD = re.compile(r"[a-z][a-z'-]{3,}")
_IGNORED = frozenset(
    {
        "about", "already", "before", "with", "without", "within", "their", "there",
        "these", "those", "which", "questions", "question", "problem", "problems", "that",
        "what", "when", "happening",
    }
)  # fmt: skip


@dataclass
class Rubric:
    """What the instructions say: queues and priority levels with their terms, and rules."""

    queues: dict[str, list[set[str]]] = field(default_factory=dict)
    levels: dict[str, list[set[str]]] = field(default_factory=dict)
    at_least: dict[str, str] = field(default_factory=dict)  # queue -> minimum level
    move_up: dict[str, tuple[str, str]] = field(default_factory=dict)  # tier -> (from, to)


def _stem(word: str) -> str:
    for ending in ("ing", "ed", "es", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word


def _terms(definition: str) -> list[set[str]]:
    terms = []
    for piece in _SPLIT.split(definition.lower()):
        words = {_stem(w) for w in _WORD.findall(piece) if w not in _IGNORED}
        if words:
            terms.append(words)
    return terms


def read_rubric(instructions: str) -> Rubric:
    """The rubric the instructions state (empty when they state none)."""
    rubric = Rubric()
    text = instructions.lower()
    for name, definition in _BULLET.findall(text):
        target = rubric.levels if name in LEVELS else rubric.queues
        target.setdefault(name, []).extend(_terms(definition))
    rubric.at_least = dict(_AT_LEAST.findall(text))
    rubric.move_up = {tier: (low, high) for tier, low, high in _MOVE_UP.findall(text)}
    return rubric


def _matches(terms: list[set[str]], ticket_stems: dict[str, str]) -> list[str]:
    """The ticket words (as written) of each term the ticket mentions: at least half of a
    term's words (both words of "data loss", one of "refunds")."""
    found = []
    for term in terms:
        hits = [ticket_stems[s] for s in sorted(term) if s in ticket_stems]
        if hits and len(hits) * 2 >= len(term) and hits[0] not in found:
            found.append(hits[0])  # one word as the ticket spells it: a quote that grounds
    return found


def triage_by_rubric(instructions: str, ticket: str) -> dict[str, str]:
    """Queue, priority and a rationale quoting the ticket, from the prompt's own rubric."""
    rubric = read_rubric(instructions)
    stems = {_stem(w): w for w in reversed(_WORD.findall(ticket.lower()))}
    hits = {queue: _matches(terms, stems) for queue, terms in rubric.queues.items()}
    queues = list(rubric.queues)
    queue = max(queues, key=lambda q: len(hits[q])) if queues else "unknown"
    priority, cues = "normal", []
    for level in reversed(LEVELS):
        found = _matches(rubric.levels.get(level, []), stems)
        if found:
            priority, cues = level, found
            break
    notes = []
    floor = rubric.at_least.get(queue)
    if floor and LEVELS.index(priority) < LEVELS.index(floor):
        priority = floor
        notes.append(f"{queue} tickets are at least {floor}")
    for tier, (low, high) in rubric.move_up.items():
        if re.search(rf"\b{re.escape(tier)}\b", ticket, re.IGNORECASE) and priority == low:
            priority = high
            notes.append(f"{tier} customers move up to {high}")
    said = ", ".join(f'"{word}"' for word in hits.get(queue, [])[:3]) or "no rubric term"
    why = ", ".join([*(f'"{word}"' for word in cues[:3]), *notes]) or "no urgency cue"
    return {
        "queue": queue,
        "priority": priority,
        "rationale": f"{queue}: {said}; {priority}: {why}",
    }


def rubric_model(messages: list[dict[str, Any]], text_of: Any, tagged: Any) -> dict[str, Any]:
    """The model's answer to `messages` (helpers passed in to share the message parsing)."""
    everything = "\n".join(text_of(m) for m in messages)
    ticket = tagged("ticket", everything)
    if ticket is None:
        users = [text_of(m) for m in messages if m.get("role") == "user"]
        ticket = users[-1] if users else ""
    instructions = re.sub(r"<ticket>.*?</ticket>", " ", everything, flags=re.DOTALL | re.I)
    return triage_by_rubric(instructions, ticket)
