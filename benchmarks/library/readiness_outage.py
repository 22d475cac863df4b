"""How long `/readyz` takes while every provider call hangs (an outage under load).

    cd <squad repo> && .venv/bin/python <template>/benchmarks/library/readiness_outage.py \
        [--root .] [--hanging 20] [--probes 20]

Serves the squad workspace (`--root`, its prompts and features) under a real uvicorn with
each alias pointed at a fake OpenAI-compatible provider on 127.0.0.1 that never answers
(`squadkit.testing.FakeOpenAIServer`, `Reply.broken("hang")`), the offline model last.
`--hanging` feature requests are left waiting on it; then `--probes` sequential `/readyz`
probes are timed. Prints their median and maximum and how many took over 1 s (the target:
none). Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import yaml

# This script's folder is sys.path[0] when it runs; mypy reads the benchmarks as files.
from service_load import TICKET, squad_root  # type: ignore[import-not-found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(), help="squad repo (default: .)")
    parser.add_argument("--hanging", type=int, default=20, help="requests left hanging")
    parser.add_argument("--probes", type=int, default=20, help="/readyz probes timed")
    args = parser.parse_args()
    root = squad_root(args.root, "config/models.yaml")
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ["BENCH_PROVIDER_KEY"] = "sk-bench"

    from squadkit.service.callers import add_caller
    from squadkit.settings import Settings
    from squadkit.testing import FakeOpenAIServer, Reply
    from squadkit.testing.service import running

    with tempfile.TemporaryDirectory() as scratch, FakeOpenAIServer() as provider:
        provider.default = Reply.broken("hang")
        models = yaml.safe_load((root / "config" / "models.yaml").read_text(encoding="utf-8"))
        for alias in models["aliases"].values():
            offline = [d for d in alias["deployments"] if d["model"].startswith("local/")]
            fake = {
                "model": "openai/fake-model",
                "api_base": provider.base_url,
                "api_key_env": "BENCH_PROVIDER_KEY",
                "timeout_s": 60,
                "max_retries": 0,
            }
            alias["deployments"] = [fake, *offline]
        models_file = Path(scratch) / "models.yaml"
        models_file.write_text(yaml.safe_dump(models), encoding="utf-8")
        callers = Path(scratch) / "callers.yaml"
        token = add_caller(callers, "bench", ["triage"], ["triage"])
        settings = Settings(
            root=root,
            environment="test",
            log_level="ERROR",
            service_deadline_s=120,
            service_max_concurrency_per_client=args.hanging + 1,
            SQUAD_MODELS_FILE=str(models_file),
            SQUAD_CALLERS_FILE=str(callers),
        )
        with running(settings) as service:
            url = f"{service.base_url}/v1/triage"
            headers = {"Authorization": f"Bearer {token}"}
            for _ in range(args.hanging):
                threading.Thread(target=_post_quietly, args=(url, headers), daemon=True).start()
            deadline = time.monotonic() + 60
            while provider.request_count < args.hanging and time.monotonic() < deadline:
                time.sleep(0.05)
            timings, statuses = [], []
            with httpx.Client(base_url=service.base_url, timeout=30) as http:
                for _ in range(args.probes):
                    started = time.perf_counter()
                    statuses.append(http.get("/readyz").status_code)
                    timings.append(time.perf_counter() - started)
            # The hanging requests are abandoned on purpose: uvicorn's forced exit cancels
            # them, and it would log each cancellation as an error with its traceback.
            logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
            service.server.force_exit = True
    print(
        f"/readyz during an outage: {provider.request_count} provider calls hanging, "
        f"{args.probes} probes, {os.cpu_count()} CPUs"
    )
    print(
        f"median {statistics.median(timings) * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms, "
        f"over 1 s: {sum(t > 1 for t in timings)}, statuses {sorted(set(statuses))}"
    )


def _post_quietly(url: str, headers: dict[str, str]) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the server goes away at the end of the run
        httpx.post(url, json=TICKET, headers=headers, timeout=180)


if __name__ == "__main__":
    main()
