"""Instructions per call on the hot path, under valgrind's callgrind (steadier than wall time
on a shared machine): bare `litellm.acompletion`, or the in-process eval runner, per case;
or a served `POST /v1/triage` (the squad's app, offline chain), or a bare FastAPI endpoint.

Run under callgrind with instrumentation off at start; the script turns it on after its
warm-up, dumps the counts (callgrind_control --dump), runs the measured calls, dumps again:
the last dump's total over `--calls` is the figure. The provider is an OpenAI-compatible
server already listening (`--base-url`: the harness's `benchmarks/fake_provider.py`), so
its CPU is not counted.

    cd <squad repo> && valgrind --tool=callgrind --instr-atstart=no \\
        --callgrind-out-file=cg.%p .venv/bin/python <template>/benchmarks/library/\\
        hot_path_instructions.py --what runner --base-url URL [--calls 100]
    callgrind_annotate cg.<pid>.2 | head   # the measured calls

`--what service` and `--what fastapi` need no provider (pass `--base-url -`): the requests
go straight to the ASGI app in this process, no server and no HTTP parsing, after its
lifespan started: `squadkit.service:create_app` on the squad repo in the current directory
(its config/, prompts/ and features; a temporary callers file; the inference log on, as by
default, its rows written before each dump so the writer thread's CPU is counted; it
gathers rows for 10 s unless `SQUAD_INFERENCE_LOG_FLUSH_INTERVAL_S` says otherwise, so
that under valgrind, fifty times slower, its batches are as large as under load in real
time: hundreds of rows, not a few), or `service_load.bare_app`. `--profile` runs the
measured requests under cProfile instead and prints where they went (no valgrind needed).
"""

import argparse
import asyncio
import cProfile
import importlib
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, str(Path(__file__).resolve().parent))

CONCURRENCY = 10


def callgrind(*options: str) -> None:
    """Ask callgrind about this process (a no-op outside valgrind: the command finds none)."""
    subprocess.run(["callgrind_control", *options, str(os.getpid())], capture_output=True)


class ServedRequests:
    """`POST /v1/triage` driven into an ASGI app in this process, `CONCURRENCY` at a time."""

    def __init__(self, app: Any, token: str, written: Callable[[], int] | None = None) -> None:
        ticket = importlib.import_module("service_load").TICKET  # this folder's script
        self.app = app
        self.written = written
        self.sent = 0
        body = json.dumps(ticket).encode()
        self.body = body
        self.headers = [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        self.state: dict[str, Any] = {}

    async def one(self) -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/v1/triage",
            "raw_path": b"/v1/triage",
            "root_path": "",
            "query_string": b"",
            "headers": self.headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": self.state.copy(),
        }
        sent = False
        status = 0

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": self.body, "more_body": False}
            await asyncio.Event().wait()  # never disconnects
            raise AssertionError  # pragma: no cover

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await self.app(scope, receive, send)
        if status != 200:
            raise SystemExit(f"POST /v1/triage answered {status}")
        self.sent += 1

    async def run(self, calls: int) -> None:
        semaphore = asyncio.Semaphore(CONCURRENCY)

        async def one() -> None:
            async with semaphore:
                await self.one()

        await asyncio.gather(*(one() for _ in range(calls)))
        deadline = time.monotonic() + 30
        while self.written is not None and self.written() < self.sent:  # the writer's rows
            if time.monotonic() > deadline:
                raise SystemExit("the inference log did not write its rows in 30 s")
            await asyncio.sleep(0.05)


@asynccontextmanager
async def served(what: str, folder: Path) -> AsyncIterator[ServedRequests]:
    """The app of `what` started (its lifespan), and a driver of requests into it."""
    from squadkit.service.callers import add_caller

    token = add_caller(folder / "callers.yaml", "bench", ["triage"], ["triage"])
    if what == "fastapi":
        bare_app = importlib.import_module("service_load").bare_app  # this folder's script
        yield ServedRequests(bare_app(), token)
        return
    os.environ.update(
        SQUAD_ROOT=str(Path.cwd()),
        SQUAD_CALLERS_FILE=str(folder / "callers.yaml"),
        SQUAD_LOG_LEVEL="WARNING",
        SQUAD_INFERENCE_LOG_URL=f"sqlite:///{folder / 'inferences.sqlite3'}",
    )
    os.environ.setdefault("SQUAD_INFERENCE_LOG_FLUSH_INTERVAL_S", "10")
    from squadkit.service import create_app

    app = create_app()
    async with app.router.lifespan_context(app):
        log = app.state.context.inference_log
        written = None if log is None else (lambda: log.writer.stats.written)
        yield ServedRequests(app, token, written)


async def serve(what: str, folder: Path, warm_up: int, calls: int, profile: bool) -> float:
    """Warm up, then the measured requests between two callgrind dumps (or under cProfile);
    the CPU seconds of the measured ones."""
    async with served(what, folder) as requests:
        await requests.run(warm_up)  # lazy imports, first-request costs: not counted
        callgrind("--instr=on")
        await requests.run(warm_up)  # instrumented warm-up: dumped apart
        callgrind("--dump=warm-up")
        profiler = cProfile.Profile(time.process_time) if profile else None
        cpu = time.process_time()
        if profiler is not None:
            profiler.enable()
        await requests.run(calls)
        if profiler is not None:
            profiler.disable()
        cpu = time.process_time() - cpu
        callgrind("--dump=measured")
        callgrind("--instr=off")
    if profiler is not None:
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(30)
    return cpu


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
    parser.add_argument("--what", choices=("bare", "runner", "service", "fastapi"), required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--warm-up", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="cProfile (service, fastapi)")
    args = parser.parse_args()
    os.environ["FAKE_PROVIDER_KEY"] = "sk-fake"
    with tempfile.TemporaryDirectory() as folder:
        if args.what in ("service", "fastapi"):
            cpu = asyncio.run(
                serve(args.what, Path(folder), args.warm_up, args.calls, args.profile)
            )
            result = {
                "what": args.what,
                "calls": args.calls,
                "cpu_ms_per_call": cpu * 1000 / args.calls,
            }
            print(json.dumps(result))
            return

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
