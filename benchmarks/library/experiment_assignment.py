"""What an online experiment's assignment adds to a served request (issue 26: at most 0.1 ms).

    cd <squad repo or template/> && .venv/bin/python <this file> [--calls 200000] [--rounds 5]

Times, in process, the service's own code (`squadkit.service.routing._assign`, then the
assigned version put in the context variable around the feature's `registry.get`): the
once-a-second look at config/experiments.yaml, the subject's bucket (BLAKE2b of experiment
name and X-Episode-Id), the arm, the assignment counter, the version for X-Prompt-Version.
Three variants: the feature's plain `registry.get` (what every request did before), the
same with no experiment running, and with one assigning. Prints one line per variant,
`name  calls  us/call` (median of rounds), then `added_us X` (assigned minus plain).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from squadkit.experiments import ExperimentsFile
from squadkit.prompts import PromptRegistry
from squadkit.prompts.registry import assigned_versions
from squadkit.service.routing import _assign

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


def per_call_us(calls: int, body: Callable[[], None]) -> float:
    started = time.perf_counter()
    body()
    return (time.perf_counter() - started) / calls * 1e6


def served(context: Any, registry: PromptRegistry, episodes: list[str], calls: int) -> None:
    """`calls` requests' assignment and the feature's lookup, as `serve_feature` does them."""
    for i in range(calls):
        state: dict[str, Any] = {"episode_id": episodes[i % 1000]}
        _assign("triage", context, state, None, None)
        token = assigned_versions.set(state.get("assigned"))
        registry.get("triage", label=None)
        assigned_versions.reset(token)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--prompts", type=Path, default=Path("prompts"))
    args = parser.parse_args()
    registry = PromptRegistry.load(args.prompts, label_overrides={})
    folder = Path(tempfile.mkdtemp(prefix="squad-assign-"))
    (folder / "running.yaml").write_text(yaml.safe_dump(EXPERIMENT), encoding="utf-8")
    (folder / "none.yaml").write_text("experiments: {}\n", encoding="utf-8")
    contexts = {
        name: SimpleNamespace(
            experiments=ExperimentsFile(folder / f"{name}.yaml", registry), registry=registry
        )
        for name in ("none", "running")
    }
    episodes = [f"episode-{i}" for i in range(1000)]
    calls = args.calls

    def plain() -> None:
        for i in range(calls):
            state: dict[str, Any] = {"episode_id": episodes[i % 1000]}
            registry.get("triage", label=None)
            state.get("assigned")

    variants: dict[str, Callable[[], None]] = {
        "plain registry.get": plain,
        "no experiment running": lambda: served(contexts["none"], registry, episodes, calls),
        "experiment assigned": lambda: served(contexts["running"], registry, episodes, calls),
    }
    figures: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, body in variants.items():
            figures[name].append(per_call_us(calls, body))
    print(f"{'variant':<24} {'calls':>8} {'us/call':>8}")
    for name, samples in figures.items():
        print(f"{name:<24} {calls:>8} {statistics.median(samples):8.2f}")
    medians = {name: statistics.median(samples) for name, samples in figures.items()}
    print(f"added_us {medians['experiment assigned'] - medians['plain registry.get']:.2f}")


if __name__ == "__main__":
    main()
