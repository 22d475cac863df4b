"""Loading, label resolution and sandboxed rendering of prompt versions."""

import json
import time
from pathlib import Path

import pytest

from squadkit.gateway import PromptRef
from squadkit.prompts import (
    PromptInputError,
    PromptNotFound,
    PromptRegistry,
    PromptRenderError,
    file_hash,
)

# Jinja delimiters spelled out, so this file stays readable as a template of the template.
OPEN, CLOSE = "{" + "{", "}" + "}"
TICKET = {
    "subject": "Charged twice",
    "body": "Two charges of $79 on March 3rd; please refund the duplicate.",
    "customer_tier": "pro",
    "channel": "email",
}


def write_prompt(root: Path, name: str, version: int, body: str) -> Path:
    path = root / "prompts" / name / f"v{version}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"name: {name}\nversion: {version}\n" + body, encoding="utf-8")
    return path


def test_label_resolves_to_its_version(repo: Path) -> None:
    registry = PromptRegistry.load(repo / "prompts")
    assert registry.get("triage", label="production").version == 1
    assert registry.get("triage", label="staging").version == 2
    assert registry.get("triage").label == "production"


def test_rendered_prompt_carries_name_version_label_and_hash(repo: Path) -> None:
    registry = PromptRegistry.load(repo / "prompts")
    rendered = registry.get("triage", label="staging").render(TICKET)
    ref = rendered.ref
    assert (ref.name, ref.version, ref.label) == ("triage", 2, "staging")
    assert ref.content_hash == file_hash(repo / "prompts" / "triage" / "v2.yaml")
    assert rendered.model == "triage"
    assert [m["role"] for m in rendered.messages] == ["system", "user"]
    assert "Subject: Charged twice" in rendered.messages[1]["content"]
    assert rendered.output_schema is not None
    assert rendered.output_schema["required"] == ["queue", "priority", "rationale"]


def test_rendered_prompt_ref_is_the_gateways_prompt_ref(repo: Path) -> None:
    rendered = PromptRegistry.load(repo / "prompts").get("triage", version=1).render(TICKET)
    ref = rendered.ref
    assert isinstance(ref, PromptRef)
    assert (ref.name, ref.version, ref.label, ref.content_hash) == (
        "triage",
        1,
        None,
        file_hash(repo / "prompts" / "triage" / "v1.yaml"),
    )


def test_environment_pins_a_label_for_canaries(repo: Path) -> None:
    registry = PromptRegistry.load(repo / "prompts", label_overrides={"triage": "staging"})
    version = registry.get("triage", label="production")
    assert (version.version, version.label) == (2, "staging")


