"""The CLI's contract: fast help, one-line errors, documented exit codes."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from squadkit.cli import app
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
