"""What the inference log adds to a served request: p50 with the log off, on SQLite and on
PostgreSQL, side by side in one run (issue 25: target at most 0.3 ms over off).

    cd <squad repo> && .venv/bin/python <template>/benchmarks/library/inference_log_overhead.py \
        [--root .] [--duration 3] [--rounds 3] [--postgres URL]

Two figures, because a p50 difference of a few tenths of a millisecond is within the noise
of a loaded machine:

1. end to end: `POST /v1/triage` (offline provider) through uvicorn in its own process,
   one keep-alive connection (no queueing: each figure is one request's latency), the
   three variants interleaved over `--rounds` rounds, the median of the rounds' p50s;
2. in process: the work the log does on the request path (`InferenceLog.begin`, the
   capture context, `finish`: building the row and one `put_nowait`), timed over many
   calls; the insert itself runs on the writer's thread.

PostgreSQL is `--postgres`, else SQUAD_TEST_POSTGRES_URL, else postgres@127.0.0.1:5432/test;
the rows go to a scratch schema dropped at the end. Unreachable: that column is skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

# This script's folder is sys.path[0] when it runs; mypy reads the benchmarks as files.
from service_load import TICKET, load, server  # type: ignore[import-not-found]

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_schema(base: str) -> tuple[str, str] | None:
    """(url with a scratch schema, schema) or None when PostgreSQL is unreachable."""
    from sqlalchemy import create_engine, text

    schema = f"bench_inferlog_{uuid.uuid4().hex[:8]}"
    engine = create_engine(base, connect_args={"connect_timeout": 3})
    try:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:
        print(f"PostgreSQL at {base} unreachable ({type(error).__name__}): column skipped")
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
                "sqlite": {"SQUAD_INFERENCE_LOG_URL": f"sqlite:///{scratch}/log.sqlite3"},
            }
            if made is not None:
                variants["postgresql"] = {"SQUAD_INFERENCE_LOG_URL": made[0]}
            for _ in range(args.rounds):
                for name, env in variants.items():
                    with server("service", root, callers, env) as port:
                        result: dict[str, Any] = asyncio.run(load(port, args.duration, 1, token))
                    p50s.setdefault(name, []).append(result["p50_ms"])
            micro["sqlite"] = in_process(root, f"sqlite:///{scratch}/micro.sqlite3", args.calls)
            if made is not None:
                micro["postgresql"] = in_process(root, made[0], args.calls)
    finally:
        if made is not None:
            drop_schema(base, made[1])
    off = statistics.median(p50s["off"])
    print(
        f"POST /v1/triage, 1 connection, {args.duration:g} s x {args.rounds} rounds per "
        f"variant, {os.cpu_count()} CPUs"
    )
    print(f"{'log':<12}{'p50 ms':>10}{'over off ms':>14}{'request-path us':>18}")
    for name, values in p50s.items():
        p50 = statistics.median(values)
        extra = f"{p50 - off:>14.3f}" if name != "off" else f"{'-':>14}"
        work = f"{micro[name]:>18.1f}" if name in micro else f"{'-':>18}"
        print(f"{name:<12}{p50:>10.3f}{extra}{work}")


if __name__ == "__main__":
    main()