def test_environment_variable_pin_is_read_at_load(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SQUAD_PROMPT_LABEL__TRIAGE", "staging")
    assert PromptRegistry.load(repo / "prompts").get("triage").version == 2


def test_pin_to_unknown_label_names_the_variable(repo: Path) -> None:
    registry = PromptRegistry.load(repo / "prompts", label_overrides={"triage": "canary"})
    with pytest.raises(PromptNotFound, match="SQUAD_PROMPT_LABEL__TRIAGE"):
        registry.get("triage")


def test_unknown_prompt_lists_known_prompts(repo: Path) -> None:
    with pytest.raises(PromptNotFound, match="unknown prompt 'nope'; prompts: triage"):
        PromptRegistry.load(repo / "prompts").get("nope")


def test_missing_input_is_named(repo: Path) -> None:
    version = PromptRegistry.load(repo / "prompts").get("triage")
    inputs = {k: v for k, v in TICKET.items() if k != "body"}
    with pytest.raises(PromptInputError, match=r"triage@v1: input 'body' is required"):
        version.render(inputs)


def test_extra_input_is_named(repo: Path) -> None:
    version = PromptRegistry.load(repo / "prompts").get("triage")
    with pytest.raises(PromptInputError, match="unexpected input 'urgency'"):
        version.render({**TICKET, "urgency": "now"})


def test_wrong_type_input_is_named(repo: Path) -> None:
    version = PromptRegistry.load(repo / "prompts").get("triage")
    with pytest.raises(PromptInputError, match="input 'subject': 42 is not of type 'string'"):
        version.render({**TICKET, "subject": 42})


def test_input_outside_enum_is_named(repo: Path) -> None:
    version = PromptRegistry.load(repo / "prompts").get("triage")
    with pytest.raises(PromptInputError, match="input 'customer_tier'"):
        version.render({**TICKET, "customer_tier": "gold"})


def test_sandbox_blocks_python_internals(repo: Path) -> None:
    write_prompt(
        repo,
        "probe",
        1,
        f"description: d\nmodel: triage\ntemplate: \"{OPEN} ''.__class__.__mro__ {CLOSE}\"\n",
    )
    version = PromptRegistry.load(repo / "prompts").get("probe", version=1)
    with pytest.raises(PromptRenderError, match="blocked by the sandbox"):
        version.render({})


def test_sandbox_blocks_mutating_inputs(repo: Path) -> None:
    write_prompt(
        repo,
        "probe",
        1,
        f'description: d\nmodel: triage\ntemplate: "{OPEN} items.append(1) {CLOSE}"\n',
    )
    version = PromptRegistry.load(repo / "prompts").get("probe", version=1)
    with pytest.raises(PromptRenderError, match="blocked by the sandbox"):
        version.render({"items": []})


def test_single_text_prompt_renders_one_user_message(repo: Path) -> None:
    write_prompt(
        repo,
        "summary",
        1,
        f'description: d\nmodel: triage\ntemplate: "Summarise: {OPEN} text {CLOSE}"\n',
    )
    rendered = (
        PromptRegistry.load(repo / "prompts").get("summary", version=1).render({"text": "hello"})
    )
    assert rendered.messages == [{"role": "user", "content": "Summarise: hello"}]
    assert rendered.text == "Summarise: hello"


def test_prompt_without_input_schema_requires_template_variables(repo: Path) -> None:
    write_prompt(
        repo,
        "summary",
        1,
        f'description: d\nmodel: triage\ntemplate: "{OPEN} text {CLOSE}"\n',
    )
    version = PromptRegistry.load(repo / "prompts").get("summary", version=1)
    with pytest.raises(PromptInputError, match="input 'text' is required"):
        version.render({})


def test_shipped_v2_differs_from_v1_in_instructions(repo: Path) -> None:
    registry = PromptRegistry.load(repo / "prompts")
    v1, v2 = registry.get("triage", version=1), registry.get("triage", version=2)
    system_v1 = v1.render(TICKET).messages[0]["content"]
    system_v2 = v2.render(TICKET).messages[0]["content"]
    assert "quotes the words" not in system_v1
    assert "quotes the words of the ticket" in system_v2
    assert "urgent: production down" in system_v2


def test_reload_uses_the_cache_until_a_file_changes(repo: Path) -> None:
    first = PromptRegistry.load(repo / "prompts").get("triage", version=1)
    again = PromptRegistry.load(repo / "prompts").get("triage", version=1)
    assert again is first
    path = repo / "prompts" / "triage" / "v1.yaml"
    path.write_text(path.read_text() + "# edited\n")
    changed = PromptRegistry.load(repo / "prompts").get("triage", version=1)
    assert changed.content_hash != first.content_hash


TAG, END = "{" + "%", "%" + "}"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (f"{OPEN} subject * 100000000 {CLOSE}", "'*' would make 1,300,000,000 characters"),
        (f"{OPEN} 'x' * 100000000 {CLOSE}", "'*' would make 100,000,000 characters"),
        (f"{TAG} for i in range(10**12) {END}x{TAG} endfor {END}", "range() of 1,000,000,000,000"),
        (f"{TAG} for i in range(10**100) {END}x{TAG} endfor {END}", "range() of 100,001 items"),
        (
            f"{TAG} for i in range(99999) {END}{TAG} for j in range(99999) {END}"
            f"{TAG} endfor {END}{TAG} endfor {END}",
            "ranges make at most 100,000 items in one render",
        ),
        (f"{TAG} for i in range(90000) {END}{OPEN} subject {CLOSE}{TAG} endfor {END}", "rendered"),
        (f"{OPEN} subject|center(10**9) {CLOSE}", "center would make 1,000,000,000 characters"),
        (f"{OPEN} subject.ljust(10**9) {CLOSE}", "str.ljust() would make 1,000,000,000"),
        (f"{OPEN} '{{:>1000000000}}'.format(subject) {CLOSE}", "str.format() would make"),
        (f"{OPEN} '%1000000000s' % subject {CLOSE}", "'%' would make 1,000,000,000"),
        (f"{OPEN} subject|indent(10**8) {CLOSE}", "indent would make"),
        (f"{OPEN} range(100)|join(subject * 70000) {CLOSE}", "join would make"),
        (f"{OPEN} 2 ** 100000 {CLOSE}", "'**' would make a number of about 60,400 digits"),
        (
            f"{TAG} set ns = namespace(s=subject) {END}{TAG} for i in range(60) {END}"
            f"{TAG} set ns.s = ns.s ~ ns.s {END}{TAG} endfor {END}",
            "namespace attribute 's' would make",
        ),
    ],
    ids=lambda value: value[:40],
)
def test_a_template_that_would_grow_past_the_cap_fails_at_once(
    repo: Path, template: str, message: str
) -> None:
    write_prompt(repo, "probe", 1, f"description: d\nmodel: triage\ntemplate: {template!r}\n")
    version = PromptRegistry.load(repo / "prompts").get("probe", version=1)

    started = time.monotonic()
    with pytest.raises(PromptRenderError) as caught:
        version.render({"subject": "Charged twice"} if "subject" in version.variables else {})

    assert str(caught.value).startswith(f"{version.path.as_posix()}: messages[0]: too large: ")
    assert message in str(caught.value)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (f"{OPEN} 1 / 0 {CLOSE}", "messages[0]: ZeroDivisionError: division by zero"),
        (
            f"{TAG} macro r() {END}{OPEN} r() {CLOSE}{TAG} endmacro {END}{OPEN} r() {CLOSE}",
            "messages[0]: the template recursed too deeply",
        ),
    ],
    ids=["division by zero", "recursion"],
)
def test_a_failing_template_operation_is_one_line_naming_the_file(
    repo: Path, template: str, message: str
) -> None:
    write_prompt(repo, "probe", 1, f"description: d\nmodel: triage\ntemplate: {template!r}\n")
    version = PromptRegistry.load(repo / "prompts").get("probe", version=1)

    with pytest.raises(PromptRenderError) as caught:
        version.render({"subject": "Charged twice"} if "subject" in version.variables else {})

    assert str(caught.value) == f"{version.path.as_posix()}: {message}"


