"""`POST /v1/feedback` latency at a fixed arrival rate, on SQLite and on PostgreSQL (issue 25:
p99 at most 20 ms at 200 requests/s).

    cd <squad repo> && .venv/bin/python <template>/benchmarks/library/feedback_latency.py \
        [--root .] [--rate 200] [--duration 10] [--postgres URL]

The service is `squadkit.service:create_app` serving the squad repo (its config/feedback.yaml
declares `correct`, a boolean), in its own uvicorn process on 127.0.0.1, one store at a
time. It first answers `--seed` tickets (offline provider) so feedback has inferences to
name, then takes feedback *open loop*: request i is sent at start + i / rate whether or not
the earlier ones were answered (a closed loop would slow down with the server and hide its
queueing), each with its own Idempotency-Key, and its latency counts from when it was due,
not from when the client got round to it (no coordinated omission). The client speaks
HTTP/1.1 over raw asyncio streams, as service_load.py does, to leave the CPU to the server.
It prints, per store, the requests sent, errors (by status), the achieved rate and p50/p99
in ms. A 429 is the service's per-caller limit (16 in flight): the server fell behind.

PostgreSQL is `--postgres`, else SQUAD_TEST_POSTGRES_URL, else postgres@127.0.0.1:5432/test,
in a scratch schema dropped at the end; unreachable: that row is skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

# This script's folder is sys.path[0] when it runs; mypy reads the benchmarks as files.
from inference_log_overhead import (  # type: ignore[import-not-found]
    DEFAULT_POSTGRES,
    drop_schema,
    postgres_schema,
)
from service_load import TICKET, gc_paused, server  # type: ignore[import-not-found]

WARM_UP_S = 1.0


class Client:
    """Keep-alive HTTP/1.1 over raw asyncio streams, one connection per request in flight
    (opened on demand, reused when idle): far cheaper than an HTTP client library, so on a
    small machine the load generator takes little of the CPU the server needs.

    Like any pooled HTTP client, it does not reuse a connection the server may have closed:
    one idle for `MAX_IDLE_S` (under uvicorn's 5 s keep-alive timeout), already at EOF or
    answered with `Connection: close` is dropped and a fresh one opened. Reusing one was the
    lone SQLite ConnectionError of the 2026-12-07 quiet run: a burst popped a connection idle
    since the warm-up, which the server had closed, and the benchmark counted its own stale
    socket as the server's miss."""

    MAX_IDLE_S = 2.0

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """The most recently used idle connection still fresh, else a new one."""
        while self.idle:
            reader, writer, since = self.idle.pop()
            if time.monotonic() - since < self.MAX_IDLE_S and not reader.at_eof():
                return reader, writer
            writer.close()
        return await asyncio.open_connection("127.0.0.1", self.port)

    async def post(
        self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str]]:
        """(status, response headers with lower-case names)."""
        data = json.dumps(body).encode()
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        request = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {self.token}\r\n{extra}Content-Length: {len(data)}\r\n\r\n"
        ).encode() + data
        reader, writer = await self._connection()
        writer.write(request)
        status_line = await reader.readline()
        if not status_line:
            writer.close()
            raise ConnectionError("the server closed the connection")
        received: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            received[name.strip().lower()] = value.strip()
        await reader.readexactly(int(received.get("content-length", "0")))
        if received.get("connection", "").lower() == "close":
            writer.close()
        else:
            self.idle.append((reader, writer, time.monotonic()))
        return int(status_line.split()[1]), received

    def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()


