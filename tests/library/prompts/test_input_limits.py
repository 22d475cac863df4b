"""The API's request limits against a prompt's `input_schema`: `limit_differences` names
every limit on which they differ, and `squad prompts check` fails on a labelled version
whose limits differ from its feature's input model."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from squadkit.prompts.input_limits import limit_differences
from tests.library.prompts.promptkit import Squad
from tests.library.squad.features.triage import Ticket

V2 = Path(__file__).resolve().parent / "fixtures" / "prompts" / "triage" / "v2.yaml"


def _object(**properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": sorted(properties),
        "properties": properties,
    }


def test_equal_limits_differ_nowhere() -> None:
    schema = _object(body={"type": "string", "minLength": 1, "maxLength": 20000})

    assert limit_differences(schema, schema) == []


def test_a_different_max_length_is_named_with_both_values() -> None:
    api = _object(body={"type": "string", "maxLength": 8000})
    prompt = _object(body={"type": "string", "maxLength": 20000})

    assert limit_differences(api, prompt) == ["body.maxLength: API 8000, prompt 20000"]


def test_a_limit_only_one_side_declares_is_a_difference() -> None:
    api = _object(body={"type": "string"})
    prompt = _object(body={"type": "string", "maxLength": 20000})

    assert limit_differences(api, prompt) == ["body.maxLength: API absent, prompt 20000"]


def test_enum_order_does_not_matter_but_its_values_do() -> None:
    api = _object(tier={"type": "string", "enum": ["pro", "free"]})
    same = _object(tier={"type": "string", "enum": ["free", "pro"]})
    more = _object(tier={"type": "string", "enum": ["free", "pro", "enterprise"]})

    assert limit_differences(api, same) == []
    assert limit_differences(api, more) == [
        'tier.enum: API ["free", "pro"], prompt ["enterprise", "free", "pro"]'
    ]


def test_a_field_only_one_side_has_is_a_difference() -> None:
    api = _object(body={"type": "string"})
    prompt = _object(body={"type": "string"}, subject={"type": "string"})

    assert 'properties: API ["body"], prompt ["body", "subject"]' in limit_differences(api, prompt)


def test_the_api_may_add_a_pattern_the_prompt_lacks() -> None:
    api = _object(body={"type": "string", "pattern": "\\S"})
    prompt = _object(body={"type": "string"})

    assert limit_differences(api, prompt) == []


def test_a_pattern_the_prompt_declares_must_be_the_api_s() -> None:
    api = _object(body={"type": "string"})
    prompt = _object(body={"type": "string", "pattern": "^[a-z]+$"})

    assert limit_differences(api, prompt) == ['body.pattern: API absent, prompt "^[a-z]+$"']


def test_refs_of_the_input_model_are_followed() -> None:
    api = {
        "$defs": {"Body": {"type": "string", "maxLength": 10}},
        **_object(body={"$ref": "#/$defs/Body"}),
    }
    prompt = _object(body={"type": "string", "maxLength": 11})

    assert limit_differences(api, prompt) == ["body.maxLength: API 10, prompt 11"]


def test_the_fixture_feature_matches_its_prompt() -> None:
    import yaml  # noqa: PLC0415

    prompt = yaml.safe_load(V2.read_text(encoding="utf-8"))["input_schema"]

    assert limit_differences(Ticket.model_json_schema(), prompt) == []


def _add_version_3(
    repo: Path, squad: Callable[..., Squad], body_max: int, label: str | None
) -> None:
    """Lock a triage v3 whose body limit is `body_max`; point `label` at it (if given)."""
    text = V2.read_text(encoding="utf-8").replace("version: 2", "version: 3")
    text = text.replace("maxLength: 20000", f"maxLength: {body_max}")
    (repo / "prompts" / "triage" / "v3.yaml").write_text(text, encoding="utf-8")
    assert squad("prompts", "lock").code == 0
    if label:
        labels = repo / "prompts" / "labels.yaml"
        text = labels.read_text(encoding="utf-8")
        labels.write_text(
            text.replace("    staging: 2\n", f"    staging: 2\n    {label}: 3\n"), encoding="utf-8"
        )


def _limit_problems(result: Squad) -> list[str]:
    return [line for line in result.err.splitlines() if "input_schema" in line]


def test_check_fails_on_a_labelled_version_whose_limits_differ_from_the_api(
    repo: Path, squad: Callable[..., Squad]
) -> None:
    _add_version_3(repo, squad, body_max=5000, label="canary")

    result = squad("prompts", "check")

    assert result.code == 1, result.err
    (problem,) = _limit_problems(result)
    assert problem.startswith("prompts/triage/v3.yaml:15: "), problem
    assert "served as triage:canary" in problem
    assert "body.maxLength: API 20000, prompt 5000" in problem


def test_check_ignores_an_unlabelled_draft_with_other_limits(
    repo: Path, squad: Callable[..., Squad]
) -> None:
    _add_version_3(repo, squad, body_max=5000, label=None)

    assert _limit_problems(squad("prompts", "check")) == []


def test_check_accepts_a_labelled_version_with_the_api_s_limits(
    repo: Path, squad: Callable[..., Squad]
) -> None:
    _add_version_3(repo, squad, body_max=20000, label="canary")

    assert _limit_problems(squad("prompts", "check")) == []
