"""What the gateway costs per call, over a bare `litellm.acompletion`, at 0 ms provider latency.

Each variant runs in a fresh process (litellm's settings are process-wide), against the fake
OpenAI-compatible server from `squadkit.testing` answering at once, and prints:

- latency p50/p99 of sequential calls (one in flight: the per-call cost),
- calls/s at concurrency 50 and CPU ms per call (process CPU, fake server included: it runs
  in a thread of the same process, costing the same in every variant).

Variants: `bare` is litellm as installed; `bare-tuned` is litellm after the gateway's
`tune_litellm()`; `router` is the litellm Router the gateway builds, called directly;
`gateway` is `Gateway.acomplete` (that Router plus the gateway's own work: deadline, failure
recorder, parsing, observer). "Gateway overhead" is `gateway` minus `bare-tuned`: the same
litellm settings; `router` splits it into litellm's Router and the gateway's own layers.

The model is one litellm can price (`MODEL`): for a model missing from litellm's price map,
bare litellm takes a slower failed-pricing path while the Router prices from the deployment
it registered, which would make the gateway look cheaper than it is.

Needs no squad workspace: any interpreter with squadkit installed runs it.

    .venv/bin/python benchmarks/library/gateway_overhead.py [--sequential 300] [--calls 1000]
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm's import

from squadkit.gateway import Gateway, ModelsConfig, load_models_config
from squadkit.gateway.router import build_router, plan_chains, tune_litellm
from squadkit.testing import FakeOpenAIServer, Reply

VARIANTS = ("bare", "bare-tuned", "router", "gateway")
MODEL = "openai/gpt-4o-mini-2024-07-18"  # in litellm's price map, as production models are
MESSAGES = [{"role": "user", "content": "<ticket>I was charged twice, please refund</ticket>"}]
KEY = "sk-bench-not-a-real-key"
CONCURRENCY = 50


def _models_config(server: FakeOpenAIServer) -> ModelsConfig:
    """Alias `chat`: one deployment on the fake server, no retries (nothing fails here)."""
    os.environ["BENCH_PROVIDER_KEY"] = KEY
    deployment = {
        "model": MODEL,
        "api_base": server.base_url,
        "api_key_env": "BENCH_PROVIDER_KEY",
        "max_retries": 0,
    }
    path = Path(tempfile.mkdtemp()) / "models.yaml"
    models = {"aliases": {"chat": {"deployments": [deployment]}}}
    path.write_text(yaml.safe_dump(models), encoding="utf-8")
    return load_models_config(path)


def _caller(variant: str, server: FakeOpenAIServer) -> Callable[[], Awaitable[Any]]:
    if variant == "gateway":
        gateway = Gateway(_models_config(server))
        return lambda: gateway.acomplete("chat", MESSAGES)
    if variant == "router":
        config = _models_config(server)
        router = build_router(plan_chains(config), config).router
        return lambda: router.acompletion(model="chat@0", messages=MESSAGES)
    if variant == "bare-tuned":
        tune_litellm()
    import litellm

    return lambda: litellm.acompletion(
        model=MODEL,
        messages=MESSAGES,
        api_base=server.base_url,
        api_key=KEY,
        max_retries=0,
    )


async def _measure(
    call: Callable[[], Awaitable[Any]], sequential: int, calls: int
) -> dict[str, float]:
    for _ in range(20):  # warm up: clients, caches, first-call imports
        await call()
    latencies = []
    for _ in range(sequential):
        started = time.perf_counter()
        await call()
        latencies.append(time.perf_counter() - started)
    latencies.sort()

    async def worker(count: int) -> None:
        for _ in range(count):
            await call()

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(calls // CONCURRENCY) for _ in range(CONCURRENCY)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    done = calls // CONCURRENCY * CONCURRENCY
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(0.99 * (len(latencies) - 1))] * 1000,
        "calls_per_s": done / wall,
        "cpu_ms_per_call": cpu / done * 1000,
    }


def _run_one(variant: str, sequential: int, calls: int) -> None:
    with FakeOpenAIServer(default=Reply.ok("billing")) as server:
        call = _caller(variant, server)
        print(json.dumps(asyncio.run(_measure(call, sequential, calls))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequential", type=int, default=300, help="sequential calls (latency)")
    parser.add_argument("--calls", type=int, default=1000, help="calls at concurrency 50")
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        _run_one(args.variant, args.sequential, args.calls)
        return
    results: dict[str, dict[str, float]] = {}
    for variant in VARIANTS:
        command = [sys.executable, __file__, "--variant", variant]
        command += ["--sequential", str(args.sequential), "--calls", str(args.calls)]
        # Our own script with fixed arguments: nothing untrusted reaches the command line.
        run = subprocess.run(command, check=True, capture_output=True, text=True)
        output = run.stdout
        results[variant] = json.loads(output.strip().splitlines()[-1])
    print(f"{'variant':<12} {'p50 ms':>8} {'p99 ms':>8} {'calls/s @50':>12} {'CPU ms/call':>12}")
    for variant, r in results.items():
        print(
            f"{variant:<12} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
            f"{r['calls_per_s']:>12.1f} {r['cpu_ms_per_call']:>12.2f}"
        )
    base, gateway = results["bare-tuned"], results["gateway"]
    print(
        "gateway overhead over bare-tuned litellm: "
        f"p50 {gateway['p50_ms'] - base['p50_ms']:+.2f} ms, "
        f"p99 {gateway['p99_ms'] - base['p99_ms']:+.2f} ms, "
        f"CPU {gateway['cpu_ms_per_call'] - base['cpu_ms_per_call']:+.2f} ms/call"
    )
    router = results["router"]
    print(
        f"  of which litellm's Router: p50 {router['p50_ms'] - base['p50_ms']:+.2f} ms, "
        f"CPU {router['cpu_ms_per_call'] - base['cpu_ms_per_call']:+.2f} ms/call; "
        f"the gateway's own layers: p50 {gateway['p50_ms'] - router['p50_ms']:+.2f} ms, "
        f"CPU {gateway['cpu_ms_per_call'] - router['cpu_ms_per_call']:+.2f} ms/call"
    )
    tuned, bare = results["bare-tuned"], results["bare"]
    print(
        f"tune_litellm(): {bare['calls_per_s']:.1f} -> {tuned['calls_per_s']:.1f} calls/s, "
        f"{bare['cpu_ms_per_call']:.2f} -> {tuned['cpu_ms_per_call']:.2f} CPU ms/call"
    )


if __name__ == "__main__":
    main()
