"""Bad answers are refused by Copier with the validator's message and a non-zero exit."""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.template.conftest import TEMPLATE_ROOT, TOOLS_BIN, run, tool_env

COPIER = [
    str(TOOLS_BIN / "python"),
    "-c",
    "import sys; sys.tracebacklimit = 0; from copier.__main__ import CopierApp; CopierApp.run()",
]
"""Copier with Python's traceback limit at 0: a refused `--data` answer is then one line.

Copier 9 does not catch the `ValueError` a refused `--data`/`--data-file` answer raises, so
`copier copy` prints a traceback whose last line is our message; this invocation, shown in
the README and docs/questions.md, prints that line alone (exit 1, Copier's code).
"""


@dataclass(frozen=True)
class Refused:
    """One bad Copier answer: the question, the value, Copier's exit and our message."""

    question: str
    value: str
    says: str
    exit: int = 1

    @property
    def name(self) -> str:
        return f"{self.question}={self.value!r}"


BAD_ANSWERS = [
    Refused("package_name", "1triage", "must be a valid lowercase Python identifier"),
    Refused("package_name", "my-package", "must be a valid lowercase Python identifier"),
    Refused("package_name", "class", "is a Python keyword or shadows a module"),
    Refused("package_name", "litellm", "is a Python keyword or shadows a module"),
    Refused("package_name", "squadkit", "is a Python keyword or shadows a module"),
    Refused("package_name", "yaml", "shadows a module (imported from pyyaml, a dependency"),
    Refused("package_name", "os", "shadows a module (a standard-library module)"),
    Refused("package_name", "features", "(a folder or module of the rendered repository)"),
    Refused("package_name", "a" * 61, "is 61 characters; keep it to 60 or fewer"),
    Refused("project_slug", "Support Triage", "must be kebab-case"),
    Refused("project_slug", "-triage", "must be kebab-case"),
    Refused("project_slug", "support--triage", "must be kebab-case"),
    Refused("author_email", "squad-at-example.com", "is not an email address"),
    Refused("author_email", "squad@localhost", "is not an email address"),
    Refused("author_email", 'a"b@example.com', "is not an email address"),
    Refused("author_email", "a\\b@example.com", "is not an email address"),
    Refused("python_version", "3.10", "'3.10' is not in ['3.11', '3.12', '3.13']"),
    Refused("python_version", "2.7", "'2.7' is not in ['3.11', '3.12', '3.13']"),
    Refused("project_name", "   ", "project_name must not be empty"),
    Refused("description", "line one\nline two", "description must be one line"),
    Refused("author_name", "Tab\tTeam", "author_name must be one line"),
    Refused("include_service", "maybe", "include_service 'maybe' must be true or false"),
    Refused("include_service", "2", "include_service '2' must be true or false"),
    Refused("default_provider", "nope", "Invalid choice for 'default_provider'"),
    Refused("observability", "jaeger", "Invalid choice for 'observability'"),
    Refused("license", "GPL-3.0", "Invalid choice for 'license'"),
]


@pytest.mark.parametrize("case", BAD_ANSWERS, ids=[case.name for case in BAD_ANSWERS])
def test_bad_answer_is_refused_with_validator_message(tmp_path: Path, case: Refused) -> None:
    destination = tmp_path / "squad"
    result = run(
        [
            *COPIER,
            "copy",
            "--trust",
            "--defaults",
            "--vcs-ref=HEAD",
            "--data",
            "project_name=Acme Support",
            "--data",
            f"{case.question}={case.value}",
            str(TEMPLATE_ROOT),
            str(destination),
        ],
        cwd=tmp_path,
        env=tool_env(),
        check=False,
    )
    assert result.returncode == case.exit, result.stderr
    assert "Traceback" not in result.stderr
    # What follows the questionnaire's greeting is one line: our message, naming the question.
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("ValueError: "), result.stderr
    assert f"'{case.question}'" in message
    assert case.says in message
    assert not destination.exists()


def test_the_refused_package_names_are_derived_afresh() -> None:
    result = run(
        [str(TOOLS_BIN / "python"), str(TEMPLATE_ROOT / "hooks" / "reserved_names.py"), "--check"],
        cwd=TEMPLATE_ROOT,
        env=tool_env(),
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("document", ["README.md", "docs/questions.md", "Makefile"])
def test_the_docs_show_the_invocation_the_corpus_uses(document: str) -> None:
    assert COPIER[2] in (TEMPLATE_ROOT / document).read_text(encoding="utf-8")


def test_the_answers_corpus_counts_its_cases() -> None:
    assert len(BAD_ANSWERS) == 26  # with tests/library/test_bad_inputs.py: the 80+


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
