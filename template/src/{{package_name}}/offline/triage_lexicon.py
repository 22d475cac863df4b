"""What `local/triage-rubric-v1` knows of English: word stems and a small thesaurus.

An instruction-following model reads "refunds" in a rubric and knows a ticket asking for
"money back" fits it. This module is that knowledge, kept small and general: each entry
maps a word or phrase a rubric may use to everyday words with the same meaning. It is
only ever reached through the prompt's own words: a concept the prompt does not state
adds nothing, so deleting a rubric line deletes what the model knows about that queue.
Nothing here names a queue, a priority level's rule or a dataset's content.
"""

from __future__ import annotations

import functools
import re

WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
"""A word of lower-cased text: what a rubric's terms and a ticket's words are made of."""


@functools.lru_cache(maxsize=4096)  # a pure function of a word; tickets repeat their words
def stem(word: str) -> str:
    """A crude English stem: "charges", "charged", "charging" and "charge" all give "charg"."""
    word = word.lower().replace("'", "")
    for ending, replacement in (("ies", "y"), ("ied", "y"), ("sses", "ss")):
        if word.endswith(ending) and len(word) > len(ending) + 2:
            word = word[: -len(ending)] + replacement
            break
    else:
        for ending in ("ing", "ed", "es", "s"):
            if word.endswith(ending) and len(word) - len(ending) >= 3:
                if ending == "s" and word.endswith(("ss", "us", "is")):
                    continue
                word = word[: -len(ending)]
                if ending in ("ing", "ed") and len(word) > 3 and word[-1] == word[-2]:
                    word = word[:-1]  # shipped -> ship
                break
    if len(word) > 4 and word[-1] in "ey":
        word = word[:-1]
    return word


def stems(text: str) -> tuple[str, ...]:
    return tuple(stem(token) for token in WORD.findall(text.lower().replace("\u2019", "'")))


def _entries(text: str) -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """`concept: synonym, synonym` lines (an indented line goes on with the one above) ->
    {stemmed concept: stemmed synonyms}."""
    table: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {}
    for line in re.sub(r"\n[ \t]+", " ", text.strip()).splitlines():
        concept, _, synonyms = line.partition(":")
        table[stems(concept)] = tuple(stems(s) for s in synonyms.split(",") if s.strip())
    return table


# Each entry: a word or phrase a rubric may use, then words that mean the same in a ticket.
# `low` and `urgent` serve a prompt that names the priority levels without defining them.
THESAURUS = _entries(
    """
charge: charged, billed, bill, fee, overcharged, debited, cost me, costing
refund: refund, money back, reimburse, chargeback, credit back
invoice: invoice, statement, vat, tax, billing
payment method: card declined, credit card, debit card, payment failed, payment details,
  card on file
paid: paid, pay, payment, payout
price: price, pricing, priced, cost
error: error, fail, failed, failing, failure, wrong, doesn't work, not working, won't, stuck, glitch
outage: outage, down, offline, unavailable, won't load, not loading
bug: bug, glitch, crash, crashes, broke, broken
integration: integration, api, webhook, sync, export, import, endpoint, plugin
performance: slow, lag, laggy, speed, latency, timeout, takes forever
sign in: sign in, log in, login, logon, signin, locked out, log into, sso, logged out
password: password, passcode, pin, forgot password, reset link
two factor: two-factor, 2fa, mfa, authenticator, verification code, verify
user: user, users, username, staff, employee, team member
permission: permission, role, access, admin, read-only
account setting: settings, profile, language, email address, close the account, close account,
  delete my account
delivery: delivery, deliver, ship, shipped, shipment, courier, package, parcel, arrived, arrive,
  transit, dispatch
tracking: tracking, track, tracking number, where's my order, where is my order
damaged: damaged, crushed, dented, cracked, snapped
missing: missing, never arrived, empty, lost
hardware: hardware, device, equipment
quote: quote, quotation, pricing, proposal, rfp, estimate
upgrade: upgrade, downgrade, add-on
purchase: purchase, buy, buying, procurement
demo: demo, trial, walkthrough, show me
contract: contract, agreement, renewal, renew, reseller, partnership, vendor
compromise: compromised, hacked, breach, unauthorized, unauthorised, suspicious, stolen, fraud,
  wasn't me, wasn't us, tampered
phishing: phishing, scam, fake email, spoofed
vulnerability: vulnerability, exploit, security researcher, disclosure, injection
data exposure: exposed, leaked, leak
security incident: hacked, breach, compromised, unauthorized, unauthorised, fraud, stolen
urgent: urgent, asap, emergency, immediately, right now, critical
production down: everyone, nobody can, down, outage
data loss: data loss, lost data, disappeared, wiped, gone
feature broken: not working, doesn't work, stopped working, won't work, can't use
money taken wrongly: charged twice, double charge, duplicate, didn't authorize, overcharged
hard deadline: deadline, by tomorrow, by friday, by monday, before the weekend
workaround: workaround, for now, by hand, manually, in the meantime, meanwhile
how-to: how do i, how can i, how to, is there a way, what's the best way, where do i, where can i,
  do you offer
feedback: feedback, suggestion, feature request, would be nice, any plans, wish
no rush: no rush, whenever, when you get a chance, not urgent
low: no rush, whenever, when you get a chance, not urgent, just wondering, just wanted, feedback,
  suggestion
"""
)
