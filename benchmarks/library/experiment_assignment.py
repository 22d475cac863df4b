"""What an online experiment's assignment adds to a served request (issue 26: at most 0.1 ms).

    cd <squad repo or template/> && .venv/bin/python <this file> [--calls 200000] [--rounds 5]

Times, in process, the work `serve_feature` does per request for an experiment: the mtime
check of config/experiments.yaml (one `stat`), the subject's bucket (BLAKE2b of experiment
name and X-Episode-Id), the arm, the assigned version put in a context variable, and the
feature's `registry.get` that returns it. Beside it the same `registry.get` without any
experiment, so the difference is what assignment adds. Prints one line per variant:
`name  calls  us/call (median of rounds)`, then `added_us  X`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from squadkit.experiments import ExperimentsFile
from squadkit.prompts import PromptRegistry
from squadkit.prompts.registry import assigned_versions

EXPERIMENT = {
    "experiments": {
        "bench": {
            "prompt": "triage",
            "status": "running",
            "arms": {"v1": {"version": 1, "weight": 50}, "v2": {"version": 2, "weight": 50}},
            "primary": {"feedback": "correct"},
        }
    }
}


def per_call_us(calls: int, body: object) -> float:
    started = time.perf_counter()
    body()  # type: ignore[operator]
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--prompts", type=Path, default=Path("prompts"))
    args = parser.parse_args()
    registry = PromptRegistry.load(args.prompts, label_overrides={})
    path = Path(tempfile.mkdtemp(prefix="squad-assign-")) / "experiments.yaml"
    path.write_text(yaml.safe_dump(EXPERIMENT), encoding="utf-8")
    experiments = ExperimentsFile(path, registry)
    episodes = [f"episode-{i}" for i in range(1000)]
    calls = args.calls

    def plain() -> None:
        for i in range(calls):
            registry.get("triage", label=None)
            _ = episodes[i % 1000]  # the same loop work as `assigned`

    def assigned() -> None:
        for i in range(calls):
            assignment = experiments.assign(
                "triage", label=None, inputs=None, episode_id=episodes[i % 1000]
            )
            version = assignment.version if assignment else None
            token = assigned_versions.set(
                {("triage", version.label or "production"): version} if version else None
            )
            registry.get("triage", label=None)
            assigned_versions.reset(token)

    figures: dict[str, list[float]] = {"no experiment": [], "experiment assigned": []}
    for _ in range(args.rounds):
        figures["no experiment"].append(per_call_us(calls, plain))
        figures["experiment assigned"].append(per_call_us(calls, assigned))
    print(f"{'variant':<22} {'calls':>8} {'us/call':>8}")
    for name, samples in figures.items():
        print(f"{name:<22} {calls:>8} {statistics.median(samples):8.2f}")
    added = statistics.median(figures["experiment assigned"]) - statistics.median(
        figures["no experiment"]
    )
    print(f"added_us {added:.2f}")


if __name__ == "__main__":
    main()