async def seed(client: Client, count: int) -> list[str]:
    """Answer `count` tickets; their inference ids, once their rows are stored."""
    ids = []
    for _ in range(count):
        status, headers = await client.post("/v1/triage", TICKET)
        if status != 200:
            raise SystemExit(f"POST /v1/triage answered {status}: is the service configured?")
        ids.append(headers["x-inference-id"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the writer flushes every 0.2 s by default
        probe = {"inference_id": ids[-1], "metric": "correct", "value": True}
        if (await client.post("/v1/feedback", probe))[0] == 201:
            return ids
        await asyncio.sleep(0.1)
    raise SystemExit("the seeded inferences never reached the store")


async def open_loop(
    client: Client, ids: list[str], rate: float, duration_s: float
) -> dict[str, Any]:
    """Feedback on `ids` in turn at `rate` per second for `duration_s`; latencies from due."""
    latencies: list[float] = []
    errors: dict[str, int] = {}

    async def one(index: int, due: float) -> None:
        body = {"inference_id": ids[index % len(ids)], "metric": "correct", "value": index % 2 == 0}
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        try:
            status, _ = await client.post("/v1/feedback", body, headers)
            if status != 201:
                errors[str(status)] = errors.get(str(status), 0) + 1
        except (OSError, ValueError, asyncio.IncompleteReadError) as error:
            errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
        latencies.append(time.monotonic() - due)

    total = int(rate * duration_s)
    started = time.monotonic() + 0.05
    tasks = []
    for index in range(total):
        due = started + index / rate
        if (wait := due - time.monotonic()) > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(one(index, due)))
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - started
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "sent": total,
        "errors": sum(errors.values()),
        "why": errors,
        "achieved": total / elapsed,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
    }


async def measure(
    port: int, token: str, rate: float, duration_s: float, seeds: int
) -> dict[str, Any]:
    client = Client(port, token)
    try:
        ids = await seed(client, seeds)
        await open_loop(client, ids, rate, WARM_UP_S)  # connections opened, caches warm
        with gc_paused():
            return await open_loop(client, ids, rate, duration_s)
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(), help="squad repo (default: .)")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per store")
    parser.add_argument("--seed", type=int, default=50, help="inferences to give feedback on")
    parser.add_argument("--postgres", default=os.environ.get("SQUAD_TEST_POSTGRES_URL"))
    parser.add_argument("--stores", default="sqlite,postgresql", help="which stores to measure")
    args = parser.parse_args()
    wanted = set(args.stores.split(","))
    root = args.root.resolve()
    if not (root / "config" / "feedback.yaml").is_file():
        print(f"error: {root} has no config/feedback.yaml: run from a squad repo with the service")
        raise SystemExit(2)
    from squadkit.service.callers import add_caller

    base = args.postgres or DEFAULT_POSTGRES
    made = postgres_schema(base) if "postgresql" in wanted else None
    results: dict[str, dict[str, Any]] = {}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            callers = Path(scratch) / "callers.yaml"
            scopes = ["triage", "feedback"]
            token = add_caller(callers, "bench", scopes, scopes)
            stores = {}
            if "sqlite" in wanted:
                stores["sqlite"] = f"sqlite:///{scratch}/log.sqlite3"
            if made is not None:
                stores["postgresql"] = made[0]
            for name, url in stores.items():
                with server("service", root, callers, {"SQUAD_INFERENCE_LOG_URL": url}) as port:
                    results[name] = asyncio.run(
                        measure(port, token, args.rate, args.duration, args.seed)
                    )
    finally:
        if made is not None:
            drop_schema(base, made[1])
    print(
        f"POST /v1/feedback, open loop at {args.rate:g} req/s for {args.duration:g} s per "
        f"store, {os.cpu_count()} CPUs"
    )
    print(f"{'store':<12}{'sent':>8}{'errors':>8}{'achieved/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
    for name, r in results.items():
        print(
            f"{name:<12}{r['sent']:>8.0f}{r['errors']:>8.0f}{r['achieved']:>12.1f}"
            f"{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}"
        )
    for name, r in results.items():
        if r["why"]:
            print(f"{name} errors: {', '.join(f'{k} x{v}' for k, v in sorted(r['why'].items()))}")


if __name__ == "__main__":
    main()
