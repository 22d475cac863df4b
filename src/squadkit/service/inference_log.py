"""The service's side of the inference log: an id per answer, a row per id, off the hot path.

`serve_feature` asks `InferenceLog.begin` for an `Inference` before running a feature: it
issues the id (UUIDv7, `squadkit.inferences.ids`), puts it in the request's state (the
guard sends it as `X-Inference-Id`, the error handlers put it in the problem details) and
collects, while the feature runs, each completion the gateway returns (through
`CapturingObserver`) and the online scores the observer samples (`score_sink`). `finish`
turns that into an `InferenceRecord` (a few fields, the SHA-256 and length of the inputs
and of the output) and appends it to the writer's queue; the writer's thread inserts it.
The record is built on the request path because building it on the writer's thread, from
the inference's objects kept alive in the queue until the next batch, cost more in all.
Measured side by side: in process, a request took 585 us of CPU against 598 us (medians
of ten runs each); served under load, the writer's thread used 19-38 us a request against
35-61 us (three runs each). Content kept by opt-in (`inference_log_capture_content`) is
still built on the writer's thread: redacting it takes time linear in the text (a body
may be `SQUAD_SERVICE_MAX_BODY_BYTES`), which stays off the request path.

The writer's counts are served on /metrics by one process-wide collector (several apps
may live in one process, as in the tests): `squad_inference_log_written_total`,
`squad_inference_log_dropped_total` and `squad_inference_log_write_errors_total`, and
`squad_inference_log_lost_total`: rows a killed process had queued but not stored, found in
its ledger (`squadkit.inferences.ledger`) at start-up and reported in one warning line each;
each answer logged counts in `squad_inferences_total` per prompt version (`metrics`), the
denominator of the feedback rate.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..calls import CallContext, Completion, GatewayObserver, RouterCall
from ..inferences import (
    FeedbackWriter,
    InferenceLogWriter,
    InferenceRecord,
    InferenceStore,
    UnsettledRows,
    WriteLedger,
    canonical_json,
    content_of,
    default_sqlite_url,
    reclaim,
    uuid7,
)
from ..observability import persistence_redactor, score_sink
from .metrics import count_inference

if TYPE_CHECKING:
    from ..settings import Settings

log = logging.getLogger(__name__)

_completions: ContextVar[list[Completion] | None] = ContextVar(
    "squad_inference_completions", default=None
)


class CapturingObserver:
    """The gateway's observer in the service: `inner`'s, plus each completion of a call made
    while an inference is being collected (`_completions` set by `Inference`)."""

    def __init__(self, inner: GatewayObserver) -> None:
        self.inner = inner

    def on_call_start(self, call: CallContext) -> None:
        self.inner.on_call_start(call)

    def on_attempt(self, call: CallContext, attempt: RouterCall) -> None:
        self.inner.on_attempt(call, attempt)

    def on_call_end(
        self, call: CallContext, completion: Completion | None, error: BaseException | None
    ) -> None:
        self.inner.on_call_end(call, completion, error)
        sink = _completions.get()
        if sink is not None and completion is not None:
            sink.append(completion)


@dataclass
class Inference:
    """One feature call being logged; see the module docstring."""

    id: str
    feature: str
    request_id: str
    caller: str | None
    episode_id: str | None
    started: float = field(default_factory=time.perf_counter)
    completions: list[Completion] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    experiment: str | None = None
    arm: str | None = None
    forced: bool = False
    _tokens: tuple[Token[Any], Token[Any]] | None = None

    def __enter__(self) -> Inference:
        self._tokens = (_completions.set(self.completions), score_sink.set(self.scores))
        return self

    def __exit__(self, *_: object) -> None:
        if self._tokens is not None:
            _completions.reset(self._tokens[0])
            score_sink.reset(self._tokens[1])


class InferenceLog:
    """The process's inference log: the store, its writer and the content policy."""

    def __init__(self, settings: Settings) -> None:
        self.capture_content = settings.inference_log_capture_content
        self._redact = persistence_redactor(settings)
        store = InferenceStore(settings.inference_log_url or default_sqlite_url(settings.root))
        try:
            revision = store.migrate()
            pruned = store.prune(settings.inference_log_retention_days)
            log.info(
                "inference log: %s at revision %s; %d row(s) older than %s day(s) pruned",
                store.safe_url,
                revision,
                pruned,
                settings.inference_log_retention_days,
            )
            migrated = True
        except Exception as error:  # a store that is down must not stop the service
            log.error(
                "inference log: %s unreachable at start-up (%s); answers are served and "
                "rows counted as write errors until it is back",
                store.safe_url,
                type(error).__name__,
            )
            migrated = False
        self.writer = InferenceLogWriter(
            store,
            queue_size=settings.inference_log_queue_size,
            flush_interval_s=settings.inference_log_flush_interval_s,
            migrated=migrated,
            ledger=_ledger(ledger_folder(settings, store), store, migrated=migrated),
        )
        _live.add(self.writer)
        self.feedback = FeedbackWriter(store)
        """Stores `POST /v1/feedback`'s rows in batches the callers wait for."""

    def begin(
        self, feature: str, *, request_id: str, caller: str | None, episode_id: str | None
    ) -> Inference:
        return Inference(uuid7(), feature, request_id, caller, episode_id)

    def finish(
        self,
        inference: Inference,
        *,
        inputs: Any,
        output: Any,
        outcome: str,
        label: str | None,
        answer: Callable[[Any], Any] | None = None,
    ) -> None:
        """Queue the row of `inference` (never raises: logging must not fail an answer).

        `answer` picks what is stored of a declared feature's `output`: the part the evals
        score (`Feature.answer_of`), not the per-call provenance.
        """
        try:
            answered = inference.completions[-1].prompt if inference.completions else None
            count_inference(
                inference.feature,
                answered.name if answered else None,
                answered.version if answered else None,
                outcome,
            )
            if answer is not None and outcome == "ok":
                output = answer(output)
            created_at = datetime.now(UTC)
            latency_ms = (time.perf_counter() - inference.started) * 1000
            build = partial(
                self._record,
                inference,
                inputs=inputs,
                output=output,
                outcome=outcome,
                label=label,
                created_at=created_at,
                latency_ms=latency_ms,
            )
            self.writer.submit(build if self.capture_content else _built(build))
        except Exception:  # pragma: no cover - defensive
            log.exception("inference log: could not queue the row of %s", inference.id)

    def close(self) -> None:
        """Write every queued row and feedback (the lifespan's shutdown, after in-flight
        requests)."""
        self.feedback.close()
        self.writer.close()
        _live.discard(self.writer)

    def _record(
        self,
        inference: Inference,
        *,
        inputs: Any,
        output: Any,
        outcome: str,
        label: str | None,
        created_at: datetime,
        latency_ms: float,
    ) -> InferenceRecord:
        answered = inference.completions[-1] if inference.completions else None
        prompt = answered.prompt if answered is not None else None
        if output is not None and not isinstance(output, str):
            output = canonical_json(output)
        elif output is None and answered is not None and outcome == "ok":
            output = answered.text
        keep, redact = self.capture_content, self._redact
        return InferenceRecord(
            id=inference.id,
            created_at=created_at,
            request_id=inference.request_id,
            feature=inference.feature,
            outcome=outcome,
            caller=inference.caller,
            episode_id=inference.episode_id,
            prompt=prompt.name if prompt else None,
            prompt_version=prompt.version if prompt else None,
            prompt_label=prompt.label if prompt else label,
            prompt_hash=prompt.content_hash if prompt else None,
            alias=answered.alias if answered else None,
            deployment=answered.deployment if answered else None,
            fallback_used=any(c.fallback_used for c in inference.completions),
            attempts=sum(c.attempts for c in inference.completions),
            latency_ms=latency_ms,
            input_tokens=sum(c.input_tokens for c in inference.completions),
            output_tokens=sum(c.output_tokens for c in inference.completions),
            cost_usd=sum(c.cost_usd for c in inference.completions),
            scores=dict(inference.scores),
            inputs=content_of(
                None if inputs is None else canonical_json(inputs), keep=keep, redact=redact
            ),
            output=content_of(output, keep=keep, redact=redact),
            experiment=inference.experiment,
            arm=inference.arm,
            forced=inference.forced,
        )