def test_bounded_operations_within_the_cap_render_as_jinja_does(repo: Path) -> None:
    template = (
        f"{OPEN} subject * 2 {CLOSE}|{OPEN} subject|center(17) {CLOSE}|"
        f"{OPEN} range(3)|join(',') {CLOSE}|{OPEN} '%5s' % 'x' {CLOSE}|"
        f"{OPEN} 'ab'|replace('a', 'x') {CLOSE}|{OPEN} 2 ** 10 {CLOSE}|"
        f"{TAG} for i in range(2) {END}{OPEN} i {CLOSE}{TAG} endfor {END}"
    )
    write_prompt(repo, "probe", 1, f"description: d\nmodel: triage\ntemplate: {template!r}\n")
    version = PromptRegistry.load(repo / "prompts").get("probe", version=1)

    text = version.render({"subject": "Charged twice"}).text

    assert text == "Charged twiceCharged twice|  Charged twice  |0,1,2|    x|xb|1024|01"


def test_a_message_without_jinja_syntax_renders_the_same_every_time(repo: Path) -> None:
    system = 'Answer with JSON: {"queue": ...}.\r\nNo delimiters here.\n'
    body = (
        "description: d\nmodel: triage\nmessages:\n"
        f"  - {{role: system, content: {json.dumps(system)}}}\n"
        f"  - {{role: user, content: {json.dumps(OPEN + ' subject ' + CLOSE)}}}\n"
    )
    write_prompt(repo, "probe", 1, body)
    version = PromptRegistry.load(repo / "prompts").get("probe", version=1)
    first = version.render({"subject": "one"})
    second = version.render({"subject": "two"})
    assert first.messages[0] == second.messages[0]  # rendered by Jinja once, then reused
    assert first.messages[0]["content"] == 'Answer with JSON: {"queue": ...}.\nNo delimiters here.'
    assert second.messages[1]["content"] == "two"


def test_a_reused_message_still_counts_against_the_render_cap(repo: Path) -> None:
    body = (
        "description: d\nmodel: triage\nmessages:\n"
        f"  - {{role: system, content: {json.dumps('x' * 600_000)}}}\n"
        f"  - {{role: user, content: {json.dumps(OPEN + ' subject ' + CLOSE)}}}\n"
    )
    write_prompt(repo, "probe", 1, body)
    version = PromptRegistry.load(repo / "prompts").get("probe", version=1)
    version.render({"subject": "short"})
    with pytest.raises(PromptRenderError, match=r"messages\[1\]: too large: "):
        version.render({"subject": "y" * 500_000})
