"""Runner throughput against a provider with 100 ms latency: 1,000 cases at concurrency 50.

A fake OpenAI-compatible server on 127.0.0.1 (`squadkit.testing`) answers every call after
100 ms, through the real gateway (a one-deployment chain: `litellm.acompletion` directly,
no Router). The cases and the `triage` prompt come from a squad workspace (a rendered
repo: the current directory, or `--root`). The ideal wall time is
cases / concurrency x latency = 1000 / 50 x 0.1 s = 2.0 s; the script prints the measured
wall time next to it (litellm's import is reported separately). `--workers N` splits the
run across N processes as `squad eval run --workers N` does (forked after the import).

The fake server runs in this process unless `--base-url` names one already listening (the
harness passes the one its bare-litellm reference calls): in this process, its own CPU is
counted against the runner's throughput, which a real provider's never is.

    cd <squad repo> && .venv/bin/python <template>/benchmarks/library/eval_concurrency.py \
        [--root .] [--cases 1000] [--concurrency 50] [--workers 1] [--base-url URL] [--warm-up]

`--warm-up` runs a one-case suite untimed first, in the same process, as the bare-litellm
reference (`benchmarks/litellm_floor.py` without `--cold`) leaves its first call out of its
clock.
"""

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from squadkit.evals import RunOptions, load_suite, workflow
from squadkit.settings import Settings
from squadkit.testing import FakeOpenAIServer, Reply

ANSWER = json.dumps({"queue": "billing", "priority": "normal", "rationale": "mentions refund"})


def squad_workspace(path: Path) -> Path:
    """The squad repo whose prompts and cases are measured; exit 2 when it is not one."""
    root = path.resolve()
    for needed in ("prompts/triage", "evals/datasets/triage.jsonl"):
        if not (root / needed).exists():
            message = f"error: {root} has no {needed}: run from a squad repo or pass --root"
            print(message, file=sys.stderr)
            raise SystemExit(2)
    return root


def build_repo(source: Path, root: Path, base_url: str, cases: int, concurrency: int) -> None:
    """A `bench` suite of `cases` cases in `root`, from `source`'s triage prompt and dataset,
    its `triage` alias pointed at `base_url` (one model call per case, cheap scorers)."""
    shutil.copytree(source / "prompts", root / "prompts")
    (root / "config").mkdir()
    models = {
        "aliases": {
            "triage": {
                "deployments": [
                    {
                        "model": "openai/fake-triage",
                        "api_base": base_url,
                        "api_key_env": "FAKE_PROVIDER_KEY",
                        "max_retries": 0,
                    }
                ]
            },
            "judge": {"deployments": [{"model": "local/judge-heuristic-v1"}]},
        }
    }
    (root / "config" / "models.yaml").write_text(yaml.safe_dump(models), encoding="utf-8")
    dataset = source / "evals" / "datasets" / "triage.jsonl"
    lines = dataset.read_text(encoding="utf-8").splitlines()
    (root / "evals" / "datasets").mkdir(parents=True)
    with (root / "evals" / "datasets" / "bench.jsonl").open("w", encoding="utf-8") as out:
        for i in range(cases):
            case = json.loads(lines[i % len(lines)])
            case["id"] = f"bench-{i:05d}"
            out.write(json.dumps(case) + "\n")
    suite = {
        "name": "bench",
        "target": {"prompt": "triage", "label": "production"},
        "dataset": "datasets/bench.jsonl",
        "concurrency": concurrency,
        "scorers": [
            {"name": "queue", "type": "json_field", "path": "queue", "expected_field": "queue"},
            {"name": "schema", "type": "json_schema"},
        ],
        "gate": {"regression": None},
    }
    (root / "evals" / "bench.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(), help="squad repo (default: .)")
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=1, help="processes (as --workers)")
    parser.add_argument(
        "--base-url", help="a fake provider already listening (default: one in this process)"
    )
    parser.add_argument(
        "--warm-up",
        action="store_true",
        help="run one case untimed first, as the bare-litellm reference makes its first call",
    )
    args = parser.parse_args()
    source = squad_workspace(args.root)
    os.environ["FAKE_PROVIDER_KEY"] = "sk-fake"
    with contextlib.ExitStack() as stack:
        server = None
        base_url = args.base_url
        if base_url is None:
            server = stack.enter_context(FakeOpenAIServer())
            server.default = Reply.ok(ANSWER, latency_s=args.latency)
            base_url = server.base_url
        root = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        build_repo(source, root, base_url, args.cases, args.concurrency)
        settings = Settings(root=root)
        suite = load_suite(root / "evals" / "bench.yaml")
        options = RunOptions(mode="live", progress=False)

        started = time.perf_counter()
        import litellm  # noqa: F401 - timed separately from the run

        imported = time.perf_counter() - started
        if args.warm_up:
            # As bare litellm's reference does with its first call: litellm's lazy imports and
            # its HTTP client set-up, once per process, are paid before the clock starts. The
            # timed run still loads its suite and prompts and builds its own gateway.
            warm = root / "warm"
            build_repo(source, warm, base_url, 1, 1)
            warm_suite = load_suite(warm / "evals" / "bench.yaml")
            with workflow.open_report(
                Settings(root=warm), warm_suite, options, [warm_suite.spec.target], workers=1
            ):
                pass
        cpu, started = time.process_time(), time.perf_counter()
        with workflow.open_report(
            settings, suite, options, [suite.spec.target], workers=args.workers
        ) as report:
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    ideal = args.cases / args.concurrency * args.latency
    summary = report.arm().summary
    print(f"litellm import:        {imported:.2f} s (not counted below)")
    print(f"cases:                 {summary.cases} (errors {summary.errors})")
    print(
        f"concurrency:           {args.concurrency}, provider latency {args.latency * 1000:.0f} ms"
        f", {args.workers} process(es)"
    )
    print(f"wall time:             {wall:.2f} s (ideal {ideal:.2f} s, {wall / ideal:.2f}x)")
    print(f"cpu time:              {cpu:.2f} s (this process only)")
    print(f"throughput:            {summary.cases / wall:.0f} cases/s")
    p50, p95 = summary.latency_p50_s * 1000, summary.latency_p95_s * 1000
    print(f"latency p50 / p95:     {p50:.0f} / {p95:.0f} ms")
    if server is not None:
        print(f"requests at the fake:  {server.request_count}")
    else:
        print(f"provider:              {base_url} (another process)")


if __name__ == "__main__":
    main()
