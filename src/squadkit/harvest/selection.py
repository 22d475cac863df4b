"""Which logged inferences a reviewer should see: the selection behind `squad harvest`.

Two passes over the log, both streamed, so memory stays bounded whatever its size:

1. the *light* pass reads, newest first, only what the choice needs (id, prompt version,
   fallback, online scores, the inputs' hash, whether content was kept, the feedback joined
   on the id) through a server-side cursor (`stream_results`, `yield_per`); it keeps at
   most `limit` picks per reason (`limit` in all, what a person flagged first) and a seeded
   reservoir of `sample` per prompt version (added on top of `limit`);
2. the *content* pass fetches inputs, output and feedback of the few picked ids only.

An inference is picked for a correction (`correction` feedback), negative feedback (a
boolean metric false, a number below its threshold: `--below METRIC=VALUE`, else the
metric's `review_below` in config/feedback.yaml, else the middle of its declared range),
an online score below `min_score`, an answer a fallback gave, or the stratified sample.
It is dropped when its inputs are already a dataset case (same SHA-256 of the canonical
input JSON, or a case whose provenance names it) or were rejected before; the newest
inference of an input stands for its duplicates.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Text, and_, select, type_coerce

from ..errors import ConfigError
from ..inferences import FEEDBACK, INFERENCES, FeedbackConfig, InferenceStore
from .candidates import REASONS, Candidate, FeedbackSeen, Reason, propose_expected

__all__ = ["HarvestOptions", "HarvestResult", "Known", "NoContentLogged", "select_candidates"]

CONTENT_SETTING = "SQUAD_INFERENCE_LOG_CAPTURE_CONTENT=true"


class NoContentLogged(ConfigError):
    """The log has the feature's inferences but kept only hashes: nothing to review."""


@dataclass(frozen=True)
class HarvestOptions:
    """What `squad harvest` was asked for."""

    feature: str
    since: datetime | None = None
    limit: int = 200
    sample: int = 0
    seed: int = 0
    min_score: float = 0.5
    below: dict[str, float] = field(default_factory=dict)
    chunk: int = 5000


@dataclass
class Known:
    """Inputs (by hash) and inferences the dataset already holds or a reviewer rejected."""

    in_dataset: set[str] = field(default_factory=set)
    rejected: set[str] = field(default_factory=set)
    expected_keys: list[str] = field(default_factory=list)


@dataclass
class HarvestResult:
    candidates: list[Candidate]
    scanned: int = 0
    without_content: int = 0
    in_dataset: int = 0
    rejected_before: int = 0
    duplicates: int = 0
    over_limit: int = 0
    unreadable: int = 0
    """Picked, but the logged inputs are no JSON object (redaction cut through one)."""
    picked: Counter[str] = field(default_factory=Counter)


@dataclass
class _Pick:
    inference_id: str
    inputs_sha256: str
    reasons: list[Reason]


def select_candidates(
    store: InferenceStore, config: FeedbackConfig, known: Known, options: HarvestOptions
) -> HarvestResult:
    """The candidates of `options.feature`, newest first within each reason (see module)."""
    result = HarvestResult(candidates=[])
    with store.reaching("read the inference log"):
        episodes = _episode_feedback(store)
        picks = _light_pass(store, _Selector(config, known, options, result, episodes))
        if result.scanned and result.scanned == result.without_content:
            raise NoContentLogged(
                f"inference log {store.safe_url}: the {result.scanned} inference(s) of "
                f"'{options.feature}' keep no content (only hashes), so there is nothing to "
                f"review; set {CONTENT_SETTING} on the service and harvest again later"
            )
        result.candidates = list(_content_pass(store, picks, episodes, known))
        result.unreadable = len(picks) - len(result.candidates)
    for candidate in result.candidates:
        result.picked.update(candidate.reasons)
    return result


def _episode_feedback(store: InferenceStore) -> dict[str, list[FeedbackSeen]]:
    """Feedback sent on an episode rather than an inference, by episode id."""
    query = select(FEEDBACK.c.episode_id, FEEDBACK.c.metric, FEEDBACK.c.kind, FEEDBACK.c.value)
    query = query.where(FEEDBACK.c.inference_id.is_(None), FEEDBACK.c.episode_id.is_not(None))
    found: dict[str, list[FeedbackSeen]] = {}
    with store.engine.connect() as connection:
        for row in connection.execution_options(stream_results=True).execute(query):
            seen = FeedbackSeen(metric=row.metric, kind=row.kind, value=row.value, on="episode")
            found.setdefault(row.episode_id, []).append(seen)
    return found


