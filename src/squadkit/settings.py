"""Process-wide settings, read once from the environment (prefix `SQUAD_`) and `.env`.

`.env` (in the working directory) is for more than `SQUAD_*`: constructing `Settings`
also exports its other variables, the provider keys named by `api_key_env` above all, to
the process environment, where litellm and the gateway read them. So every command that
reads settings (`squad eval run --mode record`, `squad serve`, `squad models check`...)
sees a key kept in `.env`. A variable already in the environment wins over `.env`.

Only *where things are* and *how the process behaves* live here. What the team tunes
(model chains, prompts, thresholds) lives in files under `config/`, `prompts/` and
`evals/`, so it is reviewed like code.
"""

import io
import os
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values
from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from .errors import ConfigError
from .files import display_path, read_text

ENV_FILE = ".env"
"""Read from the working directory by every command that reads settings."""


def export_env_file(path: Path = Path(ENV_FILE)) -> None:
    """Put each variable of the dotenv file `path` into `os.environ` unless already set.

    Read like every team file (within its size cap, a link out of the repo refused); a
    missing file is fine; one that is not UTF-8 is a `ConfigError` naming it (python-dotenv
    would let a `UnicodeDecodeError` escape as a traceback).
    """
    if not path.is_file():
        return
    try:
        text = read_text(path, root=Path.cwd())  # the repository the command runs in
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{display_path(path)}: not UTF-8 text (byte {error.start}); save it as "
            "UTF-8 with one NAME=value per line"
        ) from None
    for name, value in dotenv_values(stream=io.StringIO(text)).items():
        if value is not None and name not in os.environ:
            os.environ[name] = value


class Settings(BaseSettings):
    """Settings for the CLI and the service (and, first, `.env` exported: see above)."""

    model_config = SettingsConfigDict(
        env_prefix="SQUAD_",
        # `.env` is exported by `export_env_file` (bounded, one-line errors) before the
        # environment is read: pydantic-settings' own reader would be unbounded.
        env_file=None,
        extra="ignore",
        frozen=True,
    )

    def __init__(self, **values: Any) -> None:
        export_env_file()
        super().__init__(**values)

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

    callers_file_override: Path | None = Field(
        default=None,
        validation_alias="SQUAD_CALLERS_FILE",
        description="Use this callers file instead of config/callers.yaml (tests).",
    )

    # The service (`squad serve`); unused when the repo was rendered without it.
    service_host: str = Field(
        default="127.0.0.1", max_length=253, description="Interface uvicorn binds."
    )
    service_port: int = Field(default=8000, ge=0, le=65535, description="0 picks a free port.")
    service_max_body_bytes: int = Field(
        default=262_144,
        gt=0,
        description="Larger request bodies get 413 before being read. The default holds any "
        "request the contract allows however it is encoded: a 20,000-character ticket body "
        "of \\u-escaped emoji is 240,000 bytes.",
    )
    service_max_json_depth: int = Field(
        default=32,
        gt=0,
        le=1000,
        description="Deeper nested JSON bodies get 422 before they are parsed.",
    )
    service_max_concurrency_per_client: int = Field(
        default=16, gt=0, description="In-flight requests per caller (bearer token); more get 429."
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
        "the client (access logs; the concurrency limit keys on the caller). Empty: the "
        "peer address is the client, whatever headers a request sends.",
    )

    service_ready_when_degraded: bool = Field(
        default=False,
        description="/readyz answers 200 (status degraded) rather than 503 while an alias's "
        "first deployment is skipped (no key) or cooled down.",
    )
    service_allow_offline_only: bool = Field(
        default=False,
        description="Let `squad serve` start although a chain with provider deployments can "
        "only be answered by its offline last resort (every key missing); logs a warning.",
    )

    # The inference log (service only): every answer kept as evidence (issue 25).
    inference_log_enabled: bool = Field(
        default=True, description="Log every feature answer (off: no id, no row, no header)."
    )
    inference_log_url: str = Field(
        default="",
        max_length=2048,
        description="SQLAlchemy URL of the store; empty: the SQLite file "
        ".squad/inference-log.sqlite3 under the repo. Several replicas share one PostgreSQL "
        "database: postgresql+psycopg://USER:PASSWORD@HOST/DB.",
    )
    inference_log_capture_content: bool = Field(
        default=False,
        description="Store the inputs and the output (redacted as traces are); otherwise "
        "only their SHA-256 and length.",
    )
    inference_log_retention_days: float = Field(
        default=30.0,
        gt=0,
        allow_inf_nan=False,
        description="Rows older than this are deleted at start-up and by "
        "`squad inference-log prune`.",
    )
    inference_log_flush_interval_s: float = Field(
        default=0.2,
        ge=0,
        le=3600,
        allow_inf_nan=False,
        description="How long the writer gathers rows into one transaction.",
    )
    inference_log_queue_size: int = Field(
        default=10_000,
        gt=0,
        description="Rows waiting to be written; when full, rows are dropped and counted.",
    )
    experiments_guardrail_check_s: float = Field(
        default=30.0,
        gt=0,
        le=86400,
        allow_inf_nan=False,
        description="How often the service re-checks running experiments' guardrails in the "
        "inference log (an arm that crossed one is assigned no more).",
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
        """Arguments, then the environment: `.env` is already in it (`export_env_file`)."""
        del dotenv_settings
        return (init_settings, env_settings, file_secret_settings)

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
    def callers_file(self) -> Path:
        return self.callers_file_override or self.config_dir / "callers.yaml"

    @property
    def prompts_dir(self) -> Path:
        return self.root / "prompts"

    @property
    def evals_dir(self) -> Path:
        return self.root / "evals"
