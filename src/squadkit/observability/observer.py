"""`GenAIObserver`: what the gateway tells observability about each model call.

It implements the gateway's `GatewayObserver` hook: `on_call_start`, `on_attempt` after
each Router call (its failed tries, i.e. retries and fallbacks, and the answer), and
`on_call_end` with the completion or the error. From that the observer produces, in one
place and following the GenAI semantic conventions (see `semconv.py`; the attribute
mapping is `attributes.py`):

- a `chat {model}` span with the request, response, usage, prompt and routing attributes,
  one `squad.gateway.attempt` event per attempt, and `gen_ai.evaluation.result` events for
  sampled online quality scores;
- the client metrics (duration, token usage), cost, fallbacks, provider errors by type,
  invalid outputs, quality scores, grounding failures and drift;
- the degraded gauge, per alias, whenever the service reads the gateway's cooldowns
  (`on_degraded`: each `/metrics` scrape and `/readyz` probe);
- one structured log line per call (and per failed attempt).

Telemetry backends are pluggable (`Telemetry`, in `telemetry.py`): the OpenTelemetry one
when the SDK is installed and enabled, otherwise `NoTelemetry` and the observer degrades to
logs only.
Content (messages, answers) is recorded only when `capture_content` is on, and redacted.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import semconv as sc
from .attributes import (
    failure_attributes,
    inputs_text,
    messages_json,
    prompt_attributes,
    prompt_fields,
    request_attributes,
)
from .quality import Answer, DriftMonitor, QualitySampler, Scorer, score_sink
from .redaction import Redactor
from .telemetry import NO_SPAN, Attributes, NoTelemetry, SpanHandle, Telemetry

if TYPE_CHECKING:  # the gateway's types; observability never imports the gateway at run time
    from ..calls import CallContext, Completion, PromptRef, RouterCall

__all__ = ["CallRecord", "GenAIObserver"]

logger = logging.getLogger(__name__)


@dataclass
class CallRecord:
    """One gateway call in flight, kept between `on_call_start` and `on_call_end`."""

    alias: str
    request_model: str
    prompt: PromptRef | None
    messages: Sequence[Mapping[str, Any]]
    output_schema: Mapping[str, Any] | None
    span: SpanHandle
    started: float
    attempts: int = 0
    base: Attributes = field(default_factory=dict)
    key: tuple[str, str, PromptRef | None] | None = None
    """What `base` depends on: the key of the metric attributes cached for it."""


MAX_CACHED_ATTRIBUTES = 1024
"""Distinct (model, alias, prompt version) attribute sets the observer keeps built; past
that the cache starts again (a process serves a handful)."""


Recorder = Callable[[float], None]
_Answered = tuple[Attributes, Recorder, Recorder, Recorder]
"""An answering deployment's metric attributes, and its bound duration and token series."""


