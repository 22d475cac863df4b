"""The floor for eval throughput: bare `litellm.acompletion` calls, no gateway, no runner.

Runs with a rendered squad repo's interpreter (it has litellm) against an OpenAI-compatible
server already listening at `--base-url` (the harness starts the repo's fake provider), so
the figure is what litellm alone costs for the same number of calls at the same concurrency.
Prints one JSON line: wall seconds, calls/s, CPU seconds of this process, errors, and
whether the first call was timed.

    <repo>/.venv/bin/python benchmarks/litellm_floor.py --base-url URL [--calls 1000] [--cold]

By default one call is made first, untimed: litellm's lazy imports and HTTP client set-up,
once per process, stay out of the clock, to compare with a runner whose first case is
untimed too (`eval_concurrency.py --warm-up`). `--cold` times every call from the first,
all at the same concurrency: what a fresh process pays after `import litellm`, to compare
with a runner's first run timed whole (`eval_concurrency.py` without `--warm-up`).
"""

import argparse
import asyncio
import json
import os
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network at import


async def run(base_url: str, calls: int, concurrency: int, *, cold: bool) -> dict[str, float]:
    import litellm

    messages = [{"role": "user", "content": "I was charged twice for my order"}]
    semaphore = asyncio.Semaphore(concurrency)
    errors = 0

    async def one() -> None:
        nonlocal errors
        async with semaphore:
            try:
                await litellm.acompletion(
                    model="openai/fake-triage",
                    messages=messages,
                    api_base=base_url,
                    api_key="sk-fake",
                    max_retries=0,
                )
            except Exception:
                errors += 1

    if not cold:
        await one()  # first call: lazy imports and client set-up, not counted
    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one() for _ in range(calls)))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "wall_s": wall,
        "calls_per_s": calls / wall,
        "cpu_s": cpu,
        "errors": errors,
        "first_call_timed": cold,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--cold", action="store_true", help="time the first call too (no untimed call first)"
    )
    args = parser.parse_args()
    found = asyncio.run(run(args.base_url, args.calls, args.concurrency, cold=args.cold))
    print(json.dumps(found))


if __name__ == "__main__":
    main()
