"""The review page: one static HTML file a reviewer opens from disk, no server, no network.

Everything is inline (CSS, JS, the candidates as JSON), and a Content-Security-Policy
forbids any fetch, image or font from elsewhere: production content stays on the
reviewer's machine. Each candidate shows its reasons, feedback, inputs and output, and an
editable expected answer; the reviewer accepts, edits (changes the answer, then accepts)
or rejects, and downloads the decisions as `<suite>-decisions.json`, which
`squad review SUITE --apply FILE --by NAME` applies. Text is inserted with `textContent`
only, so a candidate's content can never run as markup.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from .candidates import Candidate

__all__ = ["review_page"]

_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'"
)

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#222}
header{position:sticky;top:0;background:#fff;padding:.5rem 0;border-bottom:1px solid #ccc}
.card{border:1px solid #ccc;border-radius:6px;padding:.75rem;margin:1rem 0}
.card[data-decision=accept]{border-color:#2a7;background:#f3fbf6}
.card[data-decision=edit]{border-color:#27a;background:#f3f7fb}
.card[data-decision=reject]{border-color:#a33;background:#fbf3f3;opacity:.8}
pre{background:#f6f6f6;padding:.5rem;overflow:auto;white-space:pre-wrap;margin:.25rem 0}
textarea{width:100%;font:13px monospace;min-height:4rem}
.reasons span{display:inline-block;background:#eee;border-radius:3px;padding:0 .4rem}
.error{color:#a33}
button{margin-right:.5rem}
"""

_SCRIPT = """
const data = JSON.parse(document.getElementById('candidates').textContent);
const decisions = new Map();
const list = document.getElementById('list');
function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}
function pretty(value) { return JSON.stringify(value, null, 2); }
function render() {
  data.candidates.forEach((c, i) => {
    const card = el('section', undefined, 'card');
    card.id = 'c-' + i;
    card.dataset.inference = c.inference_id;
    card.appendChild(el('h2', c.inference_id));
    const meta = (c.prompt || '?') + '@v' + (c.prompt_version ?? '?') + ' · ' + c.created_at;
    card.appendChild(el('div', meta));
    const reasons = el('div', undefined, 'reasons');
    c.reasons.forEach(r => reasons.appendChild(el('span', r)));
    card.appendChild(reasons);
    if (c.feedback.length) {
      card.appendChild(el('h3', 'Feedback'));
      const lines = c.feedback.map(f => f.metric + ' = ' + JSON.stringify(f.value));
      card.appendChild(el('pre', lines.join('\\n')));
    }
    card.appendChild(el('h3', 'Inputs'));
    card.appendChild(el('pre', pretty(c.inputs)));
    card.appendChild(el('h3', 'Output'));
    card.appendChild(el('pre', typeof c.output === 'string' ? c.output : pretty(c.output)));
    card.appendChild(el('h3', 'Expected'));
    const expected = el('textarea', pretty(c.proposed_expected), 'expected');
    card.appendChild(expected);
    const status = el('div', 'undecided', 'status');
    const accept = el('button', 'Accept', 'accept');
    const reject = el('button', 'Reject', 'reject');
    const undo = el('button', 'Undecide', 'undo');
    accept.onclick = () => decide(i, 'accept', card, expected, status);
    reject.onclick = () => decide(i, 'reject', card, expected, status);
    undo.onclick = () => {
      decisions.delete(i);
      card.dataset.decision = '';
      status.textContent = 'undecided';
      count();
    };
    card.append(accept, reject, undo, status);
    list.appendChild(card);
  });
  count();
}
function decide(i, kind, card, expected, status) {
  const c = data.candidates[i];
  if (kind === 'reject') {
    decisions.set(i, {inference_id: c.inference_id, decision: 'reject'});
  } else {
    let value;
    try { value = JSON.parse(expected.value); } catch (e) { value = undefined; }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      status.textContent = 'expected must be a JSON object';
      status.className = 'status error';
      return;
    }
    const edited = JSON.stringify(value) !== JSON.stringify(c.proposed_expected);
    kind = edited ? 'edit' : 'accept';
    const decision = {inference_id: c.inference_id, decision: kind};
    if (edited) decision.expected = value;
    decisions.set(i, decision);
  }
  card.dataset.decision = kind;
  status.className = 'status';
  status.textContent = kind === 'edit' ? 'accepted with an edited answer' : kind + 'ed';
  count();
}
function count() {
  document.getElementById('count').textContent =
    decisions.size + ' of ' + data.candidates.length + ' decided';
}
document.getElementById('download').onclick = () => {
  const decided = [...decisions.entries()].sort((a, b) => a[0] - b[0]).map(e => e[1]);
  const body = {suite: data.suite, decisions: decided};
  const blob = new Blob([JSON.stringify(body, null, 1) + '\\n'], {type: 'application/json'});
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = data.suite + '-decisions.json';
  document.body.appendChild(link);
  link.click();
  link.remove();
};
render();
"""


def review_page(suite: str, candidates: Iterable[Candidate]) -> str:
    """The page for `candidates` of `suite` (see the module docstring)."""
    payload = {
        "suite": suite,
        "candidates": [candidate.model_dump(mode="json") for candidate in candidates],
    }
    # Inside <script>, `</script>` or `<!--` in a candidate's text would end the element:
    # escaped as \\u003c the JSON parses the same.
    embedded = (
        json.dumps(payload, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    title = f"Review: {suite}"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{_STYLE}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<p>Accept a case as it is, change its expected answer and accept (an edit), or reject it.
Then download the decisions and run
<code>squad review {suite} --apply {suite}-decisions.json --by YOUR_NAME</code>.</p>
<button id="download">Download decisions</button> <span id="count"></span>
</header>
<main id="list"></main>
<script type="application/json" id="candidates">{embedded}</script>
<script>{_SCRIPT}</script>
</body>
</html>
"""