class GenAIObserver:
    """The gateway's observer: spans, metrics, quality signals and logs for each call.

    Implements the gateway's `GatewayObserver` protocol. Every hook swallows its own
    errors (logged at debug): telemetry must never fail a model call.
    """

    def __init__(
        self,
        telemetry: Telemetry | None = None,
        *,
        capture_content: bool = False,
        redactor: Redactor | None = None,
        sampler: QualitySampler | None = None,
        scorers: Sequence[Scorer] = (),
        drift: DriftMonitor | None = None,
        operation: str = "chat",
    ) -> None:
        self.telemetry: Telemetry = telemetry or NoTelemetry()
        self.capture_content = capture_content
        self._redact = redactor or Redactor(())
        self._sampler = sampler or QualitySampler(0.0)
        self._scorers = list(scorers)
        self._drift = drift
        self._operation = operation
        self._calls: dict[str, CallRecord] = {}
        # The attributes every call of one (model, alias, prompt version) shares, built once:
        # the base set and the span name, and the metric sets of each answering deployment.
        # The telemetry backends copy what they are given, so the dicts are shared unchanged.
        self._bases: dict[tuple[str, str, PromptRef | None], tuple[Attributes, str]] = {}
        self._answered: dict[tuple[Any, ...], _Answered] = {}
        # The online quality series, by metric and attribute values (prompt, version, scorer).
        self._scored: dict[tuple[Any, ...], Recorder] = {}
        self._bound_to: Telemetry | None = None  # the backend these series are bound to

    # -- GatewayObserver ------------------------------------------------------------------

    def on_call_start(self, call: CallContext) -> None:
        try:
            self._calls[call.call_id] = self._start(call)
        except Exception:  # pragma: no cover - defensive: never fail the call
            logger.debug("observer: on_call_start failed", exc_info=True)

    def on_attempt(self, call: CallContext, attempt: RouterCall) -> None:
        record = self._calls.get(call.call_id)
        if record is None:
            return
        try:
            self._attempt(record, attempt)
        except Exception:  # pragma: no cover - defensive
            logger.debug("observer: on_attempt failed", exc_info=True)

    def on_call_end(
        self, call: CallContext, completion: Completion | None, error: BaseException | None
    ) -> None:
        record = self._calls.pop(call.call_id, None)
        if record is None:
            return
        try:
            if completion is not None:
                self._succeeded(record, completion)
            else:
                self._failed(record, error)
        except Exception:  # pragma: no cover - defensive
            logger.debug("observer: on_call_end failed", exc_info=True)
            record.span.end("_OTHER")

    # -- the gateway's cooldowns, as the service reads them -----------------------------------

    def on_degraded(self, alias: str, degraded: bool) -> None:
        """Set `squad.gen_ai.degraded` for `alias`: 1 while its first deployment is cooled
        down (answers come from a fallback, or from nowhere), 0 otherwise."""
        try:
            self.telemetry.record(sc.METRIC_DEGRADED, 1 if degraded else 0, {sc.ALIAS: alias})
        except Exception:  # pragma: no cover - defensive: never fail a probe or a scrape
            logger.debug("observer: on_degraded failed", exc_info=True)

    # -- internals --------------------------------------------------------------------------

    def _start(self, call: CallContext) -> CallRecord:
        model = call.chain[0] if call.chain else call.alias
        # getattr: older gateways' CallContext lacked these two fields.
        params: Mapping[str, Any] = getattr(call, "params", None) or {}
        output_schema: Mapping[str, Any] | None = getattr(call, "output_schema", None)
        key = (model, call.alias, call.prompt)
        cached = self._bases.get(key)
        if cached is None:
            base: Attributes = {
                sc.OPERATION_NAME: self._operation,
                sc.PROVIDER_NAME: sc.provider_name(model),
                sc.REQUEST_MODEL: sc.model_name(model),
                sc.ALIAS: call.alias,
                **prompt_attributes(call.prompt),
            }
            if len(self._bases) >= MAX_CACHED_ATTRIBUTES:
                self._bases.clear()
            cached = self._bases[key] = (base, f"{self._operation} {sc.model_name(model)}")
        base, span_name = cached
        attributes = base | request_attributes(params)
        if output_schema is not None:
            attributes[sc.OUTPUT_TYPE] = "json"
        if self.capture_content and call.messages:
            attributes[sc.INPUT_MESSAGES] = messages_json(call.messages, self._redact)
        span = self.telemetry.start_span(span_name, attributes)
        return CallRecord(
            alias=call.alias,
            request_model=model,
            prompt=call.prompt,
            messages=call.messages,
            output_schema=output_schema,
            span=span,
            started=time.perf_counter(),
            base=base,
            key=key,
        )

    def _attempt(self, record: CallRecord, attempt: RouterCall) -> None:
        """Failed tries first (the Router's retries and fallbacks), then the answer."""
        for failure in attempt.failures:
            failed = failure_attributes(failure)
            tries = max(failure.attempts, 1)
            record.attempts += tries
            record.span.add_event(
                sc.ATTEMPT_EVENT,
                {
                    sc.ATTEMPT_NUMBER: record.attempts,
                    sc.ATTEMPT_PURPOSE: attempt.purpose,
                    **failed,
                    sc.OUTCOME: "error",
                    sc.ATTEMPT_TRIES: tries,
                },
            )
            self.telemetry.record(
                sc.METRIC_PROVIDER_ERRORS, tries, failed | {sc.ALIAS: record.alias}
            )
            logger.info(
                "alias '%s': %s failed %d time(s): %s (%s)",
                record.alias,
                failure.deployment,
                tries,
                failed[sc.ERROR_TYPE],
                failure.cause,
                extra=_ids(record)
                | {
                    "event": "gen_ai.attempt",
                    "deployment": failure.deployment,
                    "error_type": failed[sc.ERROR_TYPE],
                    "cause": failure.cause,
                    "status_code": failure.status_code,
                },
            )
        if attempt.deployment is not None:
            record.attempts += 1
            if record.span is NO_SPAN:
                return  # no backend records spans: the event's attributes would go nowhere
            record.span.add_event(
                sc.ATTEMPT_EVENT,
                {
                    sc.ATTEMPT_NUMBER: record.attempts,
                    sc.ATTEMPT_PURPOSE: attempt.purpose,
                    sc.REQUEST_MODEL: sc.model_name(attempt.deployment),
                    sc.PROVIDER_NAME: sc.provider_name(attempt.deployment),
                    sc.OUTCOME: "ok",
                    sc.ATTEMPT_LATENCY: round(attempt.latency_s, 6),
                },
            )

    def _bound_backend(self) -> Telemetry:
        """The backend, with the series bound to another one (if any) forgotten."""
        telemetry = self.telemetry
        if self._bound_to is not telemetry:
            self._answered.clear()
            self._scored.clear()
            self._bound_to = telemetry
        return telemetry

    def _series(self, metric: str, attributes: Attributes) -> Recorder:
        """`metric`'s series of `attributes` (string values), bound once."""
        telemetry = self._bound_backend()
        key = (metric, *attributes.values())
        bound = self._scored.get(key)
        if bound is None:
            if len(self._scored) >= MAX_CACHED_ATTRIBUTES:
                self._scored.clear()
            bound = self._scored[key] = _bind(telemetry, metric, attributes)
        return bound

    def _answered_series(self, record: CallRecord, deployment: str) -> _Answered:
        """The metric attributes of calls like `record` answered by `deployment`, and their
        duration and token series bound once (`Telemetry.bind`, when the backend has it)."""
        telemetry = self._bound_backend()
        answered = None if record.key is None else self._answered.get((*record.key, deployment))
        if answered is None:
            metric_attributes = record.base | {sc.RESPONSE_MODEL: sc.model_name(deployment)}
            answered = (
                metric_attributes,
                _bind(telemetry, sc.METRIC_DURATION, metric_attributes),
                _bind(telemetry, sc.METRIC_TOKENS, metric_attributes | {sc.TOKEN_TYPE: "input"}),
                _bind(telemetry, sc.METRIC_TOKENS, metric_attributes | {sc.TOKEN_TYPE: "output"}),
            )
            if record.key is not None:
                if len(self._answered) >= MAX_CACHED_ATTRIBUTES:
                    self._answered.clear()
                self._answered[(*record.key, deployment)] = answered
        return answered

    def _succeeded(self, record: CallRecord, completion: Completion) -> None:
        deployment = completion.deployment
        metric_attributes, duration, input_tokens, output_tokens = self._answered_series(
            record, deployment
        )
        finish = {"finish_reason": completion.finish_reason} if completion.finish_reason else {}
        if record.span is not NO_SPAN:  # no backend records spans: nothing to describe
            response_model = sc.model_name(deployment)
            record.span.set_attributes(self._answer_attributes(completion, response_model))

        duration(completion.latency_s)
        input_tokens(completion.input_tokens)
        output_tokens(completion.output_tokens)
        record_metric = self.telemetry.record
        if completion.cost_usd:
            record_metric(sc.METRIC_COST, completion.cost_usd, metric_attributes)
        if completion.fallback_used:
            record_metric(sc.METRIC_FALLBACKS, 1, metric_attributes)

        self._score(record, completion)
        record.span.end(None)
        if not logger.isEnabledFor(logging.INFO):
            return  # the log line's fields are not worth building for nobody
        logger.info(
            "%s alias '%s' answered by %s in %.3f s",
            self._operation,
            record.alias,
            deployment,
            completion.latency_s,
            extra=_ids(record)
            | prompt_fields(record.prompt)
            | {
                "event": "gen_ai.call",
                "alias": record.alias,
                "deployment": deployment,
                "fallback_used": completion.fallback_used,
                "attempts": completion.attempts,
                "latency_ms": round(completion.latency_s * 1000, 3),
                "input_tokens": completion.input_tokens,
                "output_tokens": completion.output_tokens,
                "cost_usd": completion.cost_usd,
                **finish,
                "outcome": "ok",
            },
        )

    def _answer_attributes(self, completion: Completion, response_model: str) -> Attributes:
        """The span attributes of an answered call."""
        attributes: Attributes = {
            sc.RESPONSE_MODEL: response_model,
            sc.ATTEMPTS: completion.attempts,
            sc.FALLBACK_USED: completion.fallback_used,
            sc.USAGE_INPUT_TOKENS: completion.input_tokens,
            sc.USAGE_OUTPUT_TOKENS: completion.output_tokens,
            sc.COST_USD: completion.cost_usd,
        }
        finish = {"finish_reason": completion.finish_reason} if completion.finish_reason else {}
        if completion.finish_reason:
            attributes[sc.RESPONSE_FINISH_REASONS] = [completion.finish_reason]
        if self.capture_content:
            attributes[sc.OUTPUT_MESSAGES] = json.dumps(
                [
                    {
                        "role": "assistant",
                        "parts": [{"type": "text", "content": self._redact(completion.text)}],
                        **finish,
                    }
                ],
                ensure_ascii=False,
            )
        return attributes

    def _failed(self, record: CallRecord, error: BaseException | None) -> None:
        error_type = type(error).__name__ if error is not None else "_OTHER"
        latency_s = time.perf_counter() - record.started
        record.span.set_attributes({sc.ATTEMPTS: record.attempts, sc.ERROR_TYPE: error_type})
        self.telemetry.record(
            sc.METRIC_DURATION, latency_s, record.base | {sc.ERROR_TYPE: error_type}
        )
        if error_type == "InvalidOutput":
            self.telemetry.record(sc.METRIC_INVALID_OUTPUTS, 1, record.base)
        record.span.end(error_type)
        logger.warning(
            "%s alias '%s' failed after %d attempt(s): %s",
            self._operation,
            record.alias,
            record.attempts,
            error_type,
            extra=_ids(record)
            | prompt_fields(record.prompt)
            | {
                "event": "gen_ai.call",
                "alias": record.alias,
                "attempts": record.attempts,
                "latency_ms": round(latency_s * 1000, 3),
                "outcome": error_type,
            },
        )

    def _score(self, record: CallRecord, completion: Completion) -> None:
        if not self._scorers or not self._sampler.should_sample():
            return  # what the scorers read is built only for the sampled answers
        answer = Answer(
            completion.text,
            completion.output,
            inputs_text(record.messages),
            record.output_schema,
        )
        prompt_name = record.prompt.name if record.prompt else record.alias
        version = str(record.prompt.version) if record.prompt else "-"
        labels: Attributes = {sc.PROMPT_NAME: prompt_name, sc.PROMPT_VERSION: version}
        self._series(sc.METRIC_QUALITY_SAMPLES, labels)(1)
        for scorer in self._scorers:
            score = scorer(answer)
            if score is None:
                continue
            record.span.add_event(
                sc.EVALUATION_EVENT,
                {
                    sc.EVALUATION_NAME: score.scorer,
                    sc.EVALUATION_SCORE_VALUE: score.value,
                    sc.EVALUATION_SCORE_LABEL: score.label,
                    sc.EVALUATION_EXPLANATION: score.explanation,
                },
            )
            sink = score_sink.get()
            if sink is not None:
                sink[score.scorer] = score.value
            scored = labels | {sc.SCORER: score.scorer}
            self._series(sc.METRIC_QUALITY, scored)(score.value)
            if score.scorer == "grounding" and score.value < 1.0:
                self._series(sc.METRIC_GROUNDING_FAILURES, labels)(1)
            if self._drift is not None:
                status = self._drift.observe(prompt_name, version, score)
                if status is not None:
                    self.telemetry.record(sc.METRIC_DRIFT, status.delta, scored)


def _bind(telemetry: Telemetry, metric: str, attributes: Attributes) -> Recorder:
    """`telemetry.bind(metric, attributes)`, or `record` with them for a backend without it."""
    bind = getattr(telemetry, "bind", None)
    if bind is not None:
        bound: Recorder = bind(metric, attributes)
        return bound
    return lambda value: telemetry.record(metric, value, attributes)


def _ids(call: CallRecord) -> dict[str, Any]:
    ids = call.span.trace_ids()
    return {} if ids is None else {"trace_id": ids[0], "span_id": ids[1]}
