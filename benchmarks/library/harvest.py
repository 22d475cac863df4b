"""How long `squad harvest` takes over a large inference log, and how much memory it holds
(issue 25: 1,000,000 logged inferences in at most 30 s, memory bounded).

    cd <squad repo or template/> && .venv/bin/python <repo>/benchmarks/library/harvest.py \
        [--rows 1000000] [--backend sqlite,postgresql] [--postgres URL]

The squad is the current directory's `evals/triage.yaml` and its dataset, copied to a
scratch folder with a `config/feedback.yaml` declaring `correct` (boolean) and
`helpfulness` (1-5). The log is filled by bulk insert (sqlite3 `executemany`, PostgreSQL
`COPY`), as the service would have written it with content capture on: every row a
distinct ticket; 1 in 100 answered by a fallback, 1 in 10 with an online score (a tenth
of them low), 1 in 200 with feedback (half negative). Then `squad harvest triage
--sample 20 --limit 1000` runs in its own process; printed per backend:

    harvest <backend> <rows> rows: fill <s> s, harvest <s> s, peak RSS <MB> MB, <n> candidates

The harvest's peak RSS is the child's `ru_maxrss`: bounded means it stays near the same
figure for 100,000 and 1,000,000 rows (`--rows 100000` to compare).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# This script's folder is sys.path[0] when it runs; mypy reads the benchmarks as files.
from inference_log_overhead import (  # type: ignore[import-not-found]
    DEFAULT_POSTGRES,
    drop_schema,
    postgres_schema,
)

FEEDBACK_YAML = """metrics:
  correct: {kind: boolean}
  helpfulness: {kind: number, min: 1, max: 5}
"""
COLUMNS = (
    "id", "created_at", "request_id", "feature", "outcome", "caller", "prompt",
    "prompt_version", "prompt_label", "prompt_hash", "alias", "deployment", "fallback_used",
    "attempts", "latency_ms", "input_tokens", "output_tokens", "cost_usd", "scores",
    "inputs_sha256", "inputs_chars", "inputs", "output_sha256", "output_chars", "output",
)  # fmt: skip
OUTPUT = json.dumps({"priority": "high", "queue": "billing", "rationale": "charged twice"})
OUTPUT_SHA = hashlib.sha256(OUTPUT.encode()).hexdigest()


def squad_folder(source: Path, into: Path) -> Path:
    """A scratch squad: the current directory's triage suite and dataset, a feedback.yaml."""
    (into / "config").mkdir(parents=True)
    (into / "config" / "feedback.yaml").write_text(FEEDBACK_YAML, encoding="utf-8")
    (into / "evals" / "datasets").mkdir(parents=True)
    shutil.copy(source / "evals" / "triage.yaml", into / "evals" / "triage.yaml")
    shutil.copy(
        source / "evals" / "datasets" / "triage.jsonl",
        into / "evals" / "datasets" / "triage.jsonl",
    )
    return into


START = datetime.now(UTC) - timedelta(days=7)
FEEDBACK_COLUMNS = (
    "id", "created_at", "inference_id", "metric", "kind", "value", "caller", "prompt",
    "prompt_version",
)  # fmt: skip


