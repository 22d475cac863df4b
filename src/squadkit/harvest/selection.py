"""Which logged inferences a reviewer should see: the selection behind `squad harvest`.

Two passes over the log, both streamed, so memory stays bounded whatever its size:

1. the *light* pass reads, newest first, only what the choice needs (id, prompt version,
   fallback, online scores, the inputs' hash, whether content was kept, the feedback joined
   on the id) through a server-side cursor (`stream_results`, `yield_per`); it keeps at
   most `limit` picks per reason and a seeded reservoir of `sample` per prompt version;
2. the *content* pass fetches inputs, output and feedback of the few picked ids only.

An inference is picked for a correction (`correction` feedback), negative feedback (a
boolean metric false, a number below its threshold: `--below METRIC=VALUE`, else the middle
of the metric's declared range), an online score below `min_score`, an answer a fallback
gave, or the stratified sample. It is dropped when its inputs are already a dataset case
(same SHA-256 of the canonical input JSON, or a case whose provenance names it) or were
rejected before; the newest inference of an input stands for its duplicates.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections import Counter
from collections.abc import Iterable, Iterator
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
        picks = _light_pass(store, _Selector(config, known, options, result), episodes)
        if result.scanned and result.scanned == result.without_content:
            raise NoContentLogged(
                f"inference log {store.safe_url}: the {result.scanned} inference(s) of "
                f"'{options.feature}' keep no content (only hashes), so there is nothing to "
                f"review; set {CONTENT_SETTING} on the service and harvest again later"
            )
        result.candidates = list(_content_pass(store, picks, episodes, known))
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
    reservoir of `sample` picks per prompt version."""

    def __init__(
        self, config: FeedbackConfig, known: Known, options: HarvestOptions, result: HarvestResult
    ) -> None:
        self.config, self.known, self.options, self.result = config, known, options, result
        self.flagged: dict[str, _Pick] = {}
        self.per_reason: Counter[Reason] = Counter()
        self.reservoirs: dict[tuple[str | None, int | None], list[_Pick]] = {}
        self.stratum_seen: Counter[tuple[str | None, int | None]] = Counter()
        self.rng = random.Random(options.seed)  # noqa: S311 - a reproducible sample, no secret

    def offer(self, group: list[Any], episodes: dict[str, list[FeedbackSeen]]) -> None:
        first, result = group[0], self.result
        result.scanned += 1
        digest = first.inputs_sha256
        if not first.has_content or digest is None:
            result.without_content += 1
            return
        if digest in self.known.in_dataset or first.id in self.known.in_dataset:
            result.in_dataset += 1
            return
        if digest in self.known.rejected or first.id in self.known.rejected:
            result.rejected_before += 1
            return
        feedback = [(row.kind, row.metric, row.value) for row in group if row.kind]
        feedback += [(f.kind, f.metric, f.value) for f in episodes.get(first.episode_id, [])]
        reasons = _reasons(first, feedback, self.config, self.options)
        if not reasons:
            pass
        elif digest in self.flagged:
            result.duplicates += 1
        elif self.per_reason[reasons[0]] >= self.options.limit:
            result.over_limit += 1
        else:
            self.per_reason[reasons[0]] += 1
            self.flagged[digest] = _Pick(first.id, digest, reasons)
        if self.options.sample:
            stratum = (first.prompt, first.prompt_version)
            self.stratum_seen[stratum] += 1
            kept = self.reservoirs.setdefault(stratum, [])
            pick = _Pick(first.id, digest, ["sample"])
            _reservoir(kept, pick, self.stratum_seen[stratum], self.options.sample, self.rng)

    def picks(self) -> list[_Pick]:
        """The flagged picks by reason, then the sample by prompt version, up to `limit`."""
        picks = sorted(self.flagged.values(), key=lambda pick: REASONS.index(pick.reasons[0]))
        for stratum in sorted(self.reservoirs, key=lambda key: (key[0] or "", key[1] or 0)):
            for pick in self.reservoirs[stratum]:
                if pick.inputs_sha256 in self.flagged:  # flagged, or sampled in two versions
                    continue
                self.flagged[pick.inputs_sha256] = pick
                picks.append(pick)
        self.result.over_limit += max(0, len(picks) - self.options.limit)
        return picks[: self.options.limit]


def _light_pass(
    store: InferenceStore,
    selector: _Selector,
    episodes: dict[str, list[FeedbackSeen]],
) -> list[_Pick]:
    with store.engine.connect() as connection:
        streamed = connection.execution_options(
            stream_results=True, yield_per=selector.options.chunk
        )
        for group in _by_inference(streamed.execute(_light_query(selector.options))):
            selector.offer(group, episodes)
    return selector.picks()


def _by_inference(rows: Iterable[Any]) -> Iterator[list[Any]]:
    """The joined rows grouped per inference (consecutive: the query orders by id)."""
    group: list[Any] = []
    for row in rows:
        if group and row.id != group[0].id:
            yield group
            group = []
        group.append(row)
    if group:
        yield group


def _reasons(
    row: Any,
    feedback: list[tuple[str, str, Any]],
    config: FeedbackConfig,
    options: HarvestOptions,
) -> list[Reason]:
    reasons: list[Reason] = []
    if any(kind == "correction" for kind, _, _ in feedback):
        reasons.append("correction")
    if any(_negative(kind, metric, value, config, options) for kind, metric, value in feedback):
        reasons.append("negative_feedback")
    if row.scores:
        # SQLite hands the column's text over (parsed only here, for the few with scores);
        # psycopg parses json columns itself.
        scores = json.loads(row.scores) if isinstance(row.scores, str) else row.scores
        if isinstance(scores, dict) and any(
            isinstance(v, int | float) and v < options.min_score for v in scores.values()
        ):
            reasons.append("low_score")
    if row.fallback_used:
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
    low, high = (None, None) if declared is None else (declared.min, declared.max)
    if threshold is None and low is not None and high is not None:
        threshold = (low + high) / 2
    return threshold is not None and value < threshold


def _reservoir(kept: list[_Pick], pick: _Pick, seen: int, size: int, rng: random.Random) -> None:
    """Algorithm R: after `seen` items, each is in `kept` with probability size/seen."""
    if len(kept) < size:
        kept.append(pick)
        return
    slot = rng.randrange(seen)
    if slot < size:
        kept[slot] = pick


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
