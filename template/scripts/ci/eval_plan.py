"""Decide how CI runs the evals: the mode, and how many shards.

Prints GitHub output lines (`mode=...`, `shards=[1, 2]`, `count=2`) for `$GITHUB_OUTPUT`.

- mode: `EVAL_MODE` when set (CI passes the repository variable SQUAD_EVAL_MODE, so the
  plan job never sees a secret); otherwise `live` only when config/models.yaml names at
  least one `api_key_env` and every one of them is set in the environment (a laptop with
  its keys exported), else `replay` from the committed recordings, so a pull request from
  a fork, or a repo on the offline provider, still gets a real, reproducible gate.
- shards: one per `EVAL_CASES_PER_SHARD` dataset cases (default 200), at most
  `EVAL_MAX_SHARDS` (default 4).

Standard library only: it runs before any dependency is installed.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from pathlib import Path

KEY_ENV = re.compile(r"^\s*-?\s*api_key_env:\s*[\"']?([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)


def required_keys(models_file: Path) -> set[str]:
    if not models_file.is_file():
        return set()
    return set(KEY_ENV.findall(models_file.read_text(encoding="utf-8")))


def eval_mode(models_file: Path, environ: dict[str, str]) -> str:
    keys = required_keys(models_file)
    return "live" if keys and all(environ.get(key) for key in keys) else "replay"


def case_count(datasets: Path) -> int:
    total = 0
    for dataset in sorted(datasets.glob("**/*.jsonl")):
        with dataset.open(encoding="utf-8") as lines:
            total += sum(1 for line in lines if line.strip())
    return total


def shard_count(cases: int, per_shard: int, most: int) -> int:
    return max(1, min(most, math.ceil(cases / max(per_shard, 1))))


def main() -> int:
    root = Path.cwd()
    environ = dict(os.environ)
    mode = os.environ.get("EVAL_MODE") or eval_mode(root / "config" / "models.yaml", environ)
    count = shard_count(
        case_count(root / "evals" / "datasets"),
        int(environ.get("EVAL_CASES_PER_SHARD", "200")),
        int(environ.get("EVAL_MAX_SHARDS", "4")),
    )
    sys.stdout.write(f"mode={mode}\n")
    sys.stdout.write(f"shards={json.dumps(list(range(1, count + 1)))}\n")
    sys.stdout.write(f"count={count}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
