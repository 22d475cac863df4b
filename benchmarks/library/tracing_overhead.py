"""Per-call cost of observability: the observer's hooks, then whole gateway calls.

    .venv/bin/python benchmarks/library/tracing_overhead.py [--calls 20000] [--gateway-calls 300]

1. Hooks only: `on_call_start` + two `on_attempt` + `on_call_end`, i.e. exactly what one
   gateway call with one fallback costs the observer, per mode. Target: < 0.3 ms per call
   with no exporter.
2. End to end: the real gateway -> litellm -> fake provider at 0 ms latency, with the no-op
   observer and with each mode (litellm dominates; the difference is the overhead).

Modes: `noop` (the gateway's default), `logs` (observability=none), `no exporter` (what
`setup_observability` builds with no endpoint; `+ /metrics` keeps Prometheus metrics),
`in-memory` (SDK spans and metrics exported to memory), and `in-memory + quality` (every
answer scored online). Log output is discarded (level WARNING) so the figure is the
observer's, not the terminal's. The OpenTelemetry modes need `squadkit[otlp]`; without the
SDK they are left out (and said so). No squad workspace is needed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm's import

from squadkit.calls import (
    CallContext,
    Completion,
    DeploymentFailure,
    NoopObserver,
    RouterCall,
)
from squadkit.gateway import Gateway, PromptRef, load_models_config
from squadkit.observability import GenAIObserver
from squadkit.testing import FakeOpenAIServer, Reply

PROMPT = PromptRef(name="triage", version=1, label="production", content_hash="sha256:0")
MESSAGES = [{"role": "user", "content": "I was charged twice for my order"}]
SCHEMA = {"type": "object", "properties": {"queue": {"type": "string"}}}
ANSWER = '{"queue": "billing", "rationale": "says \\"charged twice\\""}'


def observers() -> dict[str, Callable[[], Any]]:
    modes: dict[str, Callable[[], Any]] = {"noop": NoopObserver, "logs": GenAIObserver}
    if importlib.util.find_spec("opentelemetry.sdk") is None:
        print("OpenTelemetry SDK not installed (squadkit[otlp]): its modes are left out")
    else:
        modes.update(otel_observers())
    return modes


def otel_observers() -> dict[str, Callable[[], Any]]:
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from squadkit.observability import QualitySampler, build_scorers, otel
    from squadkit.observability.config import QualityConfig

    def in_memory(quality: bool = False) -> GenAIObserver:
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
        telemetry = otel.for_tests(provider, [InMemoryMetricReader()])
        if not quality:
            return GenAIObserver(telemetry)
        scorers = build_scorers(QualityConfig())
        return GenAIObserver(telemetry, sampler=QualitySampler(1.0), scorers=scorers)

    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SDK_DISABLED"):
        os.environ.pop(name, None)
    return {
        "no exporter": lambda: GenAIObserver(
            otel.from_environment(service_name="bench", set_global=False)
        ),
        "no exporter + /metrics": lambda: GenAIObserver(
            otel.from_environment(service_name="bench", prometheus=True, set_global=False)
        ),
        "in-memory": in_memory,
        "in-memory + quality": lambda: in_memory(quality=True),
    }


def hooks_only(make: Callable[[], Any], calls: int) -> float:
    """Microseconds per call for start + failed attempt + fallback answer + end."""
    observer = make()
    chain = ("openai/primary-2025-01-01", "openai/backup-2025-01-01")
    failure = DeploymentFailure(
        deployment=chain[0],
        cause="rate_limited",
        reason="RateLimitError 429: slow down",
        error_type="RateLimitError",
        status_code=429,
    )
    completion = Completion(
        text=ANSWER,
        output={"queue": "billing", "rationale": 'says "charged twice"'},
        alias="triage",
        deployment=chain[1],
        fallback_used=True,
        attempts=2,
        latency_s=0.01,
        input_tokens=12,
        output_tokens=9,
        cost_usd=0.00003,
        prompt=PROMPT,
    )
    answered = RouterCall(
        purpose="answer",
        deployment=chain[1],
        latency_s=0.01,
        input_tokens=12,
        output_tokens=9,
        failures=(failure,),
    )
    started = time.perf_counter()
    for index in range(calls):
        call = CallContext(str(index), "triage", chain, MESSAGES, PROMPT)
        observer.on_call_start(call)
        observer.on_attempt(call, answered)
        observer.on_call_end(call, completion, None)
    return (time.perf_counter() - started) / calls * 1e6


async def gateway_calls(make: Callable[[], Any], models: Path, calls: int) -> float:
    """Median milliseconds per real gateway call at concurrency 1."""
    gateway = Gateway(load_models_config(models), observer=make())
    await gateway.acomplete("triage", MESSAGES, output_schema=SCHEMA, prompt=PROMPT)  # warm
    timings = []
    for _ in range(calls):
        started = time.perf_counter()
        await gateway.acomplete("triage", MESSAGES, output_schema=SCHEMA, prompt=PROMPT)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--gateway-calls", type=int, default=300)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    modes = observers()

    print(f"1. observer hooks per call ({args.calls} calls, one fallback each)")
    baseline = hooks_only(modes["noop"], args.calls)
    for name, make in modes.items():
        micros = hooks_only(make, args.calls)
        print(f"   {name:<24} {micros:8.1f} us/call   overhead {micros - baseline:8.1f} us")

    if args.gateway_calls <= 0:
        return
    print(f"2. gateway calls against the fake provider at 0 ms ({args.gateway_calls} calls)")
    with FakeOpenAIServer() as server, tempfile.TemporaryDirectory() as tmp:
        server.default = Reply.ok(ANSWER)
        os.environ["BENCH_FAKE_KEY"] = "sk-bench-0000000000"
        models = Path(tmp) / "models.yaml"
        models.write_text(
            "aliases:\n  triage:\n    deployments:\n"
            f"      - model: openai/bench-2025-01-01\n        api_base: {server.base_url}\n"
            "        api_key_env: BENCH_FAKE_KEY\n        max_retries: 0\n"
            "        input_cost_per_token: 0.000001\n        output_cost_per_token: 0.000002\n",
            encoding="utf-8",
        )
        baseline_ms = asyncio.run(gateway_calls(modes["noop"], models, args.gateway_calls))
        for name, make in modes.items():
            median_ms = asyncio.run(gateway_calls(make, models, args.gateway_calls))
            print(
                f"   {name:<24} p50 {median_ms:7.3f} ms/call"
                f"   vs noop {median_ms - baseline_ms:+7.3f} ms"
            )


if __name__ == "__main__":
    main()
