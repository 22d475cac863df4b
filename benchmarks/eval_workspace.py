"""Lay out the eval-throughput workspace: the squad suite and the same cases for promptfoo.

Runs with a rendered repo's interpreter (it has squadkit). The squad side reuses the library
benchmark `library/eval_concurrency.py` (`build_repo`: a `bench` suite of N cases from the
repo's triage prompt and dataset, one model call per case, cheap scorers, the `triage` alias
pointed at `--base-url`). The promptfoo side gets the very same chat messages (rendered by
squadkit's prompt registry), model parameters and checks (JSON valid against the output
schema, queue equals the expected one).

    <repo>/.venv/bin/python benchmarks/eval_workspace.py --repo R --out W --base-url URL
"""

import argparse
import importlib
import json
import sys
from pathlib import Path

from squadkit.prompts import PromptRegistry

MODEL = "fake-triage"
LIBRARY_BENCHMARKS = Path(__file__).resolve().parent / "library"


def squad_workspace(repo: Path, out: Path, base_url: str, cases: int, concurrency: int) -> None:
    """Build the squad workspace with the library benchmark's own builder."""
    sys.path.insert(0, str(LIBRARY_BENCHMARKS))
    eval_concurrency = importlib.import_module("eval_concurrency")
    eval_concurrency.build_repo(repo, out, base_url, cases, concurrency)


def promptfoo_config(out: Path, base_url: str, concurrency: int) -> None:
    """promptfoo config with one test per case: same messages, params and checks."""
    version = PromptRegistry.load(out / "prompts", label_overrides={}).get("triage")
    folder = out / "promptfoo"
    folder.mkdir()
    # A JSON chat prompt; each message arrives as a variable, JSON-encoded by nunjucks' dump.
    (folder / "prompt.json").write_text(
        '[{"role": "system", "content": {{ system | dump }}},\n'
        ' {"role": "user", "content": {{ user | dump }}}]\n',
        encoding="utf-8",
    )
    tests = []
    lines = (out / "evals" / "datasets" / "bench.jsonl").read_text(encoding="utf-8").splitlines()
    for line in lines:
        case = json.loads(line)
        rendered = version.render(case["inputs"])
        messages = {m["role"]: m["content"] for m in rendered.messages}
        expected = case["expected"]["queue"]
        tests.append(
            {
                "description": case["id"],
                "vars": {"system": messages["system"], "user": messages["user"]},
                "assert": [
                    {"type": "is-json", "value": rendered.output_schema},
                    {"type": "javascript", "value": f"JSON.parse(output).queue === '{expected}'"},
                ],
            }
        )
    config = {
        "description": "copier-ai-squad eval throughput benchmark",
        "prompts": ["file://prompt.json"],
        "providers": [
            {
                "id": f"openai:chat:{MODEL}",
                "config": {"apiBaseUrl": base_url, **dict(rendered.params)},
            }
        ],
        "evaluateOptions": {"maxConcurrency": concurrency},
        "tests": tests,
    }
    # JSON is YAML: promptfoo reads it as promptfooconfig.yaml.
    (folder / "promptfooconfig.yaml").write_text(json.dumps(config, indent=1), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    squad_workspace(args.repo, args.out, args.base_url, args.cases, args.concurrency)
    promptfoo_config(args.out, args.base_url, args.concurrency)
    print(args.out)


if __name__ == "__main__":
    main()
