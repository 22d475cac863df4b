"""Output-quality signals in production: sample answers, score them cheaply, watch for drift.

Offline, the eval suite scores a labelled dataset. Online there are no labels, so a
configurable sample of real answers goes through *reference-free* scorers that cost
microseconds and never call a model:

- `schema_valid`: the parsed output validates against the prompt's output schema
  (an invented queue or priority fails here);
- `refusal`: 0 when the answer reads like a refusal;
- `length`: the answer's length is within the configured bounds;
- `grounding`: every phrase the answer's rationale quotes appears in the inputs; a failure
  is the hallucination signal, exported as a rate per prompt version.

They live here rather than in `evals/` because the gateway's observer must not import the
eval runner (dependencies point features -> gateway -> observability). Their names match the
suite's scorers, so `DriftMonitor` compares a rolling window of online scores with the
suite's baseline mean (`evals/baselines/<suite>.json`) and reports a move beyond the margin.
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import json_schema
from ..errors import ConfigError
from ..files import REPORT_CAP, read_text
from .config import DriftConfig, QualityConfig

logger = logging.getLogger(__name__)

# "double", “curly”, «guillemets» — the quote styles a rationale uses to cite the ticket.
_QUOTED = re.compile(r"\"([^\"]{3,})\"|“([^”]{3,})”|«([^»]{3,})»")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class QualityScore:
    """One online scorer's verdict on one answer, in [0, 1]."""

    scorer: str
    value: float
    label: str
    explanation: str


@dataclass(frozen=True)
class Answer:
    """What an online scorer may look at: the answer, its parsed output and the inputs."""

    text: str
    output: Any
    inputs_text: str
    output_schema: Mapping[str, Any] | None


Scorer = Callable[[Answer], QualityScore | None]

score_sink: ContextVar[dict[str, float] | None] = ContextVar("squad_score_sink", default=None)
"""Where the observer also puts the online scores of the calls made in this context
(scorer -> value): the service sets it per request so its inference log keeps the scores
the request's answer got (only sampled answers are scored)."""


def _verdict(scorer: str, ok: bool, explanation: str) -> QualityScore:
    return QualityScore(scorer, 1.0 if ok else 0.0, "pass" if ok else "fail", explanation)


def score_schema_valid(answer: Answer) -> QualityScore | None:
    """Skipped (None) when the call had no output schema."""
    if answer.output_schema is None:
        return None
    if answer.output is None:
        return _verdict("schema_valid", False, "answer is not JSON")
    # Only sampled answers get here, so only they import jsonschema.
    validator = json_schema.validator(answer.output_schema)
    error = json_schema.first_error(validator, answer.output)
    if error is None:
        return _verdict("schema_valid", True, "matches the output schema")
    return _verdict("schema_valid", False, f"{json_schema.where(error)}: {error.validator} failed")


def make_refusal_scorer(phrases: Sequence[str]) -> Scorer:
    lowered = tuple(phrase.lower() for phrase in phrases)

    def score_refusal(answer: Answer) -> QualityScore:
        text = answer.text.lower()
        hit = next((phrase for phrase in lowered if phrase in text), None)
        return _verdict("refusal", hit is None, f"refusal phrase '{hit}'" if hit else "answered")

    return score_refusal


def make_length_scorer(min_chars: int, max_chars: int) -> Scorer:
    def score_length(answer: Answer) -> QualityScore:
        size = len(answer.text)
        ok = min_chars <= size <= max_chars
        return _verdict("length", ok, f"{size} chars (bounds {min_chars}..{max_chars})")

    return score_length


def quoted_phrases(text: str) -> list[str]:
    """Phrases between quotes in `text` (3+ characters)."""
    return [next(group for group in match.groups() if group) for match in _QUOTED.finditer(text)]


def _normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


def make_grounding_scorer(field: str) -> Scorer:
    """Every phrase quoted in `output[field]` (or the text) must appear in the inputs."""

    def score_grounding(answer: Answer) -> QualityScore:
        source = answer.text
        if isinstance(answer.output, dict) and isinstance(answer.output.get(field), str):
            source = answer.output[field]
        quotes = quoted_phrases(source)
        if not quotes:
            return _verdict("grounding", True, "quotes nothing")
        haystack = _normalise(answer.inputs_text)
        missing = [quote for quote in quotes if _normalise(quote) not in haystack]
        if not missing:
            return _verdict("grounding", True, f"{len(quotes)} quote(s) found in the inputs")
        value = 1.0 - len(missing) / len(quotes)
        # Never echo the quote itself: it is content, and content is opt-in.
        return QualityScore(
            "grounding", value, "fail", f"{len(missing)} of {len(quotes)} quote(s) not in inputs"
        )

    return score_grounding


