"""The shipped gate, offline, refuses worse prompts and passes an unchanged copy.

A fresh default render answers with `local/triage-rubric-v1`, which reads the prompt's own
rubric. Each case writes v3 of triage from v2 (what `staging` serves) with one edit, locks
it, and gates it live against the committed baseline, as a squad does before a PR.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from tests.template.conftest import Rendered, commit_all, git, render, run

Edit = Callable[[str], str]


def _drop_body(text: str) -> str:
    return text.replace("\n      {{ body }}\n", "\n")


def _drop_rubric(text: str) -> str:
    rubric = re.compile(r"      1\. Queue .*?(?=      Answer with JSON)", re.S)
    plain = (
        "      Pick one queue (billing, technical, account, shipping, sales or security)\n"
        "      and one priority (low, normal, high or urgent).\n\n"
    )
    return rubric.sub(plain, text, count=1)


def _drop_security(text: str) -> str:
    queue = "         - security: suspected compromise, phishing, vulnerabilities, data exposure\n"
    return text.replace(queue, "").replace("security tickets are at least high; ", "")


def _unchanged(text: str) -> str:
    return text.replace("version: 3", "version: 3  # an unchanged copy of v2", 1)


EDITS: dict[str, tuple[Edit, int]] = {
    "ticket body dropped": (_drop_body, 1),
    "rubric deleted": (_drop_rubric, 1),
    "security queue and rule removed": (_drop_security, 1),
    "unchanged copy": (_unchanged, 0),
}


def test_shipped_gate_refuses_worse_prompts_and_passes_an_unchanged_copy(
    tmp_path: Path, install: Callable[[Rendered], dict[str, str]]
) -> None:
    rendered = render(tmp_path / "squad")
    env = install(rendered)
    repo = rendered.path
    commit_all(repo, "rendered")
    outcomes: dict[str, int] = {}
    errors: dict[str, str] = {}  # each gate's last line, to say why an outcome differs
    for name, (edit, _) in EDITS.items():
        run(["uv", "run", "squad", "prompts", "new", "triage"], cwd=repo, env=env)
        v3 = repo / "prompts" / "triage" / "v3.yaml"
        text = v3.read_text(encoding="utf-8")
        edited = edit(text)
        assert edited != text, f"{name}: the edit did not apply to v3"
        v3.write_text(edited, encoding="utf-8")
        run(["uv", "run", "squad", "prompts", "lock"], cwd=repo, env=env)
        gate = ["uv", "run", "squad", "eval", "gate", "triage", "--version", "3"]
        gated = run([*gate, "--mode", "live", "--no-evidence"], cwd=repo, env=env, check=False)
        assert "Traceback" not in gated.stderr, gated.stderr
        outcomes[name] = gated.returncode
        errors[name] = gated.stderr.strip().splitlines()[-1][:400] if gated.stderr.strip() else ""
        git("checkout", "--quiet", "--", ".", cwd=repo)
        git("clean", "--quiet", "-fd", "prompts", "reports", cwd=repo)

    assert outcomes == {name: expected for name, (_, expected) in EDITS.items()}, errors