def rows(count: int, feedback: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """`count` inferences, oldest first, ids UUIDv7-shaped and increasing with time; the
    feedback on one in 200 of them (every other one negative) goes to `feedback`."""
    start_ms = int(START.timestamp() * 1000)
    sha256 = hashlib.sha256
    for number in range(count):
        value = ((start_ms + number) << 80) | (0x7 << 76) | (0b10 << 62) | number
        hexed = f"{value:032x}"
        identifier = f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"
        created = START + timedelta(milliseconds=number)
        inputs = (
            f'{{"body":"Ticket {number}: I was charged twice for my order, please refund.",'
            f'"channel":"email","customer_tier":"pro","subject":"Charged twice #{number}"}}'
        )
        scores = None
        if number % 10 == 0:
            scores = '{"length": 0.2}' if number % 100 == 0 else '{"length": 0.9}'
        version = 1 + number % 2
        if number % 200 == 3:
            correct = "true" if number % 400 != 3 else "false"
            given = (str(uuid.uuid4()), created, identifier, "correct", "boolean", correct,
                     "crm", "triage", version)  # fmt: skip
            feedback.append(given)
        yield (
            identifier, created, "req", "triage", "ok", "crm", "triage", version, "production",
            "sha256:" + "0" * 64, "triage", "openai/gpt-4o-mini", number % 100 == 7, 1, 420.0,
            200, 40, 0.0001, scores, sha256(inputs.encode()).hexdigest(), len(inputs), inputs,
            OUTPUT_SHA, len(OUTPUT), OUTPUT,
        )  # fmt: skip


def fill_sqlite(url: str, count: int) -> None:
    import sqlite3

    path = url.removeprefix("sqlite:///")
    feedback: list[tuple[Any, ...]] = []
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA synchronous=OFF")
        marks = ",".join("?" * len(COLUMNS))
        connection.executemany(
            f"INSERT INTO inferences ({','.join(COLUMNS)}) VALUES ({marks})",
            ((row[0], sqlite_time(row[1]), *row[2:]) for row in rows(count, feedback)),
        )
        marks = ",".join("?" * len(FEEDBACK_COLUMNS))
        connection.executemany(
            f"INSERT INTO feedback ({','.join(FEEDBACK_COLUMNS)}) VALUES ({marks})",
            ((row[0], sqlite_time(row[1]), *row[2:]) for row in feedback),
        )


def sqlite_time(moment: datetime) -> str:
    """A time as SQLAlchemy stores it in SQLite (`2026-12-07 09:00:00.123456`)."""
    return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def fill_postgres(url: str, count: int) -> None:
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    feedback: list[tuple[Any, ...]] = []
    with psycopg.connect(plain) as connection, connection.cursor() as cursor:
        with cursor.copy(f"COPY inferences ({','.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows(count, feedback):
                copy.write_row(row)
        with cursor.copy(f"COPY feedback ({','.join(FEEDBACK_COLUMNS)}) FROM STDIN") as copy:
            for row in feedback:
                copy.write_row(row)
    # As autovacuum leaves a long-lived table: visibility map and hint bits set, statistics
    # current (else the first scan after a bulk load pays for writing them).
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE inferences")
        connection.execute("VACUUM ANALYZE feedback")


def harvest(root: Path, url: str) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, its output line) of `squad harvest triage --sample 20`."""
    squad = Path(sys.executable).with_name("squad")
    env = {**os.environ, "SQUAD_ROOT": str(root), "SQUAD_INFERENCE_LOG_URL": url}
    with tempfile.TemporaryFile("w+") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(squad), "harvest", "triage", "--sample", "20", "--limit", "1000"],
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        _, status, usage = os.wait4(process.pid, 0)  # this child's own peak RSS
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read()
    peak_kb = usage.ru_maxrss
    if process.returncode != 0:
        raise SystemExit(f"squad harvest failed: {output.strip()}")
    return seconds, peak_kb / 1024, output.strip()


def measure(backend: str, count: int, postgres: str) -> None:
    from squadkit.inferences import InferenceStore

    with tempfile.TemporaryDirectory(prefix="bench-harvest-") as folder:
        root = squad_folder(Path.cwd(), Path(folder) / "squad")
        schema = None
        if backend == "sqlite":
            url = f"sqlite:///{Path(folder) / 'log.sqlite3'}"
        else:
            found = postgres_schema(postgres, purpose="harvest", skipped="skipped")
            if found is None:
                return
            url, schema = found
        store = InferenceStore(url)
        store.migrate()
        store.dispose()
        try:
            started = time.perf_counter()
            (fill_sqlite if backend == "sqlite" else fill_postgres)(url, count)
            filled = time.perf_counter() - started
            seconds, peak_mb, output = harvest(root, url)
        finally:
            if schema is not None:
                drop_schema(postgres, schema)
    candidates = output.split(" candidate(s)")[0].rsplit(" ", 1)[-1]
    print(
        f"harvest {backend} {count} rows: fill {filled:.1f} s, harvest {seconds:.2f} s, "
        f"peak RSS {peak_mb:.0f} MB, {candidates} candidates"
    )
    print(f"  {output}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backend", default="sqlite,postgresql")
    parser.add_argument(
        "--postgres", default=os.environ.get("SQUAD_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    args = parser.parse_args()
    for backend in args.backend.split(","):
        measure(backend.strip(), args.rows, args.postgres)


if __name__ == "__main__":
    main()