def build_scorers(config: QualityConfig) -> list[Scorer]:
    """The online scorers named in the config, in order."""
    available: dict[str, Scorer] = {
        "schema_valid": score_schema_valid,
        "refusal": make_refusal_scorer(config.refusal_phrases),
        "length": make_length_scorer(config.length.min_chars, config.length.max_chars),
        "grounding": make_grounding_scorer(config.grounding_field),
    }
    unknown = [name for name in config.scorers if name not in available]
    if unknown:
        from ..errors import ConfigError  # noqa: PLC0415

        raise ConfigError(
            f"config/observability.yaml: quality.scorers: unknown scorer(s) {', '.join(unknown)}; "
            f"available: {', '.join(available)}"
        )
    return [available[name] for name in config.scorers]


class QualitySampler:
    """Decides which answers are scored: rate 1.0 scores all, 0.0 none."""

    def __init__(self, rate: float, *, seed: int | None = None) -> None:
        self.rate = rate
        self._random = random.Random(seed)  # noqa: S311 - sampling, not security

    def should_sample(self) -> bool:
        if self.rate >= 1.0:
            return True
        if self.rate <= 0.0:
            return False
        return self._random.random() < self.rate


def read_baseline_means(path: Path) -> dict[str, float]:
    """Mean score per scorer from an eval baseline file; {} when absent or unreadable.

    Reads an eval report's first arm (`arms[0].summary.scorers`, the suite's target), and
    also accepts `{"scores": {scorer: {"mean": x} | x}}` (or under `"scorers"` or
    `"summary"`), so the drift check survives small changes to the report's schema.
    """
    try:
        data = json.loads(read_text(path, cap=REPORT_CAP))
    except (OSError, ValueError, RecursionError, ConfigError):
        return {}
    if not isinstance(data, dict):
        return {}
    arms = data.get("arms")
    if isinstance(arms, list) and arms and isinstance(arms[0], dict):
        summary = arms[0].get("summary")
        data = summary if isinstance(summary, dict) else arms[0]
    for key in ("scorers", "scores", "summary"):
        section = data.get(key)
        if isinstance(section, dict):
            means = {name: _mean_of(value) for name, value in section.items()}
            found = {name: mean for name, mean in means.items() if mean is not None}
            if found:
                return found
    return {}


def _mean_of(value: Any) -> float | None:
    if isinstance(value, dict):
        value = value.get("mean", value.get("value"))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


@dataclass(frozen=True)
class DriftStatus:
    """Rolling mean vs baseline for one prompt version and scorer."""

    prompt: str
    version: str
    scorer: str
    window_mean: float
    baseline_mean: float
    samples: int
    drifting: bool

    @property
    def delta(self) -> float:
        return self.window_mean - self.baseline_mean


class DriftMonitor:
    """Keeps a rolling window of online scores per (prompt, version, scorer).

    `observe` returns a `DriftStatus` once the window holds `min_samples` scores and a
    baseline exists for the scorer; a warning is logged when the window's mean first moves
    beyond `margin` from the baseline (and an info line when it comes back), not per call.

    The baselines are read when the monitor is built (the service's start-up): read on
    first use, a baseline report (hundreds of KB of JSON) cost the first sampled answer
    milliseconds, on the request path.
    """

    def __init__(self, config: DriftConfig, baselines_dir: Path) -> None:
        self._config = config
        self._windows: dict[tuple[str, str, str], deque[float]] = {}
        self._baselines = {
            prompt: read_baseline_means(baselines_dir / f"{suite}.json")
            for prompt, suite in config.baselines.items()
        }
        self._drifting: set[tuple[str, str, str]] = set()

    def baseline(self, prompt: str) -> dict[str, float]:
        return self._baselines.get(prompt, {})

    def observe(self, prompt: str, version: str, score: QualityScore) -> DriftStatus | None:
        key = (prompt, version, score.scorer)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = deque(maxlen=self._config.window)
        window.append(score.value)
        baseline = self.baseline(prompt).get(score.scorer)
        if baseline is None or len(window) < self._config.min_samples:
            return None
        mean = sum(window) / len(window)
        drifting = abs(mean - baseline) > self._config.margin
        status = DriftStatus(prompt, version, score.scorer, mean, baseline, len(window), drifting)
        if drifting and key not in self._drifting:
            self._drifting.add(key)
            logger.warning(
                "quality drift: %s v%s scorer %s window mean %.3f vs baseline %.3f "
                "(margin %.3f, %d samples); compare with `squad eval run` and the baseline",
                prompt,
                version,
                score.scorer,
                mean,
                baseline,
                self._config.margin,
                len(window),
                extra={"event": "quality.drift", "drift_delta": round(status.delta, 4)},
            )
        elif not drifting and key in self._drifting:
            self._drifting.discard(key)
            logger.info(
                "quality drift cleared: %s v%s scorer %s back within margin",
                prompt,
                version,
                score.scorer,
                extra={"event": "quality.drift_cleared"},
            )
        return status
