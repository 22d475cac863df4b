"""`local/triage-rubric-v1` answers from the rubric the prompt states, and only from it."""

from __future__ import annotations

import json
import re
from typing import Any

from squadkit.gateway.local_models import answer
from squadkit.gateway.rubric_model import read_rubric, triage_by_rubric

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


def _messages(system: str, subject: str, body: str, tier: str = "pro") -> list[dict[str, Any]]:
    headers = f"Subject: {subject}\nCustomer tier: {tier}\nChannel: email"
    ticket = f"<ticket>\n{headers}\n\n{body}\n</ticket>"
    return [{"role": "system", "content": system}, {"role": "user", "content": ticket}]


def _ask(messages: list[dict[str, Any]]) -> dict[str, Any]:
    output: dict[str, Any] = json.loads(answer("triage-rubric-v1", messages).text)
    return output


def test_the_rubric_is_read_from_the_instructions() -> None:
    rubric = read_rubric(RUBRIC)
    assert list(rubric.queues) == ["billing", "account"]
    assert list(rubric.levels) == ["urgent", "high"]
    assert rubric.at_least == {"billing": "high"}
    assert rubric.move_up == {"enterprise": ("normal", "high")}


def test_a_definition_goes_on_over_its_indented_lines() -> None:
    high = [term.text for term in read_rubric(RUBRIC).levels["high"]]
    assert high == ["money taken wrongly", "a core feature broken with no workaround"]


def test_a_ticket_goes_where_the_rubric_sends_it_quoting_the_ticket() -> None:
    ticket = "I reset my password twice and still cannot sign in."
    answer = triage_by_rubric(RUBRIC, ticket)
    assert (answer["queue"], answer["priority"]) == ("account", "normal")
    quotes = re.findall(r'"([^"]+)"', answer["rationale"])
    assert "password" in quotes
    assert all(quote in ticket for quote in quotes)


def test_a_rubric_term_matches_its_inflections_and_everyday_synonyms() -> None:
    assert triage_by_rubric(RUBRIC, "You refunded the wrong card")["queue"] == "billing"
    assert triage_by_rubric(RUBRIC, "I can't log in since Monday")["queue"] == "account"


def test_the_prompts_rules_apply() -> None:
    billing = triage_by_rubric(RUBRIC, "Please refund the duplicate charges.")
    enterprise = triage_by_rubric(RUBRIC, "Customer tier: enterprise\n\nTwo-factor resets.")
    assert (billing["queue"], billing["priority"]) == ("billing", "high")
    assert (enterprise["queue"], enterprise["priority"]) == ("account", "high")


def test_removing_a_rule_from_the_prompt_changes_the_answer() -> None:
    without_rule = RUBRIC.replace("billing tickets are at least high; ", "")
    assert triage_by_rubric(without_rule, "Please refund the charges.")["priority"] == "normal"


def test_an_added_rule_changes_the_answer_on_a_ticket_it_matches() -> None:
    messages = _messages(RUBRIC, "Password reset", "The reset link expired.")
    with_rule = RUBRIC + "Also: account tickets are at least urgent.\n"
    assert _ask(messages)["priority"] == "normal"
    assert (
        _ask(_messages(with_rule, "Password reset", "The reset link expired."))["priority"]
        == "urgent"
    )


def test_an_added_queue_definition_takes_the_tickets_it_describes() -> None:
    shipping = RUBRIC.replace("Priority:", "- shipping: deliveries, tracking\nPriority:")
    ticket = "Where is my parcel? The tracking page is empty."
    assert triage_by_rubric(RUBRIC, ticket)["queue"] != "shipping"
    assert triage_by_rubric(shipping, ticket)["queue"] == "shipping"


def test_a_prompt_without_its_rubric_answers_differently() -> None:
    tickets = [
        ("Refund please", "You charged me twice for March."),
        ("Locked out", "The two-factor code never arrives."),
        ("Everything is down", "Production down since 9am, we are losing data."),
    ]
    bare = "You triage support tickets. Pick one queue: billing or account."
    with_rubric = [_ask(_messages(RUBRIC, s, b)) for s, b in tickets]
    without = [_ask(_messages(bare, s, b)) for s, b in tickets]
    assert [(a["queue"], a["priority"]) for a in with_rubric] == [
        ("billing", "high"),
        ("account", "normal"),
        ("billing", "urgent"),
    ]
    assert [(a["queue"], a["priority"]) for a in without] != [
        (a["queue"], a["priority"]) for a in with_rubric
    ]


def test_without_any_queue_the_model_cannot_route() -> None:
    answer = triage_by_rubric("You triage support tickets.", "Please refund the charges.")
    assert answer["queue"] == "unknown"  # the prompt names no queue: the answer fails its schema
    assert answer["priority"] == "normal"


def test_a_default_the_prompt_names_takes_the_unmatched_tickets() -> None:
    with_default = RUBRIC + "When no queue fits, use account.\n"
    assert triage_by_rubric(RUBRIC, "hello")["queue"] == "billing"  # the first listed
    assert triage_by_rubric(with_default, "hello")["queue"] == "account"


def test_the_same_messages_always_get_the_same_answer() -> None:
    messages = _messages(RUBRIC, "Charged twice", "Refund the duplicate, production down.")
    assert len({answer("triage-rubric-v1", messages).text for _ in range(5)}) == 1


def test_malformed_messages_get_a_fallback_answer_not_a_crash() -> None:
    odd: list[Any] = [
        "not a message",
        {"role": "system", "content": None},
        {"role": "system", "content": [{"type": "text", "text": "- billing: refunds"}, 7]},
        {"role": "user"},
        {"role": "system", "content": "- : \n-billing:\n  - \n<ticket>unclosed"},
    ]
    output = _ask(odd)
    assert output["queue"] == "billing"
    assert output["priority"] in {"low", "normal", "high", "urgent"}
    assert _ask([])["queue"] == "unknown"


def test_an_oversized_prompt_is_read_up_to_a_limit_and_answered() -> None:
    huge = RUBRIC + ("- filler: " + "word, " * 50_000 + "\n") + "x" * 500_000
    output = _ask(_messages(huge, "Refund", "refund " * 100_000))
    assert (output["queue"], output["priority"]) == ("billing", "high")
