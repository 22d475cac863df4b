"""Serve squadkit's fake OpenAI-compatible provider until stdin closes (or a time limit).

Runs with any interpreter that has squadkit (the rendered repo's); prints the base URL on
its first line, then the number of requests it answered when it stops. Every answer is the
same triage JSON after `--latency` seconds, so the squad runner, promptfoo and bare litellm
all call one server.

    <repo>/.venv/bin/python benchmarks/fake_provider.py [--latency 0.1]
"""

import argparse
import json
import sys
import threading

from squadkit.testing import FakeOpenAIServer, Reply

ANSWER = json.dumps({"queue": "billing", "priority": "normal", "rationale": "mentions refund"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.1, help="seconds before answering")
    parser.add_argument("--max-seconds", type=float, default=1800, help="stop after this long")
    args = parser.parse_args()
    with FakeOpenAIServer(default=Reply.ok(ANSWER, latency_s=args.latency)) as server:
        print(server.base_url, flush=True)
        closed = threading.Event()

        def wait_for_stdin_to_close() -> None:
            sys.stdin.read()
            closed.set()

        threading.Thread(target=wait_for_stdin_to_close, daemon=True).start()
        closed.wait(timeout=args.max_seconds)
        print(server.request_count, flush=True)


if __name__ == "__main__":
    main()
