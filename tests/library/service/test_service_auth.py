"""Caller authentication through a real uvicorn: the fixture squad's config/callers.yaml
(tokens in servicekit.py) against every kind of route."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from squadkit.service.callers import add_caller, find_caller, hash_token, load_callers
from squadkit.settings import Settings
from tests.library.service.servicekit import (
    AUTH,
    REVOKED_TOKEN,
    TICKET,
    TRIAGE_ONLY_TOKEN,
    RunningService,
    running,
)
from tests.library.squad import COMMAND, copy_data

PROBLEM = "application/problem+json"
TRIAGE_ONLY = {"Authorization": f"Bearer {TRIAGE_ONLY_TOKEN}"}


@pytest.fixture
def http(offline_service: RunningService) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=offline_service.base_url, timeout=30) as client:
        yield client


def _problem(response: httpx.Response, status: int, slug: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem: dict[str, object] = response.json()
    assert problem["type"] == f"urn:problem-type:squad:{slug}"
    assert problem["request_id"] == response.headers["X-Request-ID"]
    return problem


def test_no_token_is_401_with_a_bearer_challenge(http: httpx.Client) -> None:
    response = http.post("/v1/triage", json=TICKET)

    _problem(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_token_is_401(http: httpx.Client) -> None:
    response = http.post(
        "/v1/triage", json=TICKET, headers={"Authorization": "Bearer sqd_not-a-caller"}
    )

    _problem(response, 401, "unauthenticated")


def test_a_token_in_another_scheme_is_401(http: httpx.Client) -> None:
    response = http.post(
        "/v1/triage", json=TICKET, headers={"Authorization": f"Basic {TRIAGE_ONLY_TOKEN}"}
    )

    _problem(response, 401, "unauthenticated")


def test_revoked_caller_is_401(http: httpx.Client) -> None:
    response = http.post(
        "/v1/triage", json=TICKET, headers={"Authorization": f"Bearer {REVOKED_TOKEN}"}
    )

    _problem(response, 401, "unauthenticated")


def test_caller_with_the_feature_scope_is_served(http: httpx.Client) -> None:
    response = http.post("/v1/triage", json=TICKET, headers=TRIAGE_ONLY)

    assert response.status_code == 200, response.text
    assert response.json()["metadata"]["prompt_label"] == "production"


def test_label_override_without_the_scope_is_403(http: httpx.Client) -> None:
    response = http.post(
        "/v1/triage", json=TICKET, headers={**TRIAGE_ONLY, "X-Prompt-Label": "staging"}
    )

    problem = _problem(response, 403, "forbidden")
    assert "label-override" in str(problem["detail"])


def test_label_override_with_the_scope_serves_that_label(http: httpx.Client) -> None:
    response = http.post("/v1/triage", json=TICKET, headers={**AUTH, "X-Prompt-Label": "staging"})

    assert response.status_code == 200, response.text
    assert response.json()["metadata"]["prompt_label"] == "staging"


@pytest.mark.parametrize("path", ["/metrics", "/openapi.json", "/docs"])
def test_operational_paths_need_their_scope(http: httpx.Client, path: str) -> None:
    anonymous = http.get(path)
    without_scope = http.get(path, headers=TRIAGE_ONLY)
    with_scope = http.get(path, headers=AUTH)

    _problem(anonymous, 401, "unauthenticated")
    problem = _problem(without_scope, 403, "forbidden")
    assert ("metrics" if path == "/metrics" else "docs") in str(problem["detail"])
    assert with_scope.status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_need_no_token(http: httpx.Client, path: str) -> None:
    assert http.get(path).status_code == 200


def test_an_unknown_path_without_a_token_is_401_not_404(http: httpx.Client) -> None:
    _problem(http.get("/v1/nothing-here"), 401, "unauthenticated")


def test_a_caller_added_or_revoked_while_serving_takes_effect_at_once(tmp_path: Path) -> None:
    root = copy_data(tmp_path)
    callers = root / "config" / "callers.yaml"
    with (
        running(Settings(root=root, environment="test")) as service,
        httpx.Client(base_url=service.base_url, timeout=30) as http,
    ):
        token = add_caller(callers, "new-system", ["triage"], ["triage"])
        headers = {"Authorization": f"Bearer {token}"}
        before = http.post("/v1/triage", json=TICKET, headers=headers)
        text = callers.read_text(encoding="utf-8")
        callers.write_text(text.replace("revoked: false", "revoked: true"), encoding="utf-8")
        after = http.post("/v1/triage", json=TICKET, headers=headers)

    assert before.status_code == 200
    _problem(after, 401, "unauthenticated")


def test_an_invalid_callers_file_refuses_everyone_and_fails_readiness(tmp_path: Path) -> None:
    root = copy_data(tmp_path)
    (root / "config" / "callers.yaml").write_text("callers: [not, a, mapping]\n", "utf-8")
    with (
        running(Settings(root=root, environment="test")) as service,
        httpx.Client(base_url=service.base_url, timeout=30) as http,
    ):
        refused = http.post("/v1/triage", json=TICKET, headers=AUTH)
        ready = http.get("/readyz")

    _problem(refused, 401, "unauthenticated")
    assert _problem(ready, 503, "not-ready")["checks"] == {"callers": "invalid"}


def test_the_callers_file_stores_only_a_digest_of_each_token(tmp_path: Path) -> None:
    path = tmp_path / "callers.yaml"

    token = add_caller(path, "core-platform", ["triage", "feedback"], ["triage", "feedback"])

    assert token not in path.read_text(encoding="utf-8")
    (caller,) = load_callers(path)
    assert caller.token_sha256 == hash_token(token)
    assert caller.scopes == {"triage", "feedback"}
    assert find_caller([caller], token) == caller
    assert find_caller([caller], token + "x") is None


def _callers(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, "callers", *args], cwd=repo, capture_output=True, text=True, check=False
    )


def test_callers_add_prints_the_token_once_alone_on_its_last_line(tmp_path: Path) -> None:
    repo = copy_data(tmp_path)
    path = repo / "config" / "callers.yaml"

    result = _callers(repo, "add", "core-platform", "--scope", "triage", "--scope", "feedback")

    assert result.returncode == 0, result.stderr
    token = result.stdout.splitlines()[-1]
    assert token.startswith("sqd_")
    assert result.stdout.count(token) == 1
    caller = find_caller(load_callers(path), token)
    assert caller is not None
    assert (caller.name, caller.scopes) == ("core-platform", frozenset({"triage", "feedback"}))
    assert {c.name for c in load_callers(path)} >= {"test-platform", "core-platform"}
    text = path.read_text(encoding="utf-8")
    assert token not in text
    assert text.startswith("# The fixture squad's callers")  # the squad's comments stay


def test_callers_add_with_an_unknown_scope_is_one_line_and_changes_nothing(
    tmp_path: Path,
) -> None:
    repo = copy_data(tmp_path)
    before = (repo / "config" / "callers.yaml").read_bytes()

    result = _callers(repo, "add", "core-platform", "--scope", "triage", "--scope", "admin")

    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: unknown scope 'admin'; known scopes: ")
    assert "triage" in line
    assert (repo / "config" / "callers.yaml").read_bytes() == before


def test_callers_revoke_locks_the_caller_out(tmp_path: Path) -> None:
    repo = copy_data(tmp_path)

    result = _callers(repo, "revoke", "test-platform")

    assert result.returncode == 0, result.stderr
    (caller,) = [
        c for c in load_callers(repo / "config" / "callers.yaml") if c.name == "test-platform"
    ]
    assert caller.revoked
    assert "test-platform: " in _callers(repo, "list").stdout
