"""`local/triage-rubric-v1`: an offline triage model that does what the prompt says.

`triage-rules-v1` (`triage.py`) carries its own keyword lists, so it answers the same
whatever the prompt asks, and the eval loop shows nothing without an API key. This model
reads its rubric from the rendered messages instead, the way an instruction-following model
would, and only that:

- queues: every `- <name>: <definition>` bullet of the instructions (a definition may go on
  over more deeply indented lines) whose name is not a priority level; without bullets, the
  names a line lists after "queue:" ("one queue: billing, technical or sales");
- priorities: the bullets for low, normal, high and urgent; a level the prompt names but
  does not define is understood by its own word ("urgent");
- rules the prompt states in these words: "<queue> tickets are at least <level>" and
  "<word> customers|tickets move up one level [from <level> to <level>]" (the word is
  looked up in the ticket, e.g. its tier or channel line);
- a default the prompt names: "when no queue fits, use <queue>" (else the first queue);
- the ticket: the text inside `<ticket>...</ticket>`, else the last user message.

A definition is read as terms, its comma-, "and"- or "or"-separated pieces. A term matches a
ticket when at least half of its words appear in it (stems: "refunds" is "refund"; a
hyphenated word as a phrase: "sign-in"; words after "no"/"without" do not count), or when
the ticket says one of the term's words in other words (`triage_lexicon.THESAURUS`: general
English, reached only through the prompt's words). A ticket goes to the queue with the most
matching terms, a term matched in the subject counting twice; ties go to the queue listed
first. Its priority is the most urgent level with a matching term, else `normal`, then the
prompt's rules. Deterministic, readable, never tuned to a dataset: delete a rubric line, the
ticket's body or a rule from the prompt, and the answers change the way they would.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .triage_lexicon import THESAURUS, WORD, stem, stems

LEVELS = ("low", "normal", "high", "urgent")
MAX_CHARS = 30_000  # of the instructions, and of the ticket: the rest is not read
_BULLET = re.compile(r"^([ \t]*)[-*•]\s*([a-z][a-z_-]*)\s*:\s*(.*)$")
_INLINE = re.compile(r"\bqueues?\b[^:\n]{0,40}:\s*([a-z_, -]+?\b(?:or|and)\s+[a-z_-]+)")
_AT_LEAST = re.compile(
    r"\b([a-z][a-z_-]*)\s+tickets\s+are\s+at\s+least\s+(low|normal|high|urgent)\b"
)
_MOVE_UP = re.compile(
    r"\b([a-z][a-z_-]*)\s+(?:customers|tickets|calls)\s+move\s+up\s+one\s+level"
    r"(?:\s+from\s+(low|normal|high)\s+to\s+(normal|high|urgent))?"
)
_DEFAULT = re.compile(
    r"\b(?:when|if)\s+no\s+(?:other\s+)?queue\s+(?:fits|applies|matches)\W+(?:use|pick|choose)\s+"
    r"([a-z][a-z_-]*)"
)
_SPLIT = re.compile(r",|;|\band\b|\bor\b|\(|\)")
_NEGATION = frozenset({"no", "without", "not", "never"})
_IGNORED = frozenset(
    {
        "a", "an", "the", "of", "for", "to", "in", "on", "at", "by", "with", "within",
        "some", "any", "that", "which", "their", "there", "these", "those", "already",
        "about", "before", "after", "e", "g", "etc", "question", "questions", "problem",
        "problems", "issue", "issues", "request", "requests", "new", "one", "two", "it",
        "now", "happening", "currently",
    }
)  # fmt: skip
_HEADER = re.compile(r"^\s*([a-z][a-z ]{0,30}):\s*(.*)$", re.IGNORECASE)
_TICKET_TAG = re.compile(r"<ticket>(.*?)</ticket>", re.DOTALL | re.IGNORECASE)
_WORD_PARTS = re.compile(f"({WORD.pattern})", re.IGNORECASE)


@dataclass(frozen=True)
class Term:
    """One piece of a definition: its word units (each a stem sequence) and its concepts."""

    text: str
    units: tuple[tuple[str, ...], ...]
    synonyms: tuple[tuple[str, ...], ...]

    @functools.cached_property
    def heads(self) -> frozenset[str]:
        """The first word of each unit and synonym: a ticket with none of them cannot match."""
        return frozenset(phrase[0] for phrase in (*self.units, *self.synonyms) if phrase)


@dataclass
class Rubric:
    """What the instructions say: queues and priority levels with their terms, and rules."""

    queues: dict[str, list[Term]] = field(default_factory=dict)
    levels: dict[str, list[Term]] = field(default_factory=dict)
    at_least: dict[str, str] = field(default_factory=dict)  # queue -> minimum level
    move_up: dict[str, tuple[str, str] | None] = field(default_factory=dict)  # word -> (from, to)
    default_queue: str | None = None


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> int:
    """Where `needle` starts in `haystack` (-1 when absent)."""
    if not needle:
        return -1
    for start in range(len(haystack) - len(needle) + 1):
        if haystack[start : start + len(needle)] == needle:
            return start
    return -1


@functools.lru_cache(maxsize=1024)  # a pure function of the piece; Term is frozen
def make_term(piece: str) -> Term | None:
    units: list[tuple[str, ...]] = []
    negated = False
    for word in piece.lower().split():
        if word in _NEGATION:
            negated = True
        elif not negated and word.strip(".,:;\"'") not in _IGNORED:
            unit = stems(word)
            if unit:
                units.append(unit)
    every = stems(piece)
    synonyms = tuple(
        s for key, group in THESAURUS.items() if _contains(every, key) >= 0 for s in group
    )
    return Term(piece.strip(), tuple(units), synonyms) if units or synonyms else None


def _terms(definition: str) -> list[Term]:
    return [t for piece in _SPLIT.split(definition) if (t := make_term(piece)) is not None]


def _bullets(text: str) -> list[tuple[str, str]]:
    """`(name, definition)` per bullet, with its continuation lines (indented deeper)."""
    found: list[tuple[str, str]] = []
    indent: int | None = None
    for line in text.splitlines():
        match = _BULLET.match(line)
        if match:
            indent = len(match.group(1))
            found.append((match.group(2), match.group(3)))
        elif indent is not None and line.strip() and len(line) - len(line.lstrip()) > indent:
            name, definition = found[-1]
            found[-1] = (name, f"{definition} {line.strip()}")
        else:
            indent = None
    return found


def read_rubric(instructions: str) -> Rubric:
    """The rubric the instructions state (empty when they state none)."""
    rubric = Rubric()
    text = instructions[:MAX_CHARS].lower()
    for name, definition in _bullets(text):
        target = rubric.levels if name in LEVELS else rubric.queues
        target.setdefault(name, []).extend(_terms(definition))
    if not rubric.queues:
        for names in _INLINE.findall(text):
            for name in re.split(r",|\bor\b|\band\b", names):
                if name.strip() and name.strip() not in LEVELS:
                    rubric.queues.setdefault(name.strip(), _terms(name))
    rubric.at_least = dict(_AT_LEAST.findall(text))
    rubric.move_up = {
        word: (low, high) if low else None for word, low, high in _MOVE_UP.findall(text)
    }
    default = _DEFAULT.search(text)
    if default and default.group(1) in rubric.queues:
        rubric.default_queue = default.group(1)
    return rubric


@functools.lru_cache(maxsize=64)
def _rubric_of(instructions: str) -> Rubric:
    """`read_rubric`, once per distinct instructions: a prompt's instructions are the same on
    every call (the ticket is cut out of them) and reading them was most of this model's time.
    The rubric is shared, so it is only read, never changed."""
    return read_rubric(instructions)


@dataclass(frozen=True)
class Ticket:
    """The ticket as stems, with where each stem is in the text (to quote it) and which part
    of the ticket it is in: the subject, the body, or another header line (tier, channel)."""

    text: str
    stems: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    subject: tuple[bool, ...]
    header: tuple[bool, ...]
    where: dict[str, list[int]] = field(default_factory=dict)  # stem -> its positions

    def __post_init__(self) -> None:
        for position, word in enumerate(self.stems):
            self.where.setdefault(word, []).append(position)

    @classmethod
    def read(cls, text: str) -> Ticket:
        text = text[:MAX_CHARS].replace("\u2019", "'")
        # [between, word, between, word, ..., between]: the words as written and where each
        # part starts, in one pass and without a match object per word
        parts = _WORD_PARTS.split(text)
        words: list[str] = parts[1::2]
        starts = list(itertools.accumulate(map(len, parts), initial=0))
        spans = list(zip(starts[1:-1:2], starts[2::2], strict=True))
        if not text.isascii():
            words, spans = _as_lowered(words, spans)
        # Only the first line with words is read as a header (an empty line, or the end of
        # a line, ends the headers once the ticket has a word): its words are flagged.
        subject = header = (False,) * len(words)
        if words:
            line_start = text.rfind("\n", 0, spans[0][0]) + 1
            line_end = text.find("\n", line_start)
            line_end = len(text) if line_end < 0 else line_end
            found = _HEADER.match(text[line_start:line_end])
            if found is not None:
                in_line = bisect.bisect_left(spans, line_end, key=lambda span: span[0])
                flags = (True,) * in_line + (False,) * (len(words) - in_line)
                if found.group(1).lower() == "subject":
                    subject = flags
                else:
                    header = flags
        return cls(text, tuple(map(stem, words)), tuple(spans), subject, header)

    def find(self, phrase: tuple[str, ...]) -> tuple[str, bool] | None:
        """The phrase as the ticket writes it (first place outside the tier and channel
        lines), and whether it is in the subject."""
        for start in self.where.get(phrase[0], ()) if phrase else ():
            end = start + len(phrase)
            if not self.header[start] and self.stems[start:end] == phrase:
                quote = self.text[self.spans[start][0] : self.spans[end - 1][1]]
                return quote, self.subject[start]
        return None

    def mentions(self, word: str) -> bool:
        return stem(word) in self.stems


def _as_lowered(
    words: list[str], spans: list[tuple[int, int]]
) -> tuple[list[str], list[tuple[int, int]]]:
    """The words lower-casing the text gives, as the rubric's terms are read
    (`triage_lexicon.stems`), each placed where the ticket writes it: a dotless i or a long
    s matches `_WORD_PARTS` as written but splits a word once lower-cased, as it splits a
    term. A word whose lower case is longer (a dotted capital I lower-cases to two
    characters) has its parts quoted whole."""
    lowered_words: list[str] = []
    lowered_spans: list[tuple[int, int]] = []
    for word, (start, end) in zip(words, spans, strict=True):
        lowered = word.lower()
        same_places = len(lowered) == len(word)
        for part in WORD.finditer(lowered):
            lowered_words.append(part.group())
            lowered_spans.append(
                (start + part.start(), start + part.end()) if same_places else (start, end)
            )
    return lowered_words, lowered_spans


def match(term: Term, ticket: Ticket) -> tuple[str, bool] | None:
    """The ticket's words that match the term (as written), and whether in the subject."""
    where = ticket.where  # a phrase whose first word the ticket lacks is not looked for
    if where.keys().isdisjoint(term.heads):
        return None
    for synonym in term.synonyms:
        found = ticket.find(synonym) if synonym and synonym[0] in where else None
        if found:
            return found
    hits = [
        found for unit in term.units if unit and unit[0] in where and (found := ticket.find(unit))
    ]
    if hits and len(hits) * 2 >= len(term.units):
        return hits[0][0], any(in_subject for _, in_subject in hits)
    return None


