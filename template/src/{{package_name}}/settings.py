"""Process-wide settings, read once from the environment (prefix `SQUAD_`) and `.env`.

Only *where things are* and *how the process behaves* live here. What the team tunes
(model chains, prompts, thresholds) lives in files under `config/`, `prompts/` and
`evals/`, so it is reviewed like code.
"""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Settings for the CLI and the service."""

    model_config = SettingsConfigDict(
        env_prefix="SQUAD_",
        env_file=".env",
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
