"""Serve a rendered repo's fake OpenAI-compatible provider until stdin closes (or a time limit).

Runs with the rendered repo's interpreter; prints the base URL on its first line, then the
number of requests it answered when it stops. Every answer is the same triage JSON after
`--latency` seconds, so the squad runner, promptfoo and bare litellm all call one server.

    <repo>/.venv/bin/python benchmarks/fake_provider.py --repo <repo> [--latency 0.1]
"""

import argparse
import json
import sys
import threading
from pathlib import Path

ANSWER = json.dumps({"queue": "billing", "priority": "normal", "rationale": "mentions refund"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True, help="a rendered squad repo")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds before answering")
    parser.add_argument("--max-seconds", type=float, default=1800, help="stop after this long")
    args = parser.parse_args()
    sys.path.insert(0, str(args.repo / "tests"))
    from squadkit.testing import FakeOpenAIServer, Reply

    with FakeOpenAIServer(default=Reply.ok(ANSWER, latency_s=args.latency)) as server:
        print(server.base_url, flush=True)
        closed = threading.Event()
        threading.Thread(target=lambda: (sys.stdin.read(), closed.set()), daemon=True).start()
        closed.wait(timeout=args.max_seconds)
        print(server.request_count, flush=True)


if __name__ == "__main__":
    main()
