"""The triage feature's offline models, as a render seeds them in `src/<package>/offline/`.

`local/triage-rubric-v1` answers from the rubric the prompt states, and only from it;
`local/triage-rules-v1` from its own keyword lists. squadkit ships neither (a squad's
taxonomy is its own), so they are tested here, imported from a fresh render; squadkit's
tests cover how any squad's offline model is served. A render's committed recordings,
baseline and evidence were made with them: re-recording a fresh render changes none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.template.conftest import Rendered, offline_models, render, run, squad_module

RUBRIC = """You triage support tickets.
Queues:
- billing: charges, refunds, invoices
- account: passwords, two-factor, sign-in
Priority:
- urgent: production down, data loss
- high: money taken wrongly, a core feature broken with no
  workaround
Then apply two rules: billing tickets are at least high; enterprise customers
move up one level from normal to high.
"""

Model = Callable[[list[dict[str, Any]]], dict[str, Any]]


@pytest.fixture(scope="module")
def rendered_offline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One render's offline models by name, and its `triage` and `triage_rubric` modules."""
    rendered = render(tmp_path_factory.mktemp("offline"), skip_tasks=True)
    return {
        "models": offline_models(rendered),
        "triage": squad_module(rendered, "offline.triage"),
        "rubric": squad_module(rendered, "offline.triage_rubric"),
    }


@pytest.fixture(scope="module")
def rubric_model(rendered_offline: dict[str, Any]) -> Model:
    model: Model = rendered_offline["models"]["triage-rubric-v1"]
    return model


@pytest.fixture(scope="module")
def rubric(rendered_offline: dict[str, Any]) -> ModuleType:
    module: ModuleType = rendered_offline["rubric"]
    return module


@pytest.fixture(scope="module")
def triage(rendered_offline: dict[str, Any]) -> Callable[[str], dict[str, str]]:
    rules: Callable[[str], dict[str, str]] = rendered_offline["triage"].triage
    return rules


def _messages(system: str, subject: str, body: str, tier: str = "pro") -> list[dict[str, Any]]:
    headers = f"Subject: {subject}\nCustomer tier: {tier}\nChannel: email"
    ticket = f"<ticket>\n{headers}\n\n{body}\n</ticket>"
    return [{"role": "system", "content": system}, {"role": "user", "content": ticket}]


def test_a_render_serves_both_triage_models_beside_squadkits_judge(
    rendered_offline: dict[str, Any],
) -> None:
    assert set(rendered_offline["models"]) == {
        "judge-heuristic-v1",
        "triage-rubric-v1",
        "triage-rules-v1",
    }


# -- local/triage-rubric-v1 --------------------------------------------------------------


def test_the_rubric_is_read_from_the_instructions(rubric: ModuleType) -> None:
    read = rubric.read_rubric(RUBRIC)
    assert list(read.queues) == ["billing", "account"]
    assert list(read.levels) == ["urgent", "high"]
    assert read.at_least == {"billing": "high"}
    assert read.move_up == {"enterprise": ("normal", "high")}


def test_a_definition_goes_on_over_its_indented_lines(rubric: ModuleType) -> None:
    high = [term.text for term in rubric.read_rubric(RUBRIC).levels["high"]]
    assert high == ["money taken wrongly", "a core feature broken with no workaround"]


def test_a_ticket_goes_where_the_rubric_sends_it_quoting_the_ticket(rubric: ModuleType) -> None:
    ticket = "I reset my password twice and still cannot sign in."
    answer = rubric.triage_by_rubric(RUBRIC, ticket)
    assert (answer["queue"], answer["priority"]) == ("account", "normal")
    quotes = re.findall(r'"([^"]+)"', answer["rationale"])
    assert "password" in quotes
    assert all(quote in ticket for quote in quotes)


