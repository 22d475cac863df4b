"""The offline `local/...` models: readable rules standing in for an LLM, and their registry.

They exist so tests, CI and `make demo` run with no API key and no network: in-process when
a chain has only offline models (`offline.py`), through the Router as a provider when they are
a provider chain's last resort (`local_provider.py`). They are deliberately simple and
honest: rules any reviewer can read, mediocre but useful, never tuned to a dataset. A real
model should beat them; the eval suite's baseline shows by how much.

squadkit ships one, domain-neutral: `judge-heuristic-v1` reads a rubric and a candidate
answer and answers JSON `{"score": 0..1, "reason"}`, the share of the rubric's key terms
the answer covers. It looks for `<rubric>...</rubric>` and `<answer>...</answer>` tags
(also `<reference>`) anywhere in the messages; without tags the system message is the
rubric and the last user message the answer.

A model that knows a feature's domain (its queues, labels, vocabulary) is the squad's: each
`<package>.offline` module's `LOCAL_MODELS` (`plugins.py`), served here beside squadkit's
under the same `local/` prefix. The template seeds the triage feature's models that way
(`local/triage-rubric-v1`, `local/triage-rules-v1` in the squad's `offline/triage.py`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..files import read_text
from ..plugins import LocalModel, squad_local_models, squad_package
from ..yaml_lines import line_in_text

if TYPE_CHECKING:
    from .config import ModelsConfig


@dataclass(frozen=True)
class LocalAnswer:
    """What a local model answers, with approximate token counts (about 4 chars a token)."""

    text: str
    input_tokens: int
    output_tokens: int


def approx_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS = _words(
    """
    a an and are as at be but by does for from has have how if in into is it its must not of
    on or should that the their them then there these this those to was were what when which
    who will with would you your answer response candidate rubric score reason json give only
    """
)
"""Words that say nothing about an answer's content: never a rubric's key term."""


def _terms(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9][a-z0-9'\-]{2,}", text.lower())
    return list(dict.fromkeys(w for w in words if w not in _STOPWORDS))


def judge(rubric: str, answer: str) -> dict[str, Any]:
    """Score = share of the rubric's key terms present in the answer (0 when it is empty)."""
    terms = _terms(rubric)
    answer_terms = set(_terms(answer))
    if not answer.strip():
        return {"score": 0.0, "reason": "the answer is empty"}
    if not terms:
        return {"score": 0.5, "reason": "the rubric has no key terms; neutral score"}
    covered = [t for t in terms if t in answer_terms]
    missing = [t for t in terms if t not in answer_terms]
    score = round(len(covered) / len(terms), 2)
    reason = f"covers {len(covered)}/{len(terms)} rubric terms"
    if covered:
        reason += "; present: " + ", ".join(covered[:5])
    if missing:
        reason += "; missing: " + ", ".join(missing[:5])
    return {"score": score, "reason": reason}


def _tagged(name: str, text: str) -> str | None:
    """The text inside the first `<name>...</name>` of `text` (None when there is none)."""
    match = re.search(rf"<{name}>(.*?)</{name}>", text, flags=re.IGNORECASE | re.DOTALL)
    return match.group(1).strip() if match else None


def _text(message: dict[str, Any]) -> str:
    """A chat message's text: its content, or its text parts joined (OpenAI content parts)."""
    if not isinstance(message, dict):
        return ""  # not a chat message: nothing to read
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


def _judge_model(messages: list[dict[str, Any]]) -> dict[str, Any]:
    everything = "\n".join(_text(m) for m in messages)
    rubric = _tagged("rubric", everything)
    reference = _tagged("reference", everything)
    answer = _tagged("answer", everything)
    if rubric is None and reference is None:
        rubric = " ".join(_text(m) for m in messages if m.get("role") == "system")
    if answer is None:
        users = [_text(m) for m in messages if m.get("role") == "user"]
        answer = users[-1] if users else ""
    return judge(" ".join(filter(None, (rubric, reference))), answer)


LOCAL_MODELS: dict[str, LocalModel] = {"judge-heuristic-v1": _judge_model}
"""The models squadkit ships; a squad adds its own in `<package>.offline` (see plugins)."""

SQUAD_MODELS_HINT = (
    "a squad's own offline models are the LOCAL_MODELS of its src/<package>/offline/ "
    "modules: define it there or fix the name"
)
"""What to do about an unknown `local/` name, for every message that reports one."""


def known_models() -> dict[str, LocalModel]:
    """squadkit's local models and the squad's (a squad model may not shadow a shipped one)."""
    squad = squad_local_models()
    clash = sorted(set(squad) & set(LOCAL_MODELS))
    if clash:
        raise ConfigError(
            f"the squad's offline modules redefine squadkit's local model(s) {', '.join(clash)}; "
            "give yours another name"
        )
    return {**LOCAL_MODELS, **squad}


def unknown_local_models(config: ModelsConfig) -> list[str]:
    """One line per `local/...` deployment that names no known model (file:line first)."""
    known: dict[str, LocalModel] | None = None
    problems = []
    for alias, alias_config in config.aliases.items():
        for index, deployment in enumerate(alias_config.deployments):
            if not deployment.is_local:
                continue
            known = known if known is not None else known_models()
            name = deployment.model.split("/", 1)[1]
            if name not in known:
                where = _where(config, ("aliases", alias, "deployments", index, "model"))
                problems.append(
                    f"{where}alias '{alias}' deployment {index + 1}: {deployment.model} is not "
                    f"a known local model (known: {', '.join(f'local/{m}' for m in sorted(known))}"
                    f"); {SQUAD_MODELS_HINT}"
                )
    return problems


def _where(config: ModelsConfig, loc: tuple[Any, ...]) -> str:
    if config.source is None:
        return ""
    try:
        line = line_in_text(read_text(config.source), loc)
    except (OSError, UnicodeDecodeError, ConfigError):
        line = None
    return f"{config.source}{f':{line}' if line else ''}: "


_ANSWERING: dict[str | None, dict[str, LocalModel]] = {}
"""`known_models()` by squad package: the squad's code does not change while it runs (its
modules are imported once, `plugins`), so the models are looked up once, not per answer."""


def answer(model: str, messages: list[dict[str, Any]]) -> LocalAnswer:
    """Run local model `model` (without the `local/` prefix); KeyError if unknown."""
    package = squad_package()
    models = _ANSWERING.get(package)
    if models is None:
        models = _ANSWERING[package] = known_models()
    output = models[model](messages)
    text = json.dumps(output)
    prompt = "\n".join(_text(m) for m in messages)
    return LocalAnswer(
        text=text, input_tokens=approx_tokens(prompt), output_tokens=approx_tokens(text)
    )
