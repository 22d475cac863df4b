"""How well the offline triage models follow the template's prompts: accuracy per prompt variant.

Renders each case of a squad repo's triage dataset with each shipped prompt version, and
with copies that lose part of the prompt (the rubric, the ticket's body), asks each
`local/` triage model, and prints queue and priority accuracy. A model that follows the
prompt scores lower on the damaged copies; one that reads only the ticket does not.

The triage models are the squad's (`src/<package>/offline/triage.py`, seeded by the
template), so the script measures a squad repo: by default a render of this template's
working tree (Copier, tasks skipped) in a temporary folder, or the repo `--repo` names.
squadkit answers as it does in that repo, through the package its entry point declares.

    .venv/bin/python benchmarks/offline_triage_accuracy.py [--repo <squad repo>]
"""

import argparse
import json
import os
import re
import sys
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import copier

from squadkit.gateway.local_models import answer
from squadkit.plugins import ENTRY_POINT_GROUP, PACKAGE_ENV
from squadkit.prompts import PromptRegistry

TEMPLATE = Path(__file__).resolve().parents[1]
MODELS = ("triage-rules-v1", "triage-rubric-v1")
Messages = list[dict[str, Any]]

# What a prompt says once its rubric is deleted: the names, no definitions, no rules.
RUBRICLESS = (
    "You triage customer support tickets for a software company.\n"
    "Pick exactly one queue: billing, technical, account, shipping, sales or security.\n"
    "Pick exactly one priority: low, normal, high or urgent.\n"
    'Answer with JSON only: {"queue": ..., "priority": ..., "rationale": ...}.\n'
)


def _replace_system(messages: Messages, text: str) -> Messages:
    return [{**m, "content": text} if m["role"] == "system" else m for m in messages]


def _without_body(messages: Messages, body: str) -> Messages:
    return [{**m, "content": str(m["content"]).replace(body, "")} for m in messages]


def _without_security_rule(messages: Messages) -> Messages:
    rule = re.compile(r"security tickets are at least high;\s*")
    return [{**m, "content": rule.sub("", str(m["content"]))} for m in messages]


VARIANTS: dict[str, Callable[[Messages, dict[str, Any]], Messages]] = {
    "as shipped": lambda messages, inputs: messages,
    "rubric deleted": lambda messages, inputs: _replace_system(messages, RUBRICLESS),
    "body dropped": lambda messages, inputs: _without_body(messages, inputs["body"]),
    "security rule removed": lambda messages, inputs: _without_security_rule(messages),
}


def use_squad(repo: Path) -> None:
    """Answer `local/` models as `repo` does: its package (from the entry point its
    pyproject.toml declares) importable from its `src/`, and named to squadkit."""
    pyproject = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    package = next(iter(pyproject["project"]["entry-points"][ENTRY_POINT_GROUP].values()))
    sys.path.insert(0, str(repo / "src"))
    os.environ[PACKAGE_ENV] = package


def render_template(destination: Path) -> Path:
    """A default render of this template's working tree (what a new squad starts from)."""
    copier.run_copy(
        str(TEMPLATE), str(destination), data={"project_name": "Accuracy Squad"},
        defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True, skip_tasks=True,
    )  # fmt: skip
    return destination


def measure(repo: Path) -> list[tuple[str, str, str, float, float]]:
    registry = PromptRegistry.load(repo / "prompts")
    lines = (repo / "evals/datasets/triage.jsonl").read_text(encoding="utf-8").splitlines()
    cases = [json.loads(line) for line in lines if line.strip()]
    rows = []
    for version in (1, 2):
        prompt = registry.get("triage", version=version)
        for variant, damage in VARIANTS.items():
            if variant == "security rule removed" and version == 1:
                continue  # v1 states no rule
            for model in MODELS:
                queue = priority = 0
                for case in cases:
                    messages = damage(prompt.render(case["inputs"]).messages, case["inputs"])
                    output = json.loads(answer(model, messages).text)
                    queue += output.get("queue") == case["expected"]["queue"]
                    priority += output.get("priority") == case["expected"]["priority"]
                rows.append(
                    (f"v{version}", variant, model, queue / len(cases), priority / len(cases))
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, help="a squad repo (default: render this template)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        repo = args.repo or render_template(Path(scratch) / "squad")
        use_squad(repo.resolve())
        print(f"{'prompt':<7}{'variant':<23}{'model':<18}{'queue':>7}{'priority':>10}")
        for version, variant, model, queue, priority in measure(repo):
            print(f"{version:<7}{variant:<23}{model:<18}{queue:>7.3f}{priority:>10.3f}")


if __name__ == "__main__":
    main()