def test_a_ticket_quotes_its_words_as_written_after_any_letter(rubric: ModuleType) -> None:
    # "İ" lower-cases to two characters: the words after it keep their places.
    ticket = rubric.Ticket.read("Subject: İstanbul office\nPlease refund the invoice")
    assert ticket.find(("offic",)) == ("office", True)
    assert ticket.find(("refund",)) == ("refund", False)


def test_a_ticket_is_split_into_words_as_the_rubric_is(rubric: ModuleType) -> None:
    # a dotless i, a long s and a dotted capital I: each splits a word once lower-cased
    text = "K\u0131rm\u0131z\u0131 \u017ftop, DON'T \u0130stanbul 2FA"
    assert rubric.Ticket.read(text).stems == rubric.stems(text)


def test_a_rubric_term_matches_its_inflections_and_everyday_synonyms(rubric: ModuleType) -> None:
    assert rubric.triage_by_rubric(RUBRIC, "You refunded the wrong card")["queue"] == "billing"
    assert rubric.triage_by_rubric(RUBRIC, "I can't log in since Monday")["queue"] == "account"


def test_the_prompts_rules_apply(rubric: ModuleType) -> None:
    billing = rubric.triage_by_rubric(RUBRIC, "Please refund the duplicate charges.")
    enterprise = rubric.triage_by_rubric(RUBRIC, "Customer tier: enterprise\n\nTwo-factor resets.")
    assert (billing["queue"], billing["priority"]) == ("billing", "high")
    assert (enterprise["queue"], enterprise["priority"]) == ("account", "high")


def test_removing_a_rule_from_the_prompt_changes_the_answer(rubric: ModuleType) -> None:
    without_rule = RUBRIC.replace("billing tickets are at least high; ", "")
    assert rubric.triage_by_rubric(without_rule, "Please refund the charges.")["priority"] == (
        "normal"
    )


def test_an_added_rule_changes_the_answer_on_a_ticket_it_matches(rubric_model: Model) -> None:
    messages = _messages(RUBRIC, "Password reset", "The reset link expired.")
    with_rule = RUBRIC + "Also: account tickets are at least urgent.\n"
    assert rubric_model(messages)["priority"] == "normal"
    assert (
        rubric_model(_messages(with_rule, "Password reset", "The reset link expired."))["priority"]
        == "urgent"
    )


def test_an_added_queue_definition_takes_the_tickets_it_describes(rubric: ModuleType) -> None:
    shipping = RUBRIC.replace("Priority:", "- shipping: deliveries, tracking\nPriority:")
    ticket = "Where is my parcel? The tracking page is empty."
    assert rubric.triage_by_rubric(RUBRIC, ticket)["queue"] != "shipping"
    assert rubric.triage_by_rubric(shipping, ticket)["queue"] == "shipping"


def test_a_prompt_without_its_rubric_answers_differently(rubric_model: Model) -> None:
    tickets = [
        ("Refund please", "You charged me twice for March."),
        ("Locked out", "The two-factor code never arrives."),
        ("Everything is down", "Production down since 9am, we are losing data."),
    ]
    bare = "You triage support tickets. Pick one queue: billing or account."
    with_rubric = [rubric_model(_messages(RUBRIC, s, b)) for s, b in tickets]
    without = [rubric_model(_messages(bare, s, b)) for s, b in tickets]
    assert [(a["queue"], a["priority"]) for a in with_rubric] == [
        ("billing", "high"),
        ("account", "normal"),
        ("billing", "urgent"),
    ]
    assert [(a["queue"], a["priority"]) for a in without] != [
        (a["queue"], a["priority"]) for a in with_rubric
    ]


def test_without_any_queue_the_model_cannot_route(rubric: ModuleType) -> None:
    answer = rubric.triage_by_rubric("You triage support tickets.", "Please refund the charges.")
    assert answer["queue"] == "unknown"  # the prompt names no queue: the answer fails its schema
    assert answer["priority"] == "normal"


