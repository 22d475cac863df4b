"""Replay speed: 10,000 cached cases with cheap scorers, cases per second.

Writes a synthetic 10,000-case dataset and one recording per case (keys computed exactly as
the runner does), then times `run_suite` in replay mode: render, key, read, score, report.
No model is called and litellm is never imported. Prompts, models and cases come from a
squad workspace (a rendered repo: the current directory, or `--root`).

`--workspace DIR` only writes that `bench` suite (dataset, recordings) into DIR and exits,
so that a whole `squad eval run bench --mode replay` can be measured on it in a process of
its own (`benchmarks/run.py`'s peak memory on 100,000 replayed cases).

    cd <squad repo> && .venv/bin/python <template>/benchmarks/library/eval_replay.py \
        [--root .] [--cases 10000] [--workspace DIR]
"""

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

from squadkit.evals import (
    RecordedResponse,
    ResponseCache,
    RunOptions,
    load_suite,
    request_key,
    run_suite,
)
from squadkit.gateway.config import load_models_config
from squadkit.prompts import PromptRegistry
from squadkit.settings import Settings


def squad_workspace(path: Path) -> Path:
    """The squad repo whose prompts and cases are measured; exit 2 when it is not one."""
    root = path.resolve()
    for needed in ("config/models.yaml", "prompts/triage", "evals/datasets/triage.jsonl"):
        if not (root / needed).exists():
            message = f"error: {root} has no {needed}: run from a squad repo or pass --root"
            print(message, file=sys.stderr)
            raise SystemExit(2)
    return root


def build_repo(source: Path, root: Path, cases: int) -> None:
    """A `bench` suite of `cases` distinct cases in `root`, from `source`'s triage data."""
    for folder in ("prompts", "config"):
        shutil.copytree(source / folder, root / folder)
    dataset = source / "evals" / "datasets" / "triage.jsonl"
    lines = dataset.read_text(encoding="utf-8").splitlines()
    (root / "evals" / "datasets").mkdir(parents=True)
    with (root / "evals" / "datasets" / "bench.jsonl").open("w", encoding="utf-8") as out:
        for i in range(cases):
            case = json.loads(lines[i % len(lines)])
            case["id"] = f"bench-{i:05d}"
            case["inputs"]["subject"] = f"{case['inputs']['subject']} #{i}"  # distinct requests
            out.write(json.dumps(case) + "\n")
    suite = {
        "name": "bench",
        "target": {"prompt": "triage", "label": "production"},
        "dataset": "datasets/bench.jsonl",
        "concurrency": 64,
        "scorers": [
            {"name": "schema", "type": "json_schema"},
            {"name": "queue", "type": "json_field", "path": "queue", "expected_field": "queue"},
            {
                "name": "priority",
                "type": "json_field",
                "path": "priority",
                "expected_field": "priority",
            },
            {"name": "latency", "type": "latency", "max_s": 5},
        ],
        "gate": {"regression": None},
    }
    (root / "evals" / "bench.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")


def record(root: Path) -> None:
    """One recording per case, keyed as the runner keys it, flushed to the suite's file."""
    settings = Settings(root=root)
    suite = load_suite(root / "evals" / "bench.yaml")
    version = PromptRegistry.load(settings.prompts_dir, label_overrides={}).get("triage")
    chain = load_models_config(settings.models_file).deployment_chain(version.model)
    cache = ResponseCache(suite.recordings_path)
    for line in suite.dataset_path.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        rendered = version.render(case["inputs"])
        key = request_key(
            alias=rendered.model,
            chain=chain,
            messages=rendered.messages,
            params=rendered.params,
            output_schema=rendered.output_schema,
        )
        output = {"queue": case["expected"]["queue"], "priority": "normal", "rationale": "x" * 20}
        response = RecordedResponse(
            text=json.dumps(output),
            output=output,
            alias="triage",
            deployment=chain[0],
            latency_s=0.05,
        )
        cache.put(key, {"case": case["id"]}, response)
    cache.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(), help="squad repo (default: .)")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument(
        "--workspace", type=Path, help="only write the bench suite into this (new) folder"
    )
    args = parser.parse_args()
    source = squad_workspace(args.root)
    if args.workspace is not None:
        args.workspace.mkdir(parents=True)
        build_repo(source, args.workspace, args.cases)
        record(args.workspace)
        print(f"workspace:         {args.workspace} ({args.cases} cases)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build_repo(source, root, args.cases)
        started = time.perf_counter()
        record(root)
        recorded = time.perf_counter() - started
        suite = load_suite(root / "evals" / "bench.yaml")
        started = time.perf_counter()
        report = asyncio.run(
            run_suite(
                suite,
                settings=Settings(root=root),
                options=RunOptions(mode="replay", progress=False),
            )
        )
        wall = time.perf_counter() - started
    summary = report.arm().summary
    print(f"cases:             {summary.cases}")
    print(f"writing cache:     {recorded:.2f} s")
    print(f"replay wall time:  {wall:.2f} s")
    print(f"replay speed:      {summary.cases / wall:.0f} cases/s")
    print(f"litellm imported:  {'litellm' in sys.modules}")


if __name__ == "__main__":
    main()
