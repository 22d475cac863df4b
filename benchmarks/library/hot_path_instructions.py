"""Instructions per call on the hot path, under valgrind's callgrind (steadier than wall time
on a shared machine): bare `litellm.acompletion`, or the in-process eval runner, per case.

Run under callgrind with instrumentation off at start; the script turns it on after its
warm-up, dumps the counts (callgrind_control --dump), runs the measured calls, dumps again:
the last dump's total over `--calls` is the figure. The provider is an OpenAI-compatible
server already listening (`--base-url`: the harness's `benchmarks/fake_provider.py`), so
its CPU is not counted.

    cd <squad repo> && valgrind --tool=callgrind --instr-atstart=no \\
        --callgrind-out-file=cg.%p .venv/bin/python <template>/benchmarks/library/\\
        hot_path_instructions.py --what runner --base-url URL [--calls 100]
    callgrind_annotate cg.<pid>.2 | head   # the measured calls
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
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, str(Path(__file__).resolve().parent))

CONCURRENCY = 10


def callgrind(*options: str) -> None:
    """Ask callgrind about this process (a no-op outside valgrind: the command finds none)."""
    subprocess.run(["callgrind_control", *options, str(os.getpid())], capture_output=True)


async def bare(base_url: str, calls: int) -> None:
    import litellm

    messages = [{"role": "user", "content": "I was charged twice for my order"}]
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def one() -> None:
        async with semaphore:
            await litellm.acompletion(
                model="openai/fake-triage",
                messages=messages,
                api_base=base_url,
                api_key="sk-fake",
                max_retries=0,
            )

    await asyncio.gather(*(one() for _ in range(calls)))


def runner(base_url: str, calls: int, root: Path) -> None:
    build_repo = importlib.import_module("eval_concurrency").build_repo  # this folder's script

    from squadkit.evals import RunOptions, load_suite, workflow
    from squadkit.settings import Settings

    folder = Path(tempfile.mkdtemp(dir=root))
    build_repo(Path(), folder, base_url, calls, CONCURRENCY)
    suite = load_suite(folder / "evals" / "bench.yaml")
    options = RunOptions(mode="live", progress=False)
    with workflow.open_report(Settings(root=folder), suite, options, [suite.spec.target]):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--what", choices=("bare", "runner"), required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--warm-up", type=int, default=10)
    args = parser.parse_args()
    os.environ["FAKE_PROVIDER_KEY"] = "sk-fake"
    with tempfile.TemporaryDirectory() as folder:

        def measure(calls: int) -> None:
            if args.what == "bare":
                asyncio.run(bare(args.base_url, calls))
            else:
                runner(args.base_url, calls, Path(folder))

        measure(args.warm_up)  # lazy imports, client set-up: not counted
        callgrind("--instr=on")
        measure(args.warm_up)  # instrumented warm-up: dumped apart
        callgrind("--dump=warm-up")
        cpu = time.process_time()
        measure(args.calls)
        cpu = time.process_time() - cpu
        callgrind("--dump=measured")
        callgrind("--instr=off")
    print(
        json.dumps(
            {"what": args.what, "calls": args.calls, "cpu_ms_per_call": cpu * 1000 / args.calls}
        )
    )


if __name__ == "__main__":
    main()
