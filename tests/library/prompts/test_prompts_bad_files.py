"""Every unusable prompt file is one line naming the file (and line), exit 2, no traceback."""

from collections.abc import Callable
from pathlib import Path

import pytest

# isort: split
from tests.library.prompts.promptkit import Squad

# Jinja delimiters spelled out, so this file stays readable as a template of the template.
OPEN, CLOSE = "{" + "{", "}" + "}"
GOOD = (Path(__file__).resolve().parent / "fixtures" / "prompts" / "triage" / "v2.yaml").read_text()

# (file name, content, expected fragment of the one-line error)
BAD_FILES: list[tuple[str, str | bytes, str]] = [
    (
        "v3.yaml",
        "name: triage\nversion: 3\nmodel: [unclosed\n",
        "v3.yaml:4: invalid YAML: did not find expected ',' or ']' "
        "(while parsing a flow sequence started on line 3)",
    ),
    ("v3.yaml", "", "v3.yaml: file is empty"),
    ("v3.yaml", "- just\n- a list\n", "expected a mapping of fields"),
    (
        "v3.yaml",
        GOOD.replace("version: 2", "version: 3").replace("model: triage\n", ""),
        "missing required field 'model'",
    ),
    (
        "v3.yaml",
        GOOD.replace("version: 2", "version: 3").replace("messages:", "mesages:"),
        "unknown field 'mesages'",
    ),
    (
        "v3.yaml",
        GOOD.replace("version: 2", "version: 3").replace("name: triage", "name: other"),
        "field 'name': 'other' does not match its folder 'triage'",
    ),
    ("v3.yaml", GOOD, "field 'version': 2 does not match the file name v3.yaml"),
    ("v3.yaml", GOOD.replace("version: 2", "version: three"), "field 'version'"),
    (
        "v3.yaml",
        GOOD.replace("version: 2", "version: 3").replace("role: system", "role: wizard"),
        "field 'messages[0].role'",
    ),
    (
        "v3.yaml",
        GOOD.replace("version: 2", "version: 3").replace(f"{OPEN} body {CLOSE}", OPEN + " body }"),
        "messages[1].content: template syntax error",
    ),
    (
        "v3.yaml",
        GOOD.replace("version: 2", "version: 3").replace(
            f"{OPEN} body {CLOSE}", f"{OPEN} bdy {CLOSE}"
        ),
        "uses 'bdy', which input_schema does not declare",
    ),
    (
        "v3.yaml",
        GOOD.replace("version: 2", "version: 3").replace(
            "queue: {type: string,", "queue: {type: strin,"
        ),
        "output_schema: not a valid JSON Schema at 'properties.queue.type'",
    ),
    (
        "v3.yaml",
        GOOD.replace("version: 2", "version: 3").replace(
            "required: [subject, body, customer_tier, channel]", "required: subject"
        ),
        "input_schema: not a valid JSON Schema at 'required'",
    ),
    (
        "v3.yaml",
        GOOD.replace("version: 2", "version: 3").replace(
            "params:\n  temperature: 0", "params: hot\nparam_x:\n  temperature: 0"
        ),
        "field 'params'",
    ),
    (
        "v3.yaml",
        GOOD.replace("version: 2", "version: 3") + "template: also text\n",
        "give exactly one of 'messages'",
    ),
    ("version3.yaml", GOOD, "prompt version files must be named v<N>.yaml"),
    ("v3.yaml", b"name: triage\nversion: 3\n\xff\n", "v3.yaml: not UTF-8 text"),
]


@pytest.mark.parametrize(("file_name", "content", "expected"), BAD_FILES)
def test_bad_prompt_file_is_one_clear_line(
    repo: Path, squad: Callable[..., Squad], file_name: str, content: str | bytes, expected: str
) -> None:
    path = repo / "prompts" / "triage" / file_name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))

    result = squad("prompts", "check")

    assert result.code == 2, result.err
    problems = result.err.splitlines()[1:]
    assert len(problems) >= 1
    first = problems[0]
    assert first.startswith(f"prompts/triage/{file_name}"), first
    assert expected in first, first
    assert "Traceback" not in result.err


def test_bad_prompt_file_stops_loading_with_one_line(
    repo: Path, squad: Callable[..., Squad]
) -> None:
    (repo / "prompts" / "triage" / "v3.yaml").write_text("name: [", encoding="utf-8")

    result = squad("prompts", "list")

    assert result.code == 2
    assert result.err.startswith("error: prompts/triage/v3.yaml:2: invalid YAML")
    assert len(result.err.strip().splitlines()) == 1


def test_bad_folder_name_is_reported(repo: Path, squad: Callable[..., Squad]) -> None:
    (repo / "prompts" / "Bad-Name").mkdir()

    result = squad("prompts", "check")

    assert result.code == 2
    assert "prompts/Bad-Name: prompt folder names must be lowercase snake_case" in result.err


def test_malformed_labels_file_is_one_line(repo: Path, squad: Callable[..., Squad]) -> None:
    (repo / "prompts" / "labels.yaml").write_text("labels:\n  triage:\n    production: one\n")

    result = squad("prompts", "check")

    assert result.code == 2
    assert result.err.startswith("error: prompts/labels.yaml:3: field 'labels.triage.production'")


def test_malformed_lock_file_is_one_line(repo: Path, squad: Callable[..., Squad]) -> None:
    (repo / "prompts" / "prompts.lock").write_text("triage/v1.yaml: md5:abc\n")

    result = squad("prompts", "check")

    assert result.code == 2
    assert "prompts/prompts.lock:1: entry 'triage/v1.yaml'" in result.err


def test_a_prompt_file_that_links_out_of_the_repo_is_refused(
    repo: Path, squad: Callable[..., Squad], tmp_path: Path
) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere.yaml"  # the repo is tmp_path
    outside.write_text(GOOD.replace("version: 2", "version: 3"))
    (repo / "prompts" / "triage" / "v3.yaml").symlink_to(outside)

    result = squad("prompts", "check")

    assert result.code == 2
    assert "prompts/triage/v3.yaml: is a symlink that leads out of prompts/" in result.err


def test_a_prompt_folder_that_links_out_of_the_repo_is_refused(
    repo: Path, squad: Callable[..., Squad], tmp_path: Path
) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-summaries"  # the repo is tmp_path
    outside.mkdir()
    (repo / "prompts" / "summaries").symlink_to(outside)

    result = squad("prompts", "check")

    assert result.code == 2
    assert "prompts/summaries: is a symlink that leads out of prompts/" in result.err


@pytest.mark.parametrize("name", ["labels.yaml", "prompts.lock"])
def test_a_registry_file_that_is_not_utf8_is_one_line(
    repo: Path, squad: Callable[..., Squad], name: str
) -> None:
    (repo / "prompts" / name).write_bytes(b"\xff\xfe not text\n")

    result = squad("prompts", "check")

    assert result.code == 2
    assert f"prompts/{name}: not UTF-8 text (byte 0); save it as UTF-8" in result.err
    assert "Traceback" not in result.err
