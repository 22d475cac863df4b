"""`setup_observability(settings)`: the one call the CLI and the service make at start-up.

It installs the log handler, builds the telemetry backend from the standard OpenTelemetry
environment variables (see `config.py`), and makes the process's `GenAIObserver`, which the
gateway picks up with `get_observer()`. Without `setup_observability` the observer still
logs, with no traces or metrics.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Protocol, cast

from ..plugins import squad_package
from .config import capture_content, load_observability_config, sdk_disabled
from .logs import configure_logging
from .observer import GenAIObserver
from .quality import DriftMonitor, QualitySampler, build_scorers
from .redaction import Redactor, secret_env_values
from .telemetry import NoTelemetry, Telemetry

if TYPE_CHECKING:
    from ..settings import Settings

_OTEL_MODULE = f"{__package__}.otel"


class _OTelModule(Protocol):
    def from_environment(
        self, *, service_name: str, prometheus: bool = False, set_global: bool = True
    ) -> Telemetry: ...


_observer: GenAIObserver | None = None


def otel_available() -> bool:
    """True when the OpenTelemetry SDK is installed (`squadkit[otlp]`, observability=otlp)."""
    try:
        return importlib.util.find_spec("opentelemetry.sdk") is not None
    except ModuleNotFoundError:
        return False


def service_name() -> str:
    """`service.name` of the telemetry: the squad's package name, kebab-case."""
    return (squad_package() or "squad").replace("_", "-")


def build_telemetry(*, prometheus: bool = False) -> Telemetry:
    """OpenTelemetry when available and not disabled (`OTEL_SDK_DISABLED`), else none."""
    if sdk_disabled() or not otel_available():
        return NoTelemetry()
    module = cast(_OTelModule, importlib.import_module(_OTEL_MODULE))
    return module.from_environment(service_name=service_name(), prometheus=prometheus)


def persistence_redactor(settings: Settings) -> Redactor:
    """What scrubs model answers before they are written to a committed or shared file
    (recordings, baselines, reports): every secret-looking environment value always, and
    the patterns of `config/observability.yaml` (emails by default)."""
    config = load_observability_config(settings.config_dir / "observability.yaml")
    return Redactor(
        config.redaction.patterns,
        replacement=config.redaction.replacement,
        secrets=secret_env_values(),
    )


def setup_observability(settings: Settings, *, prometheus: bool = False) -> GenAIObserver:
    """Configure logs, traces, metrics and online quality scoring for this process.

    `prometheus=True` also puts the metrics on prometheus_client's process-wide registry,
    which the service's `/metrics` serves. Calling it again replaces the previous set-up.
    """
    global _observer  # noqa: PLW0603 - one observer per process, like the OTel providers
    config = load_observability_config(settings.config_dir / "observability.yaml")
    redactor = Redactor(
        config.redaction.patterns,
        replacement=config.redaction.replacement,
        secrets=secret_env_values(),
    )
    fmt = settings.log_format
    if fmt == "auto":
        fmt = "json" if settings.environment == "production" else "console"
    configure_logging(level=settings.log_level, fmt=fmt, redactor=redactor)
    if _observer is not None:
        _observer.telemetry.shutdown()
    _observer = GenAIObserver(
        build_telemetry(prometheus=prometheus),
        capture_content=capture_content(),
        redactor=redactor,
        sampler=QualitySampler(config.quality.sample_rate),
        scorers=build_scorers(config.quality),
        drift=DriftMonitor(config.drift, settings.evals_dir / "baselines"),
    )
    return _observer


def get_observer() -> GenAIObserver:
    """The process's observer: the configured one, or a logs-only one before set-up."""
    global _observer  # noqa: PLW0603
    if _observer is None:
        _observer = GenAIObserver()
    return _observer


def shutdown_observability() -> None:
    """Flush and stop exporters (service shutdown; end of a CLI command)."""
    global _observer  # noqa: PLW0603
    if _observer is not None:
        _observer.telemetry.shutdown()
        _observer = None
