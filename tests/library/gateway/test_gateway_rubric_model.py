"""`local/triage-rubric-v1` answers from the rubric the prompt states, and only from it."""

from __future__ import annotations

from squadkit.gateway.rubric_model import read_rubric, triage_by_rubric

RUBRIC = """You triage support tickets.
Queues:
- billing: charges, refunds, invoices
- account: passwords, two-factor, sign-in
Priority:
- urgent: production down, data loss
- high: money taken wrongly
Then apply two rules: billing tickets are at least high; enterprise customers
move up one level from normal to high.
"""


def test_the_rubric_is_read_from_the_instructions() -> None:
    rubric = read_rubric(RUBRIC)
    assert list(rubric.queues) == ["billing", "account"]
    assert list(rubric.levels) == ["urgent", "high"]
    assert rubric.at_least == {"billing": "high"}
    assert rubric.move_up == {"enterprise": ("normal", "high")}


def test_a_ticket_goes_where_the_rubric_sends_it_with_quoted_words() -> None:
    answer = triage_by_rubric(RUBRIC, "I reset my password twice and still cannot sign in.")
    assert answer["queue"] == "account"
    assert answer["priority"] == "normal"
    assert '"password"' in answer["rationale"]


def test_the_prompts_rules_apply() -> None:
    billing = triage_by_rubric(RUBRIC, "Please refund the duplicate charges.")
    enterprise = triage_by_rubric(RUBRIC, "Customer tier: enterprise. Two-factor resets.")
    assert (billing["queue"], billing["priority"]) == ("billing", "high")
    assert (enterprise["queue"], enterprise["priority"]) == ("account", "high")


def test_without_a_rubric_the_model_cannot_route() -> None:
    answer = triage_by_rubric("You triage support tickets.", "Please refund the charges.")
    assert answer["queue"] == "unknown"  # the prompt names no queue: the answer fails its schema
    assert answer["priority"] == "normal"


def test_removing_a_rule_from_the_prompt_changes_the_answer() -> None:
    without_rule = RUBRIC.replace("billing tickets are at least high; ", "")
    assert triage_by_rubric(without_rule, "Please refund the charges.")["priority"] == "normal"
