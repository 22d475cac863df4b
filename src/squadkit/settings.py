"""Process-wide settings, read once from the environment (prefix `SQUAD_`) and `.env`.

Only *where things are* and *how the process behaves* live here. What the team tunes
(model chains, prompts, thresholds) lives in files under `config/`, `prompts/` and
`evals/`, so it is reviewed like code.
"""

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values
from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from .errors import ConfigError
from .files import display_path, read_text

DOTENV_FILE = ".env"
"""Read from the working directory by every command that reads settings."""


class _BoundedDotEnv(DotEnvSettingsSource):
    """`.env` read like every team file: within the size cap, and not UTF-8 is one line
    naming it (pydantic-settings would let a `UnicodeDecodeError` escape as a traceback)."""

    def _read_env_file(self, file_path: Path) -> Mapping[str, str | None]:
        try:
            text = read_text(file_path)
        except UnicodeDecodeError as error:
            raise ConfigError(
                f"{display_path(file_path)}: not UTF-8 text (byte {error.start}); save it as "
                "UTF-8 with one NAME=value per line"
            ) from None
        return parse_env_vars(
            dotenv_values(stream=io.StringIO(text)),
            self.case_sensitive,
            self.env_ignore_empty,
            self.env_parse_none_str,
        )


class Settings(BaseSettings):
    """Settings for the CLI and the service."""

    model_config = SettingsConfigDict(
        env_prefix="SQUAD_",
        # `.env` is read by `_BoundedDotEnv` (settings_customise_sources): pydantic-settings'
        # own reader would run first, unbounded, with a traceback for a non-UTF-8 file.
        env_file=None,
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    root: Path = Field(
        default_factory=Path.cwd,
        description="Repository root holding config/, prompts/ and evals/.",
    )
    environment: Literal["development", "test", "production"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "console", "json"] = Field(
        default="auto",
        description="`auto` means JSON lines in production, readable console lines elsewhere.",
    )

    models_file_override: Path | None = Field(
        default=None,
        validation_alias="SQUAD_MODELS_FILE",
        description="Use this models file instead of config/models.yaml (tests, benchmarks).",
    )

    # The service (`squad serve`); unused when the repo was rendered without it.
    service_host: str = Field(
        default="127.0.0.1", max_length=253, description="Interface uvicorn binds."
    )
    service_port: int = Field(default=8000, ge=0, le=65535, description="0 picks a free port.")
    service_max_body_bytes: int = Field(
        default=65_536, gt=0, description="Larger request bodies get 413 before being read."
    )
    service_max_json_depth: int = Field(
        default=32,
        gt=0,
        le=1000,
        description="Deeper nested JSON bodies get 422 before they are parsed.",
    )
    service_max_concurrency_per_client: int = Field(
        default=16, gt=0, description="In-flight requests per client address; more get 429."
    )
    service_deadline_s: float = Field(
        default=30.0,
        gt=0,
        allow_inf_nan=False,
        description="Overall deadline of one feature call; then 504.",
    )
    service_shutdown_timeout_s: float = Field(
        default=30.0,
        ge=0,
        allow_inf_nan=False,
        description="How long shutdown waits for in-flight requests.",
    )
    service_trusted_proxies: str = Field(
        default="",
        max_length=4096,
        description="Comma-separated addresses of the proxies whose X-Forwarded-For names "
        "the client (per-client limits, logs). Empty: the peer address is the client, "
        "whatever headers a request sends.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The usual sources in the usual order, `.env` read within its cap."""
        del dotenv_settings
        dotenv = _BoundedDotEnv(settings_cls, env_file=DOTENV_FILE, env_file_encoding="utf-8")
        return (init_settings, env_settings, dotenv, file_secret_settings)

    @property
    def trusted_proxies(self) -> list[str]:
        return [item.strip() for item in self.service_trusted_proxies.split(",") if item.strip()]

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def models_file(self) -> Path:
        return self.models_file_override or self.config_dir / "models.yaml"

    @property
    def prompts_dir(self) -> Path:
        return self.root / "prompts"

    @property
    def evals_dir(self) -> Path:
        return self.root / "evals"
