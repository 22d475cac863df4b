"""Where an eval case's time goes: the same 1,000 calls at concurrency 50, layer by layer.

Runs with a rendered repo's interpreter (it has squadkit) on that repo's triage prompt and
dataset, against a provider already listening at
`--base-url` (see fake_provider.py), each layer in a fresh process: bare
`litellm.acompletion`, litellm's `Router.acompletion` as the gateway builds it,
`Gateway.acomplete` without and with an output schema, then with the process observer the
runner uses, and the eval runner (`run_suite`, one model call per case). Prints, per layer,
wall seconds, calls/s and CPU ms per call; the difference between two lines is what the
upper layer costs.

    <repo>/.venv/bin/python benchmarks/eval_breakdown.py --repo R --base-url URL
"""

import argparse
import asyncio
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm's import
os.environ.setdefault("FAKE_PROVIDER_KEY", "sk-fake")

from squadkit.gateway import Gateway, load_models_config
from squadkit.observability import get_observer
from squadkit.prompts import PromptRegistry

LIBRARY_BENCHMARKS = Path(__file__).resolve().parent / "library"


async def timed(
    call: Callable[[], Awaitable[Any]], calls: int, concurrency: int
) -> dict[str, float]:
    semaphore = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with semaphore:
            await call()

    await one()  # first call: lazy imports, clients
    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one() for _ in range(calls)))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"wall_s": wall, "calls_per_s": calls / wall, "cpu_ms_per_call": cpu / calls * 1000}


LAYERS = (
    "litellm.acompletion",
    "Router.acompletion",
    "Gateway.acomplete",
    "Gateway.acomplete + schema",
    "... + process observer",
    "run_suite (1 call/case)",
)


def measure(
    layer: str, repo: Path, base_url: str, calls: int, concurrency: int
) -> dict[str, float]:
    sys.path.insert(0, str(LIBRARY_BENCHMARKS))
    bench = importlib.import_module("eval_concurrency")  # the library benchmark's builder
    import litellm

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        bench.build_repo(repo, root, base_url, calls, concurrency)
        if layer.startswith("run_suite"):
            suite = bench.load_suite(root / "evals" / "bench.yaml")
            settings = bench.Settings(root=root)
            options = bench.RunOptions(mode="live", progress=False)
            cpu, started = time.process_time(), time.perf_counter()
            with bench.workflow.open_report(settings, suite, options, [suite.spec.target]):
                wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            return {
                "wall_s": wall,
                "calls_per_s": calls / wall,
                "cpu_ms_per_call": cpu / calls * 1000,
            }
        first = json.loads((root / "evals/datasets/bench.jsonl").read_text().splitlines()[0])
        version = PromptRegistry.load(root / "prompts", label_overrides={}).get("triage")
        rendered = version.render(first["inputs"])
        messages, schema, params = rendered.messages, rendered.output_schema, rendered.params
        observer = None
        if layer.startswith("..."):  # what the runner builds: logs only before set-up
            observer = get_observer()
        config = load_models_config(root / "config/models.yaml")
        gateway = Gateway(config, observer=observer)
        calls_by_layer: dict[str, Callable[[], Awaitable[Any]]] = {
            "litellm.acompletion": lambda: litellm.acompletion(
                model="openai/fake-triage",
                messages=messages,
                api_base=base_url,
                api_key="sk-fake",
                max_retries=0,
                **params,
            ),
            "Router.acompletion": lambda: gateway._backends.router().router.acompletion(
                model=gateway._backends.router().chains["triage"][0].group,
                messages=messages,
                **params,
            ),
            "Gateway.acomplete": lambda: gateway.acomplete("triage", messages, params=params),
            "Gateway.acomplete + schema": lambda: gateway.acomplete(
                "triage", messages, params=params, output_schema=schema
            ),
        }
        call = calls_by_layer.get(layer, calls_by_layer["Gateway.acomplete + schema"])
        return asyncio.run(timed(call, calls, concurrency))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--layer", choices=LAYERS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    common = [
        "--repo",
        str(args.repo),
        "--base-url",
        args.base_url,
        "--calls",
        str(args.calls),
        "--concurrency",
        str(args.concurrency),
    ]
    if args.layer:
        print(
            json.dumps(measure(args.layer, args.repo, args.base_url, args.calls, args.concurrency))
        )
        return
    results = {}
    for layer in LAYERS:  # one fresh process each: a second Router in a process skews it
        output = subprocess.run(
            [sys.executable, __file__, *common, "--layer", layer],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results[layer] = json.loads(output.strip().splitlines()[-1])
    print(f"{'layer':<28}{'wall s':>8}{'calls/s':>9}{'CPU ms/call':>13}")
    for name, r in results.items():
        print(f"{name:<28}{r['wall_s']:>8.2f}{r['calls_per_s']:>9.1f}{r['cpu_ms_per_call']:>13.2f}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