def _matches(terms: list[Term], ticket: Ticket) -> list[tuple[str, bool]]:
    found: list[tuple[str, bool]] = []
    words = ticket.where.keys()
    for term in terms:
        if words.isdisjoint(term.heads):
            continue  # what `match` checks first, without a call per term
        hit = match(term, ticket)
        if hit and hit[0].lower() not in {quote.lower() for quote, _ in found}:
            found.append(hit)
    return found


def _level_terms(rubric: Rubric, level: str) -> list[Term]:
    if rubric.levels:
        return rubric.levels.get(level, [])
    term = make_term(level) if level in {"low", "urgent"} else None
    return [term] if term else []  # a level the prompt names but does not define


def triage_by_rubric(instructions: str, ticket_text: str) -> dict[str, str]:
    """Queue, priority and a rationale quoting the ticket, from the prompt's own rubric."""
    rubric = _rubric_of(instructions)
    ticket = Ticket.read(ticket_text)
    hits = {queue: _matches(terms, ticket) for queue, terms in rubric.queues.items()}
    scores = {
        queue: sum(2 if subject else 1 for _, subject in found) for queue, found in hits.items()
    }
    queues = list(rubric.queues)
    if not queues:
        queue = "unknown"
    elif max(scores.values()) == 0:
        queue = rubric.default_queue or queues[0]
    else:
        # ties: a queue the prompt's rules single out ("security tickets are at least high"),
        # then the first listed
        queue = max(queues, key=lambda q: (scores[q], q in rubric.at_least))
    priority, cues = "normal", []
    for level in ("urgent", "high", "low"):
        found = _matches(_level_terms(rubric, level), ticket)
        if found:
            priority, cues = level, [quote for quote, _ in found]
            break
    notes = []
    floor = rubric.at_least.get(queue)
    if floor and LEVELS.index(priority) < LEVELS.index(floor):
        priority = floor
        notes.append(f"{queue} tickets are at least {floor}")
    for word, step in rubric.move_up.items():
        if not ticket.mentions(word) or priority == "urgent":
            continue
        if step is None or priority == step[0]:
            priority = step[1] if step else LEVELS[LEVELS.index(priority) + 1]
            notes.append(f"{word} moves up to {priority}")
    said = ", ".join(f'"{quote}"' for quote, _ in hits.get(queue, [])[:3]) or "no rubric term"
    why = ", ".join([*(f'"{cue}"' for cue in cues[:3]), *notes]) or "no urgency cue"
    return {
        "queue": queue,
        "priority": priority,
        "rationale": f"{queue}: {said}; {priority}: {why}",
    }


def rubric_model(
    messages: list[dict[str, Any]], text_of: Callable[[dict[str, Any]], str]
) -> dict[str, Any]:
    """The model's answer to `messages` (`triage.py` passes its message reader in)."""
    readable = [m for m in messages if isinstance(m, dict)]
    everything = "\n".join(text_of(m) for m in readable)
    # One pass finds every <ticket>...</ticket>: [outside, inside, outside, ..., outside].
    # The ticket is inside the first one; the instructions are the rest, each tag a space.
    parts = _TICKET_TAG.split(everything)
    if len(parts) > 1:
        ticket = parts[1].strip()
    else:
        users = [text_of(m) for m in readable if m.get("role") == "user"]
        ticket = users[-1] if users else ""
    instructions = " ".join(parts[0::2])
    return triage_by_rubric(instructions, ticket)
