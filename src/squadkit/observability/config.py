"""`config/observability.yaml` plus the OpenTelemetry environment variables.

The team tunes sampling, drift margins and redaction in the YAML file (reviewed like code).
Where the data goes is the platform's business and uses the standard OpenTelemetry variable
names, so the same image runs unchanged under any collector:

- `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` /
  `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`: unset means no exporter and no network.
- `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER(_ARG)`,
  `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_METRIC_EXPORT_INTERVAL`: read by the OTel SDK itself.
- `OTEL_SDK_DISABLED=true`: no telemetry at all (logs still work).
- `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`: record prompt and completion
  content (redacted); off by default.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ..errors import ConfigError
from ..files import display_path
from ..yaml_lines import line_in_text, read_team_yaml
from .redaction import DEFAULT_PATTERNS

CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
_TRUE = {"1", "true", "yes", "on"}


class LengthBounds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_chars: int = Field(default=1, ge=0)
    max_chars: int = Field(default=4000, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> LengthBounds:
        if self.min_chars > self.max_chars:
            raise ValueError("min_chars is greater than max_chars: no answer could pass")
        return self


class QualityConfig(BaseModel):
    """Online scoring of a sample of production answers (reference-free scorers only)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sample_rate: float = Field(default=0.1, ge=0.0, le=1.0)
    scorers: tuple[str, ...] = ("schema_valid", "refusal", "length", "grounding")
    length: LengthBounds = Field(default_factory=LengthBounds)
    refusal_phrases: tuple[str, ...] = (
        "i can't help",
        "i cannot help",
        "i'm sorry, but",
        "i am unable to",
        "as an ai",
    )
    grounding_field: str = Field(
        default="rationale",
        description="Output field whose quoted phrases must appear in the inputs.",
    )


class DriftConfig(BaseModel):
    """Rolling window of online scores compared with the eval baseline's mean per scorer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window: int = Field(default=200, ge=1)
    min_samples: int = Field(default=50, ge=1)
    margin: float = Field(default=0.1, ge=0.0, le=1.0)
    baselines: dict[str, str] = Field(
        default_factory=lambda: {"triage": "triage"},
        description="prompt name -> eval suite whose evals/baselines/<suite>.json applies.",
    )


class RedactionConfig(BaseModel):
    """Regexes scrubbed from captured content (only recorded when capture is opted in)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    patterns: tuple[str, ...] = DEFAULT_PATTERNS
    replacement: str = "[REDACTED]"

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"pattern {pattern!r} is not a valid regex: {error}") from None
        return patterns


class ObservabilityConfig(BaseModel):
    """The whole of `config/observability.yaml` (every section optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    quality: QualityConfig = Field(default_factory=QualityConfig)
    drift: DriftConfig = Field(default_factory=DriftConfig)
    redaction: RedactionConfig = Field(default_factory=RedactionConfig)


def load_observability_config(path: Path) -> ObservabilityConfig:
    """Read the file if it exists (defaults otherwise); problems are one-line `ConfigError`s."""
    if not path.exists():
        return ObservabilityConfig()
    where = display_path(path)
    text, data = read_team_yaml(path)
    try:
        return ObservabilityConfig.model_validate(data or {})
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        line = line_in_text(text, tuple(first["loc"]))
        at = f"{where}:{line}" if line else where
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{at}: field '{field}': {message}") from None


def capture_content(environ: Mapping[str, str] | None = None) -> bool:
    """True only when the GenAI content-capture variable explicitly opts in."""
    env = os.environ if environ is None else environ
    return env.get(CAPTURE_CONTENT_ENV, "").strip().lower() in _TRUE


def sdk_disabled(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get("OTEL_SDK_DISABLED", "").strip().lower() in _TRUE


def otlp_endpoints(environ: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    """(traces, metrics) endpoints when OTLP export is configured, else None for each."""
    env = os.environ if environ is None else environ
    base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip() or None
    traces = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip() or base
    metrics = env.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "").strip() or base
    return traces, metrics
