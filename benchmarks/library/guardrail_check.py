"""What one guardrail check of a running experiment costs the service (issue 26 item 4).

    cd <squad repo or template/> && .venv/bin/python <this file> [--rows 10000,100000] [--rounds 5]

Fills a SQLite inference log with ROWS answers of a 50/50 experiment (latency, outcome,
fallback; both arms within their bounds, so nothing is halted and every round does the
whole work) and times `GuardrailWatch.check`, what the service runs every
SQUAD_EXPERIMENTS_GUARDRAIL_CHECK_S seconds off the event loop: the halts read twice, the
experiment's rows read once and every guardrail of every arm computed as
`squad experiments report` computes it. Prints `rows  ms/check` (median of rounds) per size.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

from squadkit.experiments import ExperimentsFile
from squadkit.experiments.guardrails import GuardrailWatch
from squadkit.inferences import InferenceRecord, InferenceStore, uuid7
from squadkit.prompts import PromptRegistry

EXPERIMENT = {
    "experiments": {
        "bench": {
            "prompt": "triage",
            "status": "running",
            "arms": {"v1": {"version": 1, "weight": 50}, "v2": {"version": 2, "weight": 50}},
            "primary": {"feedback": "correct"},
            "guardrails": {
                "latency_p95_ms": {"at_most": 3000},
                "error_rate": {"at_most": 0.05},
                "fallback_rate": {"at_most": 0.1},
                "cost_per_answer_usd": {"at_most": 0.01},
            },
        }
    }
}


def filled_store(folder: Path, rows: int) -> InferenceStore:
    store = InferenceStore(f"sqlite:///{folder / f'log-{rows}.sqlite3'}")
    store.migrate()
    chance = random.Random(rows)
    now = datetime.now(UTC)
    for start in range(0, rows, 10_000):
        store.insert(
            [
                InferenceRecord(
                    uuid7(),
                    now,
                    "r",
                    "triage",
                    prompt="triage",
                    prompt_version=1 + i % 2,
                    experiment="bench",
                    arm=f"v{1 + i % 2}",
                    latency_ms=chance.uniform(100, 1500),
                    cost_usd=0.002,
                    outcome="ok" if chance.random() > 0.01 else "provider_unavailable",
                ).row()
                for i in range(start, min(rows, start + 10_000))
            ]
        )
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000,100000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--prompts", type=Path, default=Path("prompts"))
    args = parser.parse_args()
    registry = PromptRegistry.load(args.prompts, label_overrides={})
    folder = Path(tempfile.mkdtemp(prefix="squad-guardrails-"))
    (folder / "experiments.yaml").write_text(yaml.safe_dump(EXPERIMENT), encoding="utf-8")
    experiments = ExperimentsFile(folder / "experiments.yaml", registry)
    print(f"{'rows':>8} {'ms/check':>9}")
    for rows in (int(size) for size in args.rows.split(",")):
        store = filled_store(folder, rows)
        watch = GuardrailWatch(experiments, store)
        samples = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            check = watch.check()
            samples.append((time.perf_counter() - started) * 1000)
            assert not check.halted, "the benchmark's arms are within their bounds"
        print(f"{rows:>8} {statistics.median(samples):9.1f}")
        store.dispose()


if __name__ == "__main__":
    main()
