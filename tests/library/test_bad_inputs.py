"""The bad-input corpus of the library: every bad team file, setting, argument and request.

Each case is one record: what it breaks in a copy of the fixture squad, the command a user
then runs, the exit code it must end with and a fragment of the one-line message, which
must name the place (file:line, field or variable). Every case also asserts that nothing
was printed but that line (no traceback) and that no file of the squad changed. The
Copier answers' half of the corpus is `tests/template/test_answers.py`.

The cases live in `tests/library/bad_inputs/`, one module per kind of input; this module
runs them. Commands run in-process through `squadkit.cli.main` (what the `squad` script
calls), so the corpus takes seconds; `tests/library/test_cli.py` runs the script itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from squadkit.cli import main
from tests.library.bad_inputs.api import API_REQUESTS, BadRequest
from tests.library.bad_inputs.arguments import CLI_ARGUMENTS
from tests.library.bad_inputs.breaks import Bad
from tests.library.bad_inputs.eval_files import EVAL_FILES
from tests.library.bad_inputs.prompt_files import PROMPT_FILES
from tests.library.bad_inputs.service_files import SERVICE_FILES
from tests.library.bad_inputs.settings import SETTINGS
from tests.library.bad_inputs.team_files import CONFIG_FILES
from tests.library.service.servicekit import AUTH, running, settings_with
from tests.library.squad import ROOT as SQUAD
from tests.library.squad import copy_data

TEAM_FILES = CONFIG_FILES + PROMPT_FILES + SERVICE_FILES + EVAL_FILES


def _cases(category: str, cases: list[Bad]) -> list[object]:
    marks = {
        case.name: [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        for case in cases
    }
    return [
        pytest.param(case, id=f"{category}:{case.name}", marks=marks[case.name]) for case in cases
    ]


def _fingerprint(root: Path) -> dict[str, str]:
    """Every file under `root` by content hash (the registry's self-ignoring cache aside)."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".cache" not in path.parts
    }


@pytest.fixture
def squad_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    repo = copy_data(tmp_path / "squad")
    monkeypatch.chdir(repo)
    monkeypatch.setenv("SQUAD_ROOT", str(repo))
    monkeypatch.delenv("SQUAD_MODELS_FILE", raising=False)
    environment = dict(os.environ)
    yield repo
    os.environ.clear()  # a case's .env is exported into this process: forget it
    os.environ.update(environment)


@pytest.mark.parametrize(
    "case",
    _cases("team-file", TEAM_FILES) + _cases("setting", SETTINGS) + _cases("cli", CLI_ARGUMENTS),
)
def test_a_bad_input_is_one_line_naming_its_place_and_changes_nothing(
    case: Bad,
    squad_copy: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    case.breaks(squad_copy)
    for variable, value in case.env.items():
        monkeypatch.setenv(variable, value)
    before = _fingerprint(squad_copy)
    out = tmp_path / "out"
    command = list(case.command)
    if command[:2] in (["eval", "run"], ["eval", "gate"]) and "--out" not in command:
        command += ["--out", str(out)]
    monkeypatch.setattr(sys, "argv", ["squad", *command])

    with pytest.raises(SystemExit) as ended:  # anything else escaping is a traceback
        main()

    err = capsys.readouterr().err
    assert ended.value.code == case.exit, err
    lines = [line for line in err.splitlines() if line.strip()]
    if case.listing:  # "error: N prompt problems; ..." then each problem, file first
        assert lines[0].startswith("error: "), err
        assert all(line.lstrip().startswith(("prompts/", "evals/")) for line in lines[1:]), err
        assert any(case.says in line for line in lines[1:]), err
        assert _fingerprint(squad_copy) == before
        return
    # Click's usage errors come after two lines of usage; everything else is one line.
    message = [line for line in lines if not line.startswith(("Usage: ", "Try '"))]
    assert len(message) == 1, err
    assert message[0].lower().startswith("error:"), err
    assert case.says in message[0], err
    assert "Traceback" not in err
    assert _fingerprint(squad_copy) == before
    assert not out.exists()


def test_the_corpus_has_at_least_two_hundred_cases() -> None:
    assert len(TEAM_FILES) + len(SETTINGS) + len(CLI_ARGUMENTS) + len(API_REQUESTS) >= 200


# The service: a bad request is a problem document (RFC 9457) naming the field, never a 500.


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """The fixture squad's service (real uvicorn, its offline models) and a client of it."""
    with (
        running(settings_with()) as service,
        httpx.Client(base_url=service.base_url, headers=AUTH, timeout=30) as client,
    ):
        yield client


@pytest.mark.parametrize("request_", [pytest.param(r, id=f"api:{r.name}") for r in API_REQUESTS])
def test_a_bad_request_is_a_problem_naming_its_field(
    request_: BadRequest, http: httpx.Client
) -> None:
    before = _fingerprint(SQUAD)
    kwargs: dict[str, object] = {"headers": request_.headers}
    if request_.content is not None:
        kwargs["content"] = request_.content
    elif request_.body is not None:
        kwargs["json"] = request_.body

    response = http.request(request_.method, request_.path, **kwargs)  # type: ignore[arg-type]

    assert response.status_code == request_.status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == request_.status
    assert request_.says in json.dumps(problem)
    assert "Traceback" not in response.text
    assert _fingerprint(SQUAD) == before
