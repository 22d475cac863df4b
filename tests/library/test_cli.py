"""The CLI's contract: fast help, one-line errors, documented exit codes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from squadkit.cli import app
from tests.library.squad import COMMAND, copy_data
from tests.library.squad import ROOT as SQUAD

runner = CliRunner()


def test_help_lists_the_command_groups() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "info" in result.output


def test_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "from squadkit.cli import app\n"
        "app(['--help'], standalone_mode=False)\n"
        "heavy = [m for m in ('litellm', 'fastapi', 'opentelemetry.sdk') if m in sys.modules]\n"
        "print('HEAVY-IMPORTS:' + ','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines()[-1] == "HEAVY-IMPORTS:"


def test_info_shows_resolved_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQUAD_ROOT", str(SQUAD))
    monkeypatch.delenv("SQUAD_MODELS_FILE", raising=False)
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0
    assert f"models:      {SQUAD / 'config' / 'models.yaml'}" in result.output
    assert f"prompts:     {SQUAD / 'prompts'}" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--repeats", "100000"],
            "Invalid value for '--repeats': Input should be less than or equal to 50",
        ),
        (["--concurrency", "5000"], "Invalid value for '--concurrency': Input should be less"),
        (["--shard", ""], "--shard '': expected i/n with 1 <= i <= n"),
        (["--shard", "3/2"], "--shard '3/2': expected i/n with 1 <= i <= n"),
        (["--workers", "lots"], "--workers 'lots': give a number of processes, or auto"),
        (["--workers", "999"], "--workers 999: this machine has"),
        (["--mode", "guess"], "--mode 'guess': choose one of"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_out_of_bounds_eval_arguments_exit_2_before_any_work(
    args: list[str], message: str, tmp_path: Path
) -> None:
    result = subprocess.run(
        [COMMAND, "eval", "run", "triage", "--out", str(tmp_path / "out"), *args],
        cwd=SQUAD,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SQUAD_SERVICE_PORT", "abc", "SQUAD_SERVICE_PORT='abc': Input should be a valid integer"),
        ("SQUAD_LOG_LEVEL", "LOUD", "SQUAD_LOG_LEVEL='LOUD': Input should be 'DEBUG'"),
        ("SQUAD_SERVICE_DEADLINE_S", "-1", "SQUAD_SERVICE_DEADLINE_S='-1': Input should be"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(
    variable: str, value: str, message: str
) -> None:
    result = subprocess.run(
        [COMMAND, "eval", "gate", "triage", "--no-evidence"],
        cwd=SQUAD,
        env={**os.environ, variable: value},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        line for line in result.stderr.strip().splitlines() if line.startswith("error:")
    ]
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "command",
    [["models", "check"], ["eval", "run", "triage", "--mode", "record", "--out", "out"]],
    ids=["models check", "eval run --mode record"],
)
def test_an_unknown_local_model_is_refused_before_any_call(
    command: list[str], tmp_path: Path
) -> None:
    copy_data(tmp_path)
    models = tmp_path / "config" / "models.yaml"
    models.write_text(models.read_text().replace("local/triage-rules-v1", "local/nope-v9"))

    result = subprocess.run(
        [COMMAND, *command], cwd=tmp_path, capture_output=True, text=True, check=False
    )

    assert result.returncode == 2, result.stdout + result.stderr
    assert "local/nope-v9 is not a known local model (known: local/judge-heuristic-v1" in (
        result.stderr
    )
    assert f"{models}:" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_new_prompt_on_an_unknown_alias_is_refused(tmp_path: Path) -> None:
    repo = copy_data(tmp_path)
    result = subprocess.run(
        [COMMAND, "prompts", "new", "summarise", "--model", "nope"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "--model nope: no such alias in" in result.stderr
    assert not (repo / "prompts" / "summarise").exists()


def test_an_empty_gated_labels_list_is_said_out_loud(tmp_path: Path) -> None:
    repo = copy_data(tmp_path)
    labels = repo / "prompts" / "labels.yaml"
    text = labels.read_text(encoding="utf-8")
    labels.write_text(text.replace(":\n- production\n- staging\n", ": []\n"), encoding="utf-8")
    assert "gated_labels: []" in labels.read_text(encoding="utf-8")

    result = subprocess.run(
        [COMMAND, "prompts", "check"], cwd=repo, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert "note: " in result.stderr
    assert "gated_labels is empty, so no label needs eval evidence" in result.stderr


def test_eval_run_says_it_ignores_a_label_pin_and_runs_the_suites_label(tmp_path: Path) -> None:
    repo = copy_data(tmp_path)
    result = subprocess.run(
        [COMMAND, "eval", "run", "triage", "--out", "out"],
        cwd=repo,
        env={**os.environ, "SQUAD_PROMPT_LABEL__TRIAGE": "staging"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "note: SQUAD_PROMPT_LABEL__TRIAGE=staging is ignored" in result.stderr
    assert "add --label staging to evaluate that label" in result.stderr
    assert "Prompt `triage@v1` (label `production`)" in result.stdout


@pytest.mark.parametrize(
    ("command", "variable", "message"),
    [
        (
            ["eval", "run", "triage", "--out", "out"],
            "SQUAD_PROMPT_LABEL__TRIAGE=nolabel",
            "error: SQUAD_PROMPT_LABEL__TRIAGE=nolabel: triage has no label 'nolabel' in ",
        ),
        (
            ["serve", "--port", "0"],
            "SQUAD_PROMPT_LABEL__TRIAGE=nolabel",
            "error: SQUAD_PROMPT_LABEL__TRIAGE=nolabel: triage has no label 'nolabel' in ",
        ),
        (
            ["serve", "--port", "0"],
            "SQUAD_PROMPT_LABEL__NOPE=staging",
            "error: SQUAD_PROMPT_LABEL__NOPE=staging: no prompt 'nope' in ",
        ),
    ],
    ids=["eval run", "serve", "serve, unknown prompt"],
)
def test_a_label_pin_that_cannot_be_served_is_one_line_naming_the_variable(
    command: list[str], variable: str, message: str, tmp_path: Path
) -> None:
    repo = copy_data(tmp_path)
    name, value = variable.split("=")
    result = subprocess.run(
        [COMMAND, *command],
        cwd=repo,
        env={**os.environ, name: value},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (repo / "out").exists()


def test_a_locked_prompt_that_renders_gigabytes_fails_at_once_in_bounded_memory(
    tmp_path: Path,
) -> None:
    repo = copy_data(tmp_path)
    prompts = repo / "prompts" / "triage"
    text = (prompts / "v2.yaml").read_text(encoding="utf-8")
    text = text.replace("version: 2", "version: 3").replace(
        "Subject: {" + "{ subject }}", "Subject: {" + "{ subject * 100000000 }}"
    )
    (prompts / "v3.yaml").write_text(text, encoding="utf-8")
    locked = subprocess.run(
        [COMMAND, "prompts", "lock"], cwd=repo, capture_output=True, text=True, check=False
    )
    assert locked.returncode == 0, locked.stderr

    limited = ["bash", "-c", 'ulimit -v 1500000 && exec "$@"', "-", COMMAND]  # 1.5 GB
    result = subprocess.run(
        [*limited, "eval", "run", "triage", "--version", "3", "--out", "out"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(
        f"error: {prompts / 'v3.yaml'}: messages[1]: too large: '*' would make "
    ), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_empty_labels_file_fails_check_naming_the_served_feature(tmp_path: Path) -> None:
    repo = copy_data(tmp_path)
    (repo / "prompts" / "labels.yaml").write_text("", encoding="utf-8")

    result = subprocess.run(
        [COMMAND, "prompts", "check"], cwd=repo, capture_output=True, text=True, check=False
    )

    assert result.returncode == 1, result.stdout
    assert "feature 'triage' is served at triage:production, but no version has that label" in (
        result.stderr
    )
    assert "squad prompts promote triage N --label production" in result.stderr


def test_a_label_pin_the_labels_file_lacks_fails_check(tmp_path: Path) -> None:
    repo = copy_data(tmp_path)
    result = subprocess.run(
        [COMMAND, "prompts", "check"],
        cwd=repo,
        env={**os.environ, "SQUAD_PROMPT_LABEL__TRIAGE": "canary"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1, result.stdout
    assert "feature 'triage' is served at triage:canary" in result.stderr