def test_a_default_the_prompt_names_takes_the_unmatched_tickets(rubric: ModuleType) -> None:
    with_default = RUBRIC + "When no queue fits, use account.\n"
    assert rubric.triage_by_rubric(RUBRIC, "hello")["queue"] == "billing"  # the first listed
    assert rubric.triage_by_rubric(with_default, "hello")["queue"] == "account"


def test_the_same_messages_always_get_the_same_answer(rubric_model: Model) -> None:
    messages = _messages(RUBRIC, "Charged twice", "Refund the duplicate, production down.")
    assert len({json.dumps(rubric_model(messages)) for _ in range(5)}) == 1


def test_malformed_messages_get_a_fallback_answer_not_a_crash(rubric_model: Model) -> None:
    odd: list[Any] = [
        "not a message",
        {"role": "system", "content": None},
        {"role": "system", "content": [{"type": "text", "text": "- billing: refunds"}, 7]},
        {"role": "user"},
        {"role": "system", "content": "- : \n-billing:\n  - \n<ticket>unclosed"},
    ]
    output = rubric_model(odd)
    assert output["queue"] == "billing"
    assert output["priority"] in {"low", "normal", "high", "urgent"}
    assert rubric_model([])["queue"] == "unknown"


def test_an_oversized_prompt_is_read_up_to_a_limit_and_answered(rubric_model: Model) -> None:
    huge = RUBRIC + ("- filler: " + "word, " * 50_000 + "\n") + "x" * 500_000
    output = rubric_model(_messages(huge, "Refund", "refund " * 100_000))
    assert (output["queue"], output["priority"]) == ("billing", "high")


# -- local/triage-rules-v1 ---------------------------------------------------------------


def test_triage_rules_quote_phrases_from_the_ticket(
    triage: Callable[[str], dict[str, str]],
) -> None:
    ticket = "URGENT: I was charged twice for my invoice, please refund"
    decision = triage(ticket)
    assert decision["queue"] == "billing"
    assert decision["priority"] == "urgent"
    assert '"refund"' in decision["rationale"]
    quoted = re.findall(r'"([^"]+)"', decision["rationale"])
    assert all(q in ticket for q in quoted)


def test_triage_without_keywords_uses_defaults(triage: Callable[[str], dict[str, str]]) -> None:
    assert triage("hello") | {"rationale": ""} == {
        "queue": "technical",
        "priority": "normal",
        "rationale": "",
    }


def test_security_tickets_are_at_least_high(triage: Callable[[str], dict[str, str]]) -> None:
    assert triage("I got a phishing email pretending to be you")["priority"] == "high"


def test_triage_rules_read_the_ticket_tag_not_the_instructions(
    rendered_offline: dict[str, Any],
) -> None:
    rules: Model = rendered_offline["models"]["triage-rules-v1"]
    messages = [
        {"role": "system", "content": "Queues: billing, security, shipping."},
        {"role": "user", "content": "<ticket>Cannot log in, password reset fails</ticket>"},
    ]
    assert rules(messages)["queue"] == "account"


@pytest.mark.slow
def test_re_recording_a_fresh_render_changes_no_committed_eval_file(
    render_once: Callable[..., Rendered], install: Callable[[Rendered], dict[str, str]]
) -> None:
    rendered = render_once()
    env = install(rendered)
    evals = rendered.path / "evals"

    def contents() -> dict[Path, bytes]:
        committed = ("recordings", "baselines", "evidence")  # `.cache/` is not committed
        files = [path for folder in committed for path in (evals / folder).rglob("*")]
        return {path: path.read_bytes() for path in files if path.is_file()}

    before = contents()
    assert before, "a default render ships its recordings, baseline and evidence"
    run(["make", "eval-refresh"], cwd=rendered.path, env=env)
    after = contents()

    changed = sorted(
        str(p.relative_to(evals)) for p in before | after if before.get(p) != after.get(p)
    )
    assert changed == []  # the answers, their tokens and the scores are the shipped ones