def _built(build: Callable[[], InferenceRecord]) -> InferenceRecord | Callable[[], InferenceRecord]:
    """The record `build` makes, or `build` itself when it raises: the writer runs it
    again and counts and logs the row it cannot build, as for any unbuildable row."""
    try:
        return build()
    except Exception:
        return build


def ledger_folder(settings: Settings, store: InferenceStore) -> Path:
    """Where the writers' ledgers live: beside a SQLite file, else the repo's `.squad/`
    (a PostgreSQL store is shared, a ledger belongs to the host that ran the process)."""
    url = store.engine.url
    if store.engine.dialect.name == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent
    return settings.root / ".squad"


def _ledger(folder: Path, store: InferenceStore, *, migrated: bool) -> WriteLedger | None:
    """Report what killed processes left in `folder`, then this process's own ledger (none,
    and a warning, when the folder is not writable: the log works without one)."""
    try:
        for dead in reclaim(folder):
            report_lost(dead, store, migrated=migrated)
        return WriteLedger.open(folder, store.safe_url)
    except OSError as error:
        log.warning(
            "inference log: no ledger in %s (%s): rows lost to a kill -9 will not be counted",
            folder,
            error,
        )
        return None


def report_lost(dead: UnsettledRows, store: InferenceStore, *, migrated: bool) -> int:
    """One warning line and the lost counter for a killed process's unwritten rows."""
    committed = False
    if dead.in_flight is not None and migrated and dead.store == store.safe_url:
        try:
            committed = store.contains(dead.in_flight.first_id)
        except Exception:  # unknown: count the batch as lost (an upper bound)
            committed = False
    lost = dead.lost(in_flight_committed=committed)
    if lost:
        _lost[0] += lost
        log.warning(
            "inference log: %d row(s) lost: process %d (started %s) was killed before "
            "writing them to %s",
            lost,
            dead.pid,
            datetime.fromtimestamp(dead.started_at, UTC).isoformat(timespec="seconds"),
            dead.store,
            extra={
                "event": "inference_log.lost",
                "lost_rows": lost,
                "pid": dead.pid,
                "accepted_rows": dead.accepted,
                "store": dead.store,
            },
        )
    return lost


_live: set[InferenceLogWriter] = set()
_lost = [0]
_collector_lock = threading.Lock()
_collector_registered = [False]


class _Collector:
    """prometheus_client collector of every live writer's counts (summed)."""

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily  # noqa: PLC0415

        writers = list(_live)
        for name, help_text, attribute in (
            ("squad_inference_log_written", "Inference log rows written.", "written"),
            (
                "squad_inference_log_dropped",
                "Inference log rows dropped because the write queue was full.",
                "dropped",
            ),
            (
                "squad_inference_log_write_errors",
                "Inference log rows lost because the store refused the write (down?).",
                "write_errors",
            ),
        ):
            total = sum(getattr(writer.stats, attribute) for writer in writers)
            yield CounterMetricFamily(name, help_text, value=total)
        yield CounterMetricFamily(
            "squad_inference_log_lost",
            "Inference log rows a killed process had queued but not written (found at start-up).",
            value=_lost[0],
        )


def register_metrics() -> None:
    """Put the inference log's counters on prometheus_client's registry (once per process)."""
    with _collector_lock:
        if _collector_registered[0]:
            return
        from prometheus_client import REGISTRY  # noqa: PLC0415

        REGISTRY.register(_Collector())
        _collector_registered[0] = True
