"""Throughput and latency of POST /v1/triage (offline provider) next to a bare FastAPI app.

    cd <squad repo> && .venv/bin/python <template>/benchmarks/library/service_load.py \
        [--root .] [--duration 5] [--rounds 4] [--connections 16]

The service is `squadkit.service:create_app` serving a squad workspace (a rendered repo
with the service and its `triage` route, installed in this interpreter: the current
directory, or `--root`), so its config/, prompts/ and features are the squad's own.

Each server runs in its own process (uvicorn, one worker, no access log) on 127.0.0.1;
this process is the load generator: keep-alive HTTP/1.1 connections over raw asyncio
streams (cheaper than an HTTP client library, so the client is not the bottleneck on a
small machine), bounded in time. Both servers are started and warmed, then loaded in turn,
`--rounds` times each for `--duration / --rounds` seconds, in the order bare, service,
service, bare, bare, ... (ABBA): a shared machine's speed drifts by tens of percent within
a minute, and a ratio of two runs taken one after the other carried that drift (the idle
server waits in `epoll`, costing the loaded one nothing). It prints requests per second
and p50/p99 latency for both servers over all their rounds and the ratio of their
requests/s: what the service's own work costs (guard middleware, bearer-token check,
validation, prompt rendering, gateway, offline model, inference log) over FastAPI's floor.
Both get the same request, `Authorization` header included; the service reads its one
caller from a temporary callers file (`SQUAD_CALLERS_FILE`).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TICKET = {
    "subject": "Charged twice this month",
    "body": "My invoice shows two charges for the same plan. Please refund one.",
    "customer_tier": "pro",
    "channel": "email",
}


def squad_root(root: Path, *needed: str) -> Path:
    """`root` resolved, when it holds each of `needed` (a folder when the name ends in `/`):
    the squad repo a benchmark serves. Otherwise one line on stderr and exit 2."""
    resolved = root.resolve()
    if not all(
        (resolved / name).is_dir() if name.endswith("/") else (resolved / name).is_file()
        for name in needed
    ):
        wanted = " or ".join(needed)
        message = f"error: {resolved} has no {wanted}: run from a squad repo or pass --root"
        print(message, file=sys.stderr)
        raise SystemExit(2)
    return resolved


def bare_app() -> object:
    """A FastAPI app answering the same request with a constant: the floor."""
    from fastapi import FastAPI

    app = FastAPI()
    answer = {"queue": "billing", "priority": "high", "rationale": "constant"}

    @app.post("/v1/triage")
    async def triage(ticket: dict[str, str]) -> dict[str, str]:
        return answer

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(
    kind: str, root: Path, callers: Path, extra_env: dict[str, str] | None = None
) -> Iterator[int]:
    port = _free_port()
    target = (
        ["--factory", "squadkit.service:create_app"]
        if kind == "service"
        else ["--factory", "service_load:bare_app", "--app-dir", os.path.dirname(__file__)]
    )
    env = {
        **os.environ,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "SQUAD_LOG_LEVEL": "WARNING",
        "SQUAD_ROOT": str(root),
        "SQUAD_CALLERS_FILE": str(callers),
        **(extra_env or {}),
    }
    command = [sys.executable, "-m", "uvicorn", *target, "--port", str(port)]
    command += ["--no-access-log", "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=root, env=env)  # our own interpreter
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{kind} server did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


async def _connection(port: int, request: bytes, stop_at: float, latencies: list[float]) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    errors = 0
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(request)
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            errors += status != 200
    finally:
        writer.close()
    return errors


def request_bytes(token: str) -> bytes:
    """The one request both servers get."""
    body = json.dumps(TICKET).encode()
    head = (
        f"POST /v1/triage HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def warm_up(port: int, token: str) -> None:
    """First-request costs (lazy imports, caches), not measured."""
    await _connection(port, request_bytes(token), time.perf_counter() + 1.0, [])


async def load_window(
    port: int, duration_s: float, connections: int, token: str, latencies: list[float]
) -> tuple[int, float]:
    """`connections` connections for `duration_s`: (errors, seconds elapsed); each
    request's latency is appended to `latencies`."""
    request = request_bytes(token)
    started = time.perf_counter()
    stop_at = started + duration_s
    errors = await asyncio.gather(
        *(_connection(port, request, stop_at, latencies) for _ in range(connections))
    )
    return sum(errors), time.perf_counter() - started


@contextmanager
def gc_paused() -> Iterator[None]:
    """This process's garbage collection off while it measures (then on again).

    The load generator is not what is measured, yet a full collection of its heap paused
    it for up to 65 ms: requests due meanwhile went out late, in a burst, their wait
    counted against the server (and up to 16 at once made the service answer 429)."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def summary(latencies: list[float], errors: int, elapsed: float) -> dict[str, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
    }


async def load_in_turn(
    ports: dict[str, int], duration_s: float, rounds: int, connections: int, token: str
) -> dict[str, dict[str, float]]:
    """Each server in `ports` (two) loaded `rounds` times in ABBA order (module docstring)."""
    for port in ports.values():
        await warm_up(port, token)
    kinds = list(ports)
    latencies: dict[str, list[float]] = {kind: [] for kind in kinds}
    errors = dict.fromkeys(kinds, 0)
    elapsed = dict.fromkeys(kinds, 0.0)
    with gc_paused():
        for turn in range(rounds):
            order = kinds if turn % 2 == 0 else kinds[::-1]
            for kind in order:
                failed, seconds = await load_window(
                    ports[kind], duration_s / rounds, connections, token, latencies[kind]
                )
                errors[kind] += failed
                elapsed[kind] += seconds
    return {kind: summary(latencies[kind], errors[kind], elapsed[kind]) for kind in kinds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(), help="squad repo (default: .)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per server")
    parser.add_argument("--rounds", type=int, default=4, help="turns per server (ABBA)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections")
    args = parser.parse_args()
    root = squad_root(args.root, "config/", "prompts/")
    from squadkit.service.callers import add_caller

    if args.rounds < 1:
        parser.error("--rounds: at least 1")
    with tempfile.TemporaryDirectory() as scratch:
        callers = Path(scratch) / "callers.yaml"
        token = add_caller(callers, "bench", ["triage"], ["triage"])
        with server("bare", root, callers) as bare, server("service", root, callers) as served:
            results = asyncio.run(
                load_in_turn(
                    {"bare": bare, "service": served},
                    args.duration,
                    args.rounds,
                    args.connections,
                    token,
                )
            )
    print(
        f"POST /v1/triage, {args.connections} connections, {args.duration:g} s each in "
        f"{args.rounds} turns, {os.cpu_count()} CPUs"
    )
    print(f"{'server':<10}{'requests':>10}{'errors':>8}{'rps':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for kind, r in results.items():
        print(
            f"{kind:<10}{r['requests']:>10.0f}{r['errors']:>8.0f}{r['rps']:>10.1f}"
            f"{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}"
        )
    ratio = results["service"]["rps"] / results["bare"]["rps"]
    print(f"service/bare throughput ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