def _light_query(options: HarvestOptions) -> Any:
    """The feature's answered inferences, newest first, joined with their feedback."""
    inferences = INFERENCES.c
    query = (
        select(
            inferences.id,
            inferences.prompt,
            inferences.prompt_version,
            inferences.episode_id,
            inferences.fallback_used,
            type_coerce(inferences.scores, Text).label("scores"),
            inferences.inputs_sha256,
            inferences.inputs.is_not(None).label("has_content"),
            FEEDBACK.c.kind,
            FEEDBACK.c.metric,
            FEEDBACK.c.value,
        )
        .select_from(INFERENCES.outerjoin(FEEDBACK, FEEDBACK.c.inference_id == inferences.id))
        .where(and_(inferences.feature == options.feature, inferences.outcome == "ok"))
        .order_by(inferences.id.desc())
    )
    if options.since is not None:
        query = query.where(inferences.created_at >= options.since)
    return query


class _Selector:
    """The light pass's state: at most `limit` picks per first reason, one seeded
    reservoir of `sample` picks per prompt version.

    `offer` runs once per logged inference (a million in the benchmark): it unpacks the
    row once, and the common row (no feedback, no score, no fallback) costs two set
    lookups and a counter; the reservoir draws random numbers only when a row enters it
    (Li's Algorithm L), not for every row.
    """

    def __init__(
        self,
        config: FeedbackConfig,
        known: Known,
        options: HarvestOptions,
        result: HarvestResult,
        episodes: dict[str, list[FeedbackSeen]],
    ) -> None:
        self.config, self.known, self.options, self.result = config, known, options, result
        self.episodes = episodes
        self.flagged: dict[str, _Pick] = {}
        self.per_reason: Counter[Reason] = Counter()
        self.reservoirs: dict[tuple[str | None, int | None], _Reservoir] = {}
        self.rng = random.Random(options.seed)  # noqa: S311 - a reproducible sample, no secret

    def offer(self, row: Any, feedback: list[tuple[str, str, Any]]) -> None:
        identifier, prompt, version, episode, fallback, scores, digest, content = row[:8]
        result, known = self.result, self.known
        result.scanned += 1
        if not content or digest is None:
            result.without_content += 1
            return
        if digest in known.in_dataset or identifier in known.in_dataset:
            result.in_dataset += 1
            return
        if digest in known.rejected or identifier in known.rejected:
            result.rejected_before += 1
            return
        if episode is not None and episode in self.episodes:
            feedback = feedback + [(f.kind, f.metric, f.value) for f in self.episodes[episode]]
        if feedback or scores or fallback:
            self._flag(identifier, digest, _reasons(fallback, scores, feedback, self))
        if self.options.sample:
            stratum = (prompt, version)
            reservoir = self.reservoirs.get(stratum)
            if reservoir is None:
                reservoir = self.reservoirs[stratum] = _Reservoir(self.options.sample, self.rng)
            reservoir.offer(identifier, digest)

    def _flag(self, identifier: str, digest: str, reasons: list[Reason]) -> None:
        if not reasons:
            return
        if digest in self.flagged:
            self.result.duplicates += 1
        elif self.per_reason[reasons[0]] >= self.options.limit:
            self.result.over_limit += 1
        else:
            self.per_reason[reasons[0]] += 1
            self.flagged[digest] = _Pick(identifier, digest, reasons)

    def picks(self) -> list[_Pick]:
        """The flagged picks by reason, up to `limit`, then the sample of each version
        (asked for by number: `limit` does not cut it)."""
        picks = sorted(self.flagged.values(), key=lambda pick: REASONS.index(pick.reasons[0]))
        self.result.over_limit += max(0, len(picks) - self.options.limit)
        picks = picks[: self.options.limit]
        for stratum in sorted(self.reservoirs, key=lambda key: (key[0] or "", key[1] or 0)):
            for identifier, digest in self.reservoirs[stratum].kept:
                if digest in self.flagged:  # flagged already, or sampled in two versions
                    continue
                self.flagged[digest] = _Pick(identifier, digest, ["sample"])
                picks.append(self.flagged[digest])
        return picks


class _Reservoir:
    """A uniform sample of `size` of the items offered, whatever their number (Algorithm L:
    after the first `size`, the gap to the next item that enters is drawn at once)."""

    def __init__(self, size: int, rng: random.Random) -> None:
        self.size, self.rng = size, rng
        self.kept: list[tuple[str, str]] = []
        self.seen = 0
        self.weight = 1.0
        self.next = size

    def offer(self, identifier: str, digest: str) -> None:
        self.seen += 1
        if self.seen <= self.size:
            self.kept.append((identifier, digest))
            if self.seen == self.size:
                self._draw()
            return
        if self.seen == self.next:
            self.kept[self.rng.randrange(self.size)] = (identifier, digest)
            self._draw()

    def _draw(self) -> None:
        rng = self.rng
        self.weight *= math.exp(math.log(1.0 - rng.random()) / self.size)
        self.weight = min(self.weight, 1.0 - 1e-12)
        gap = math.floor(math.log(1.0 - rng.random()) / math.log(1.0 - self.weight))
        self.next += gap + 1


