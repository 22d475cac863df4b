"""`config/models.yaml`: model aliases -> ordered chains of pinned litellm deployments.

Application code and prompts name an *alias* (`triage`, `judge`); this file decides which
pinned model versions answer it, in which order. A provider outage, a rate limit or a model
retirement is handled by editing this one reviewed file.

Loading never imports litellm, so the prompt registry and `squad models check` can read it
cheaply. Every problem is a `ConfigError` on one line naming the file, line, alias and field.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import ConfigError
from ..files import display_path
from ..yaml_lines import line_in_text, read_team_yaml

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_MODEL = re.compile(r"^[a-z0-9_\-]+/\S+$")


class Deployment(BaseModel):
    """One pinned model at one provider; one link of an alias's chain."""

    # No inf or nan: YAML reads `1e309` as infinity, a timeout that never fires.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    model: str = Field(
        description="litellm model string `provider/exact-version`, e.g. "
        "`openai/gpt-4.1-mini-2025-04-14` or `local/judge-heuristic-v1`."
    )
    api_base: str | None = Field(default=None, description="Override the provider's URL.")
    api_key_env: str | None = Field(
        default=None,
        description="NAME of the environment variable holding the key (never the key).",
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="Default call params (temperature, max_tokens...)."
    )
    timeout_s: float = Field(default=30.0, gt=0, description="Per-attempt timeout.")
    max_retries: int = Field(default=2, ge=0, le=10, description="Retries on this deployment.")
    rpm: int | None = Field(default=None, gt=0, description="Requests per minute allowed.")
    tpm: int | None = Field(default=None, gt=0, description="Tokens per minute allowed.")
    input_cost_per_token: float | None = Field(default=None, ge=0)
    output_cost_per_token: float | None = Field(default=None, ge=0)

    @field_validator("model")
    @classmethod
    def _pinned_provider_model(cls, value: str) -> str:
        if not _MODEL.match(value):
            raise ValueError(
                f"'{value}' is not a litellm model string 'provider/model-version' "
                "(e.g. openai/gpt-4.1-mini-2025-04-14)"
            )
        return value

    @field_validator("api_base")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        url = urlsplit(value)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ValueError(
                f"'{value[:200]}' is not an http(s) URL with a host (e.g. "
                "https://api.example.com/v1); a provider is reached over HTTP"
            )
        return value

    @field_validator("api_key_env")
    @classmethod
    def _env_var_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            # Never echo the value: a pasted key must not end up in a log line.
            raise ValueError(
                "must be the NAME of an environment variable (UPPER_SNAKE_CASE), "
                "not a key; put the key itself in .env"
            )
        return value

    @property
    def provider(self) -> str:
        return self.model.split("/", 1)[0]

    @property
    def is_local(self) -> bool:
        """The offline rule-based provider: no key, no network."""
        return self.provider == "local"

    def cost_usd(self, input_tokens: int, output_tokens: int) -> float:
        """What `config/models.yaml` says a call with these tokens costs (0 without prices):
        the fallback when litellm reports no cost, and the cost of an in-process answer."""
        return input_tokens * (self.input_cost_per_token or 0.0) + output_tokens * (
            self.output_cost_per_token or 0.0
        )

    def missing_key(self) -> bool:
        """True when this deployment names a key variable that is unset or empty."""
        return self.api_key_env is not None and not os.environ.get(self.api_key_env)


class AliasConfig(BaseModel):
    """What code asks for: an alias resolved to deployments tried in order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    deployments: list[Deployment] = Field(min_length=1)


class RoutingConfig(BaseModel):
    """Router-wide behaviour; litellm's Router implements all of it."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    allowed_fails: int = Field(
        default=3, ge=0, description="Failures within a minute before a cooldown."
    )
    cooldown_s: float = Field(default=30.0, ge=0, description="How long a dead deployment rests.")
    deadline_s: float = Field(default=60.0, gt=0, description="Default overall deadline per call.")
    max_in_flight: int | None = Field(
        default=None,
        gt=0,
        description=(
            "Calls this process sends at once; more wait for a slot within their deadline. "
            "Unset: no limit. Set it when bursts are large: litellm starts an attempt's "
            "timeout before its own CPU work, so hundreds of calls queued on one event loop "
            "can all time out before any request is sent."
        ),
    )


class ModelsConfig(BaseModel):
    """The whole of `config/models.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    aliases: dict[str, AliasConfig] = Field(min_length=1)
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("aliases")
    @classmethod
    def _alias_names(cls, value: dict[str, AliasConfig]) -> dict[str, AliasConfig]:
        for name in value:
            if not re.match(r"^[a-z][a-z0-9_\-]*$", name):
                raise ValueError(f"alias '{name}' must be lowercase letters, digits, '-' or '_'")
        return value

    def alias(self, name: str) -> AliasConfig:
        """The alias's config, or a `ConfigError` listing the known aliases."""
        try:
            return self.aliases[name]
        except KeyError:
            where = f"{self.source}: " if self.source else ""
            known = ", ".join(sorted(self.aliases))
            raise ConfigError(
                f"{where}unknown model alias '{name}'; known aliases: {known}"
            ) from None

    def deployment_chain(self, name: str) -> list[str]:
        """The alias's pinned model strings in fallback order (evidence files record this)."""
        return [d.model for d in self.alias(name).deployments]


def load_models_config(path: Path) -> ModelsConfig:
    """Read and validate `config/models.yaml`; every problem is a one-line `ConfigError`."""
    where = display_path(path)
    text, data = read_team_yaml(
        path,
        missing="models file not found; create it or set SQUAD_MODELS_FILE",
        unreadable=lambda error: f"cannot read models file: {error.strerror}",
    )
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping with an 'aliases' key")
    try:
        config = ModelsConfig.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        loc = tuple(first["loc"])
        line = line_in_text(text, loc)
        raise ConfigError(
            f"{where}{f':{line}' if line else ''}: {_describe(loc)}: "
            + first["msg"].removeprefix("Value error, ")
        ) from None
    return config.model_copy(update={"source": path})


def _describe(loc: tuple[Any, ...]) -> str:
    """`('aliases', 'triage', 'deployments', 0, 'timeout_s')` -> alias 'triage' ... field."""
    if len(loc) >= 2 and loc[0] == "aliases":
        rest = loc[2:]
        where = f"alias '{loc[1]}'"
        if len(rest) >= 2 and rest[0] == "deployments":
            where += f" deployment {int(rest[1]) + 1}"
            rest = rest[2:]
        return f"{where} field '{'.'.join(str(p) for p in rest)}'" if rest else where
    return "field '" + ".".join(str(p) for p in loc) + "'"
