"""Every YAML file the library reads refuses a key given twice, naming the file and line.

PyYAML alone keeps the last of two equal keys without a word, so a second alias or label
would silently replace the first. One test per kind of file, each through its own loader.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from squadkit.errors import ConfigError
from squadkit.evals import EvalConfigError, load_suite
from squadkit.gateway import load_models_config
from squadkit.observability import load_observability_config
from squadkit.prompts.errors import Problem, PromptFileError
from squadkit.prompts.labels import read_labels
from squadkit.prompts.loader import clear_cache, load_version_file
from squadkit.prompts.lock import read_lock
from squadkit.yaml_lines import InvalidYaml, load_yaml, read_team_yaml
from tests.library.squad import ROOT as SQUAD


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def last_line_of(text: str, start: str) -> int:
    """1-based number of the last line of `text` that starts with `start`."""
    return max(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(start))


def test_an_alias_defined_twice_in_models_yaml_is_refused(tmp_path: Path) -> None:
    text = (SQUAD / "config" / "models.yaml").read_text(encoding="utf-8")
    text += "  triage:\n    deployments:\n      - model: local/judge-heuristic-v1\n"
    path = write(tmp_path / "models.yaml", text)

    with pytest.raises(ConfigError) as refused:
        load_models_config(path)

    line = last_line_of(text, "  triage:")
    assert str(refused.value).startswith(f"{path}:{line}: invalid YAML: key 'triage' appears")


def test_a_label_set_twice_in_labels_yaml_is_refused(tmp_path: Path) -> None:
    text = "labels:\n  triage:\n    production: 1\n    staging: 2\n    production: 2\n"
    path = write(tmp_path / "labels.yaml", text)

    with pytest.raises(PromptFileError) as refused:
        read_labels(path)

    assert refused.value.problem.line == 5
    assert "key 'production' appears twice in one mapping (first on line 3)" in str(refused.value)


def test_a_version_locked_twice_in_prompts_lock_is_refused(tmp_path: Path) -> None:
    text = (SQUAD / "prompts" / "prompts.lock").read_text(encoding="utf-8")
    first = next(line for line in text.splitlines() if line.startswith("triage/v1.yaml:"))
    text += first.replace("sha256:b", "sha256:0") + "\n"
    path = write(tmp_path / "prompts.lock", text)

    with pytest.raises(PromptFileError) as refused:
        read_lock(path)

    assert refused.value.problem.line == last_line_of(text, "triage/v1.yaml:")
    assert "key 'triage/v1.yaml' appears twice" in str(refused.value)


def test_a_field_given_twice_in_a_prompt_version_is_refused(tmp_path: Path) -> None:
    text = (SQUAD / "prompts" / "triage" / "v1.yaml").read_text(encoding="utf-8")
    text = text.replace("model: triage\n", "model: triage\nmodel: judge\n")
    path = write(tmp_path / "triage" / "v1.yaml", text)
    clear_cache()

    problem = load_version_file(path)

    assert isinstance(problem, Problem)
    assert problem.line == last_line_of(text, "model:")
    assert problem.message.startswith("invalid YAML: key 'model' appears twice")


def test_a_key_given_twice_in_a_suite_file_is_refused(tmp_path: Path) -> None:
    text = (SQUAD / "evals" / "triage.yaml").read_text(encoding="utf-8")
    text = text.replace("repeats: 1 ", "repeats: 1\nrepeats: 3 ")
    path = write(tmp_path / "triage.yaml", text)

    with pytest.raises(EvalConfigError) as refused:
        load_suite(path, SQUAD / "evals")

    line = last_line_of(text, "repeats:")
    assert f"triage.yaml:{line}: invalid YAML: key 'repeats' appears twice" in str(refused.value)


def test_a_key_given_twice_in_observability_yaml_is_refused(tmp_path: Path) -> None:
    text = (SQUAD / "config" / "observability.yaml").read_text(encoding="utf-8")
    text = text.replace("  sample_rate: 0.1", "  sample_rate: 0.1\n  sample_rate: 1.0")
    path = write(tmp_path / "observability.yaml", text)

    with pytest.raises(ConfigError) as refused:
        load_observability_config(path)

    line = last_line_of(text, "  sample_rate:")
    assert str(refused.value).startswith(f"{path}:{line}: invalid YAML: key 'sample_rate'")


def test_keys_brought_in_by_a_merge_may_be_overridden() -> None:
    text = "base: &base {timeout_s: 5, max_retries: 0}\nfast:\n  <<: *base\n  timeout_s: 1\n"

    data = load_yaml(text, Path("models.yaml"))

    assert data["fast"] == {"timeout_s": 1, "max_retries": 0}


def test_a_key_repeated_in_a_flow_mapping_is_refused() -> None:
    with pytest.raises(InvalidYaml) as refused:
        load_yaml("deployment: {model: a, model: b}\n", Path("models.yaml"))

    assert str(refused.value) == (
        "models.yaml:1: invalid YAML: key 'model' appears twice in one mapping "
        "(first on line 1); keep one"
    )


def test_a_missing_team_file_is_the_readers_error_in_its_words(tmp_path: Path) -> None:
    path = tmp_path / "triage.yaml"

    with pytest.raises(EvalConfigError) as refused:
        read_team_yaml(path, error=EvalConfigError, missing="suite file not found")

    assert str(refused.value) == f"{path}: suite file not found"


def test_an_unreadable_team_file_is_one_line_in_the_readers_words(tmp_path: Path) -> None:
    path = write(tmp_path / "config", "") / "callers.yaml"  # under a file, not a folder

    with pytest.raises(ConfigError) as refused:
        read_team_yaml(path, unreadable=lambda error: f"cannot read it ({error.strerror})")

    assert str(refused.value) == f"{path}: cannot read it (Not a directory)"
