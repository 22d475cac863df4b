"""Helpers of the service tests: the fixture squad's settings, a ticket, fake models."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from squadkit.settings import Settings
from squadkit.testing.service import RunningService, running
from tests.library.squad import ROOT as SQUAD

__all__ = [
    "AUTH",
    "PLATFORM_TOKEN",
    "REVOKED_TOKEN",
    "SQUAD",
    "TICKET",
    "TRIAGE_ONLY_TOKEN",
    "VALID_ANSWER",
    "RunningService",
    "fake_models",
    "running",
    "settings_with",
]

PLATFORM_TOKEN = "sqd_test-platform-token-not-secret"  # noqa: S105 - test-only
TRIAGE_ONLY_TOKEN = "sqd_test-triage-only-token-not-secret"  # noqa: S105 - test-only
REVOKED_TOKEN = "sqd_test-revoked-token-not-secret"  # noqa: S105 - test-only
"""Tokens of the fixture squad's callers (config/callers.yaml holds their SHA-256)."""
AUTH = {"Authorization": f"Bearer {PLATFORM_TOKEN}"}
"""Headers of the caller with every scope."""

TICKET = {
    "subject": "Charged twice this month",
    "body": "My invoice shows two charges for the same plan. Please refund one.",
    "customer_tier": "pro",
    "channel": "email",
}
VALID_ANSWER = json.dumps(
    {"queue": "billing", "priority": "high", "rationale": "Double charge on the invoice."}
)


_INFERENCE_LOG = Path(tempfile.mkdtemp(prefix="squad-inference-log-")) / "inferences.sqlite3"
"""Where this test process's services log inferences unless a test says otherwise: never
the fixture squad's own folder (it is in the source tree)."""


def settings_with(**values: Any) -> Settings:
    """The fixture squad's settings (its offline models unless overridden) plus `values`."""
    values.setdefault("inference_log_url", f"sqlite:///{_INFERENCE_LOG}")
    return Settings(root=SQUAD, environment="test", **values)


def fake_models(base_url: str) -> dict[str, Any]:
    """`triage` answered only by the fake provider: no retries, no fallback."""
    return {
        "routing": {"allowed_fails": 1000, "cooldown_s": 7},
        "aliases": {
            "triage": {
                "deployments": [
                    {
                        "model": "openai/fake-model",
                        "api_base": base_url,
                        "api_key_env": "FAKE_PROVIDER_KEY",
                        "timeout_s": 5,
                        "max_retries": 0,
                    }
                ]
            },
            "judge": {"deployments": [{"model": "local/judge-heuristic-v1"}]},
        },
    }