def _light_pass(store: InferenceStore, selector: _Selector) -> list[_Pick]:
    """Stream the light query; the rows of one inference (one per feedback) are adjacent."""
    offer = selector.offer
    with store.engine.connect() as connection:
        streamed = connection.execution_options(
            stream_results=True, yield_per=selector.options.chunk
        )
        current: Any = None
        feedback: list[tuple[str, str, Any]] = []
        for row in streamed.execute(_light_query(selector.options)):
            if current is not None and row[0] == current[0]:
                feedback.append((row[8], row[9], row[10]))
                continue
            if current is not None:
                offer(current, feedback)
            current = row
            feedback = [] if row[8] is None else [(row[8], row[9], row[10])]
        if current is not None:
            offer(current, feedback)
    return selector.picks()


def _reasons(
    fallback: bool, scores: Any, feedback: list[tuple[str, str, Any]], selector: _Selector
) -> list[Reason]:
    config, options = selector.config, selector.options
    reasons: list[Reason] = []
    if any(kind == "correction" for kind, _, _ in feedback):
        reasons.append("correction")
    if any(_negative(kind, metric, value, config, options) for kind, metric, value in feedback):
        reasons.append("negative_feedback")
    if scores:
        # SQLite hands the column's text over (parsed only here, for the few with scores);
        # psycopg parses json columns itself.
        scores = json.loads(scores) if isinstance(scores, str) else scores
        if isinstance(scores, dict) and any(
            isinstance(v, int | float) and v < options.min_score for v in scores.values()
        ):
            reasons.append("low_score")
    if fallback:
        reasons.append("fallback")
    return reasons


def _negative(
    kind: str, metric: str, value: Any, config: FeedbackConfig, options: HarvestOptions
) -> bool:
    """A boolean false, or a number under its threshold (given, else mid-range)."""
    if kind == "boolean":
        return value is False
    if kind != "number" or isinstance(value, bool) or not isinstance(value, int | float):
        return False
    threshold = options.below.get(metric)
    declared = config.metrics.get(metric)
    if threshold is None and declared is not None:
        threshold = declared.review_below
        low, high = declared.min, declared.max
        if threshold is None and low is not None and high is not None:
            threshold = (low + high) / 2
    return threshold is not None and value < threshold


def _content_pass(
    store: InferenceStore,
    picks: list[_Pick],
    episodes: dict[str, list[FeedbackSeen]],
    known: Known,
) -> Iterator[Candidate]:
    """The picked inferences with their content and feedback, in the order of `picks`."""
    inferences = INFERENCES.c
    for start in range(0, len(picks), 500):
        chunk = picks[start : start + 500]
        ids = [pick.inference_id for pick in chunk]
        with store.engine.connect() as connection:
            rows = {
                row.id: row
                for row in connection.execute(select(INFERENCES).where(inferences.id.in_(ids)))
            }
            feedback: dict[str, list[FeedbackSeen]] = {}
            query = (
                select(
                    FEEDBACK.c.inference_id, FEEDBACK.c.metric, FEEDBACK.c.kind, FEEDBACK.c.value
                )
                .where(FEEDBACK.c.inference_id.in_(ids))
                .order_by(FEEDBACK.c.created_at)
            )
            for given in connection.execute(query):
                seen = FeedbackSeen(metric=given.metric, kind=given.kind, value=given.value)
                feedback.setdefault(given.inference_id, []).append(seen)
        for pick in chunk:
            row = rows.get(pick.inference_id)
            candidate = None if row is None else _candidate(row, pick, feedback, episodes, known)
            if candidate is not None:
                yield candidate


def _candidate(
    row: Any,
    pick: _Pick,
    feedback: dict[str, list[FeedbackSeen]],
    episodes: dict[str, list[FeedbackSeen]],
    known: Known,
) -> Candidate | None:
    try:
        inputs = json.loads(row.inputs)
    except (TypeError, ValueError):  # redaction that broke the JSON: nothing to replay
        return None
    if not isinstance(inputs, dict):
        return None
    output: Any = row.output
    if isinstance(output, str):
        with contextlib.suppress(ValueError):  # a plain-text answer stays text
            output = json.loads(output)
    seen = feedback.get(row.id, []) + (episodes.get(row.episode_id, []) if row.episode_id else [])
    created = row.created_at
    return Candidate(
        inference_id=row.id,
        created_at=created.isoformat() if isinstance(created, datetime) else str(created),
        feature=row.feature,
        prompt=row.prompt,
        prompt_version=row.prompt_version,
        prompt_hash=row.prompt_hash,
        reasons=pick.reasons,
        inputs=inputs,
        inputs_sha256=pick.inputs_sha256,
        output=output,
        feedback=seen,
        scores=row.scores or {},
        proposed_expected=propose_expected(output, seen, known.expected_keys),
    )
