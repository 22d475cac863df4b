"""Bad answers are refused by Copier with the validator's message and a non-zero exit."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from tests.template.conftest import TEMPLATE_ROOT, TOOLS_BIN, run, tool_env

BAD_ANSWERS = [
    ("package_name", "1triage", "must be a valid lowercase Python identifier"),
    ("package_name", "my-package", "must be a valid lowercase Python identifier"),
    ("package_name", "class", "is a Python keyword or shadows a module"),
    ("package_name", "litellm", "is a Python keyword or shadows a module"),
    ("package_name", "squadkit", "is a Python keyword or shadows a module"),
    ("package_name", "a" * 61, "is 61 characters; keep it to 60 or fewer"),
    ("project_slug", "Support Triage", "must be kebab-case"),
    ("project_slug", "-triage", "must be kebab-case"),
    ("project_slug", "support--triage", "must be kebab-case"),
    ("author_email", "squad-at-example.com", "is not an email address"),
    ("author_email", "squad@localhost", "is not an email address"),
    ("python_version", "3.10", "'3.10' is not in ['3.11', '3.12', '3.13']"),
    ("project_name", "   ", "project_name must not be empty"),
    ("description", "line one\nline two", "description must be one line"),
    ("author_name", "Tab\tTeam", "author_name must be one line"),
    ("author_email", 'a"b@example.com', "is not an email address"),
    ("author_email", "a\\b@example.com", "is not an email address"),
    ("include_service", "maybe", "include_service 'maybe' must be true or false"),
]


@pytest.mark.parametrize(
    ("question", "value", "message"), BAD_ANSWERS, ids=[f"{q}={v!r}" for q, v, _ in BAD_ANSWERS]
)
def test_bad_answer_is_refused_with_validator_message(
    tmp_path: Path, question: str, value: str, message: str
) -> None:
    destination = tmp_path / "squad"
    result = run(
        [
            str(TOOLS_BIN / "copier"),
            "copy",
            "--trust",
            "--defaults",
            "--vcs-ref=HEAD",
            "--data",
            "project_name=Acme Support",
            "--data",
            f"{question}={value}",
            str(TEMPLATE_ROOT),
            str(destination),
        ],
        cwd=tmp_path,
        env=tool_env(),
        check=False,
    )
    assert result.returncode != 0
    # Copier 9 prints its own traceback for a --data answer that fails validation; what
    # we control is that the last line is our validator's message, naming the question.
    last_line = result.stderr.strip().splitlines()[-1]
    assert f"'{question}'" in last_line
    assert message in last_line
    assert not (destination / "pyproject.toml").exists()


@pytest.mark.parametrize(
    ("question", "value"),
    [
        ("description", 'Triage "hard" tickets, trailing backslash \\'),
        ("author_name", 'Back\\slash "Q" Team'),
    ],
)
def test_quotes_and_backslashes_are_escaped_in_pyproject(
    tmp_path: Path, question: str, value: str
) -> None:
    destination = tmp_path / "squad"
    run(
        [str(TOOLS_BIN / "copier"), "copy", "--trust", "--defaults", "--vcs-ref=HEAD",
         "--skip-tasks", "--data", "project_name=Acme Support", "--data", f"{question}={value}",
         "--data", f"squadkit_path={TEMPLATE_ROOT}", str(TEMPLATE_ROOT), str(destination)],
        cwd=tmp_path,
    )  # fmt: skip
    project = tomllib.loads((destination / "pyproject.toml").read_text())["project"]
    found = project["description"] if question == "description" else project["authors"][0]["name"]
    assert found == value


def test_post_copy_refuses_a_render_whose_data_file_does_not_parse(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "broken.yaml").write_text("a: [1, 2\n")
    (tmp_path / "pyproject.toml").write_text('name = "ok"\n')

    result = run([sys.executable, str(TEMPLATE_ROOT / "hooks" / "post_copy.py")], cwd=tmp_path,
                 check=False)  # fmt: skip

    assert result.returncode == 2
    assert "error: rendered file does not parse: config/broken.yaml:" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / ".git").exists()


def test_good_answers_are_accepted(tmp_path: Path) -> None:
    destination = tmp_path / "squad"
    run(
        [
            str(TOOLS_BIN / "copier"),
            "copy",
            "--trust",
            "--defaults",
            "--vcs-ref=HEAD",
            "--data",
            "project_name=Acme Support",
            "--data",
            "package_name=acme_support_v2",
            "--data",
            "author_email=team.ai+squad@acme.co.uk",
            "--data",
            f"squadkit_path={TEMPLATE_ROOT}",
            str(TEMPLATE_ROOT),
            str(destination),
        ],
        cwd=tmp_path,
    )
    assert (destination / "src" / "acme_support_v2" / "features" / "triage.py").is_file()
