"""How long `squad prompts check` takes on a large registry: 200 prompts x 5 versions.

Builds the registry in a temporary folder (every version distinct, every version locked,
production and staging labels gated with valid evidence), then prints the figures: the CLI
end to end (a fresh process, as CI runs it) before and after the files were validated once
(`prompts/.cache/`), and in-process checks with and without each cache. Every prompt is
derived from a squad workspace's `prompts/triage/v1.yaml` and `config/models.yaml` (a
rendered repo: the current directory, or `--root`).

    cd <squad repo> && .venv/bin/python <template>/benchmarks/library/prompts_check.py \
        [--root .] [--prompts 200] [--versions 5]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from squadkit.evals.verify import VerifiedCache, verification_key
from squadkit.gateway.config import load_models_config
from squadkit.prompts import (
    Evidence,
    check_prompts,
    file_hash,
    lock_prompts,
)
from squadkit.prompts.labels import LabelsFile, write_labels
from squadkit.prompts.loader import clear_cache
from squadkit.prompts.registry import scan_prompts
from squadkit.settings import Settings


def squad_workspace(path: Path) -> Path:
    """The squad repo the registry is derived from; exit 2 when it is not one."""
    root = path.resolve()
    for needed in ("config/models.yaml", "prompts/triage/v1.yaml"):
        if not (root / needed).exists():
            message = f"error: {root} has no {needed}: run from a squad repo or pass --root"
            print(message, file=sys.stderr)
            raise SystemExit(2)
    return root


def build(source: Path, root: Path, prompts: int, versions: int) -> None:
    """A registry of `prompts` x `versions` files derived from `source`'s triage v1."""
    (root / "config").mkdir()
    shutil.copy(source / "config" / "models.yaml", root / "config" / "models.yaml")
    template = yaml.safe_load((source / "prompts" / "triage" / "v1.yaml").read_text())
    dataset = root / "evals" / "datasets" / "bench.jsonl"
    dataset.parent.mkdir(parents=True)
    dataset.write_text('{"id": "1"}\n')
    labels: dict[str, dict[str, int]] = {}
    for index in range(prompts):
        name = f"prompt_{index:03d}"
        folder = root / "prompts" / name
        folder.mkdir(parents=True)
        for number in range(1, versions + 1):
            spec = dict(template, name=name, version=number)
            schema = json.loads(json.dumps(spec["input_schema"]))
            schema["properties"]["subject"]["maxLength"] = 100 + index * versions + number
            spec["input_schema"] = schema
            spec["description"] = f"Benchmark prompt {index} version {number}."
            (folder / f"v{number}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
        labels[name] = {"production": max(1, versions - 1), "staging": versions}
    write_labels(root / "prompts" / "labels.yaml", LabelsFile(labels=labels))
    lock_prompts(root / "prompts")
    models = load_models_config(root / "config" / "models.yaml")
    chain = models.deployment_chain("triage")
    settings = Settings(root=root)
    verified = VerifiedCache(settings.evals_dir)
    for name, versions_by_number in scan_prompts(root / "prompts").versions.items():
        for number in {labels[name]["production"], labels[name]["staging"]}:
            version = versions_by_number[number]
            evidence = Evidence(
                prompt=name,
                version=number,
                prompt_hash=version.content_hash,
                suite="bench",
                dataset="evals/datasets/bench.jsonl",
                dataset_hash=file_hash(dataset),
                models={"triage": chain[-1:]},
                verdict="pass",
            )
            path = root / "evals" / "evidence" / name / f"v{number}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(evidence.model_dump_json(indent=2))
            verified.put(f"{name}@v{number}", verification_key(settings, name, number))
    # This evidence is synthetic (no suite, no recordings), so nothing could replay it: mark
    # it verified, as a replay would, and the CLI measures the cached verification of 2 x
    # `prompts` files. The replay itself is measured on a real render (benchmarks/run.py).
    verified.save()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(), help="squad repo (default: .)")
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--versions", type=int, default=5)
    args = parser.parse_args()
    source = squad_workspace(args.root)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        build(source, root, args.prompts, args.versions)
        files = args.prompts * args.versions
        print(f"registry: {args.prompts} prompts x {args.versions} versions = {files} files")

        env = dict(os.environ, SQUAD_ROOT=str(root))
        squad = [sys.executable, "-m", "squadkit.cli"]
        cache = root / "prompts" / ".cache"

        def cli() -> float:
            start = time.perf_counter()
            result = subprocess.run(  # our own CLI
                [*squad, "prompts", "check"], env=env, capture_output=True, text=True, check=False
            )
            assert result.returncode == 0, result.stdout + result.stderr
            return time.perf_counter() - start

        cli()  # warm-up: Python's bytecode cache, as on any machine after the first run
        shutil.rmtree(cache, ignore_errors=True)
        first = cli()
        again = cli()
        start = time.perf_counter()
        subprocess.run([*squad, "--help"], env=env, capture_output=True, check=True)
        startup = time.perf_counter() - start
        print(f"squad prompts check, fresh process, nothing validated yet: {first:.3f} s")
        print(f"squad prompts check, fresh process, files validated before: {again:.3f} s")
        print(f"  (python + `squad --help` startup alone: {startup:.3f} s)")

        models = load_models_config(root / "config" / "models.yaml")
        evidence_dir = root / "evals" / "evidence"

        def check() -> float:
            start = time.perf_counter()
            problems = check_prompts(
                root / "prompts", models=models, evidence_dir=evidence_dir, root=root
            )
            assert not problems, problems[:3]
            return time.perf_counter() - start

        clear_cache()
        shutil.rmtree(cache, ignore_errors=True)
        cold = check()
        clear_cache()
        validated = check()
        warm = check()
        print(
            f"check_prompts in-process, full validation: {cold * 1000:.0f} ms "
            f"({cold / files * 1e6:.0f} us/file)"
        )
        print(f"check_prompts in-process, validated cache: {validated * 1000:.0f} ms")
        print(f"check_prompts in-process, warm (in-memory cache): {warm * 1000:.0f} ms")


if __name__ == "__main__":
    main()
