"""What the inference log adds to a served request: p50 with the log off, on SQLite and on
PostgreSQL, side by side in one run (issue 25: target at most 0.3 ms over off).

    cd <squad repo> && .venv/bin/python <template>/benchmarks/library/inference_log_overhead.py \
        [--root .] [--duration 3] [--rounds 3] [--postgres URL]

Two figures, because a p50 difference of a few tenths of a millisecond is within the noise
of a loaded machine:

1. end to end: `POST /v1/triage` (offline provider) through uvicorn, one process per
   variant, all three running at once, one keep-alive connection each (no queueing: each
   figure is one request's latency). Requests go to the variants in turn, one at a time
   (the order rotating), so a burst of other load on the machine hits every variant alike
   instead of whichever ran in that window; `--rounds` such runs, the median of their p50s.
   A second process with the log off (`off-again`) shows the noise floor: on a 2-CPU
   machine shared with other jobs two identical processes differed by up to 3 ms, so a
   difference below that one is not a measurement;
2. in process: the work the log does on the request path (`InferenceLog.begin`, the
   capture context, `finish`: building the row and one `put_nowait`), timed over many
   calls; the insert itself runs on the writer's thread.

PostgreSQL is `--postgres`, else SQUAD_TEST_POSTGRES_URL, else postgres@127.0.0.1:5432/test;
the rows go to a scratch schema dropped at the end. Unreachable: that column is skipped.
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
from contextlib import ExitStack
from pathlib import Path

# This script's folder is sys.path[0] when it runs; mypy reads the benchmarks as files.
from service_load import TICKET, server  # type: ignore[import-not-found]

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_schema(
    base: str, *, purpose: str = "inferlog", skipped: str = "column skipped"
) -> tuple[str, str] | None:
    """(url with a scratch schema `bench_<purpose>_<random>`, schema) or None when
    PostgreSQL is unreachable (printed, with what is `skipped`). The benchmarks that write
    to PostgreSQL (this one, feedback_latency.py, harvest.py) all start here and end with
    `drop_schema`."""
    from sqlalchemy import create_engine, text

    schema = f"bench_{purpose}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(base, connect_args={"connect_timeout": 3})
    try:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:
        print(f"PostgreSQL at {base} unreachable ({type(error).__name__}): {skipped}")
        return None
    finally:
        engine.dispose()
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}", schema


def drop_schema(base: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


async def interleaved(ports: dict[str, int], duration_s: float, token: str) -> dict[str, float]:
    """p50 ms of each variant, requests sent to the variants in turn for `duration_s` each."""
    body = json.dumps(TICKET).encode()
    request = (
        f"POST /v1/triage HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    streams = {
        name: await asyncio.open_connection("127.0.0.1", port) for name, port in ports.items()
    }

    async def once(name: str) -> float:
        reader, writer = streams[name]
        started = time.perf_counter()
        writer.write(request)
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            header, _, value = line.partition(b":")
            if header.lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        if status != 200:
            raise SystemExit(f"{name}: POST /v1/triage answered {status}")
        return time.perf_counter() - started

    names = list(ports)
    warm_until = time.perf_counter() + 1.0  # first-request costs, untimed
    while time.perf_counter() < warm_until:
        for name in names:
            await once(name)
    latencies: dict[str, list[float]] = {name: [] for name in names}
    stop_at = time.perf_counter() + duration_s * len(names)
    turn = 0
    while time.perf_counter() < stop_at:
        for name in names[turn % len(names) :] + names[: turn % len(names)]:
            latencies[name].append(await once(name))
        turn += 1
    for _, writer in streams.values():
        writer.close()
    return {name: statistics.median(values) * 1000 for name, values in latencies.items()}


def in_process(root: Path, url: str, calls: int) -> float:
    """Microseconds the log's request-path work takes per call (median of 5 runs)."""
    from squadkit.service.inference_log import InferenceLog
    from squadkit.settings import Settings

    log = InferenceLog(Settings(root=root, inference_log_url=url))
    per_call = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(calls):
            inference = log.begin("triage", request_id="r", caller="bench", episode_id=None)
            with inference:
                pass
            log.finish(inference, inputs=TICKET, output=TICKET, outcome="ok", label=None)
        per_call.append((time.perf_counter() - started) / calls * 1e6)
    log.close()
    return statistics.median(per_call)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(), help="squad repo (default: .)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per variant")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--calls", type=int, default=2000, help="in-process calls per run")
    parser.add_argument("--postgres", default=os.environ.get("SQUAD_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    root = args.root.resolve()
    if not (root / "config").is_dir():
        print(f"error: {root} has no config/: run from a squad repo or pass --root")
        raise SystemExit(2)
    from squadkit.service.callers import add_caller

    base = args.postgres or DEFAULT_POSTGRES
    made = postgres_schema(base)
    p50s: dict[str, list[float]] = {}
    micro: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            callers = Path(scratch) / "callers.yaml"
            token = add_caller(callers, "bench", ["triage"], ["triage"])
            variants: dict[str, dict[str, str]] = {
                "off": {"SQUAD_INFERENCE_LOG_ENABLED": "false"},
                "off-again": {"SQUAD_INFERENCE_LOG_ENABLED": "false"},  # the noise floor
                "sqlite": {"SQUAD_INFERENCE_LOG_URL": f"sqlite:///{scratch}/log.sqlite3"},
            }
            if made is not None:
                variants["postgresql"] = {"SQUAD_INFERENCE_LOG_URL": made[0]}
            for _ in range(args.rounds):
                with ExitStack() as servers:
                    ports = {
                        name: servers.enter_context(server("service", root, callers, env))
                        for name, env in variants.items()
                    }
                    result = asyncio.run(interleaved(ports, args.duration, token))
                for name, p50 in result.items():
                    p50s.setdefault(name, []).append(p50)
            micro["sqlite"] = in_process(root, f"sqlite:///{scratch}/micro.sqlite3", args.calls)
            if made is not None:
                micro["postgresql"] = in_process(root, made[0], args.calls)
    finally:
        if made is not None:
            drop_schema(base, made[1])
    off = statistics.median(p50s["off"])
    print(
        f"POST /v1/triage, 1 connection per variant, in turn, {args.duration:g} s x "
        f"{args.rounds} rounds per variant, {os.cpu_count()} CPUs"
    )
    print(f"{'log':<12}{'p50 ms':>10}{'over off ms':>14}{'request-path us':>18}")
    for name, values in p50s.items():
        p50 = statistics.median(values)
        extra = f"{p50 - off:>14.3f}" if name != "off" else f"{'-':>14}"
        work = f"{micro[name]:>18.1f}" if name in micro else f"{'-':>18}"
        print(f"{name:<12}{p50:>10.3f}{extra}{work}")


if __name__ == "__main__":
    main()
