"""A key or an email a model repeats in its answer never reaches a file the evals write."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from squadkit.evals import RunOptions, load_suite, workflow
from squadkit.settings import Settings
from squadkit.testing import FakeOpenAIServer, Reply

EMAIL = "dana.lee@customer.example"


def test_answers_are_scrubbed_in_recordings_baselines_and_reports(
    settings: Settings, tmp_path: Path, fake_openai: FakeOpenAIServer, sentinel_key: str
) -> None:
    leaky = {
        "queue": "billing",
        "priority": "high",
        "rationale": f"Refund {EMAIL}; the key was {sentinel_key}.",
    }
    fake_openai.default = Reply.ok(json.dumps(leaky))
    models = yaml.safe_load(settings.models_file.read_text(encoding="utf-8"))
    models["aliases"]["triage"]["deployments"] = [
        {
            "model": "openai/fake-triage",
            "api_base": fake_openai.base_url,
            "api_key_env": "FAKE_PROVIDER_KEY",
            "max_retries": 0,
        }
    ]
    settings.models_file.write_text(yaml.safe_dump(models), encoding="utf-8")
    suite = load_suite(settings.evals_dir / "triage.yaml")
    out = tmp_path / "out"

    workflow.run(
        settings, suite, RunOptions(mode="record", progress=False), [suite.spec.target], out
    )
    workflow.baseline(
        settings, suite, RunOptions(mode="replay", progress=False), [suite.spec.target]
    )

    written = [
        path for folder in (settings.evals_dir, out) for path in folder.rglob("*") if path.is_file()
    ]
    assert any(path.suffix == ".jsonl" for path in written)
    assert any(path.name == "report.html" for path in written)
    for path in written:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert sentinel_key not in text, path
        assert EMAIL not in text, path
    recordings = (settings.evals_dir / "recordings" / "triage.jsonl").read_text()
    assert "[REDACTED]" in recordings
