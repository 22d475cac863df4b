"""`setup_observability`: configured from the environment, safe and quiet by default."""

from pathlib import Path

import pytest
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from squadkit.observability import (
    capture_content,
    get_observer,
    otel_available,
    setup_observability,
    shutdown_observability,
)
from squadkit.observability import semconv as sc
from squadkit.settings import Settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
        "OTEL_SDK_DISABLED",
    ):
        monkeypatch.delenv(name, raising=False)


def test_content_capture_is_off_unless_opted_in() -> None:
    assert not capture_content({})
    assert not capture_content({"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "false"})
    assert capture_content({"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"})


def _served_families() -> list[str]:
    """What a scrape of prometheus_client's process-wide registry (the service's) shows."""
    text = generate_latest(REGISTRY).decode()
    return [family.name for family in text_string_to_metric_families(text)]


def test_setup_without_endpoint_exports_nothing(tmp_path: Path) -> None:
    observer = setup_observability(Settings(root=tmp_path), prometheus=True)
    try:
        assert get_observer() is observer
        assert not observer.capture_content
        span = observer.telemetry.start_span("chat x", {})
        assert span.trace_ids() is None  # no exporter: spans are free no-ops
    finally:
        shutdown_observability()


def test_prometheus_setup_serves_the_metrics_on_the_process_registry_until_shutdown(
    tmp_path: Path,
) -> None:
    setup_observability(Settings(root=tmp_path), prometheus=True)
    get_observer().telemetry.record(sc.METRIC_FALLBACKS, 1, {sc.ALIAS: "triage"})
    served = _served_families()
    shutdown_observability()

    assert served.count("squad_gen_ai_fallbacks") == 1
    assert "squad_gen_ai_fallbacks" not in _served_families()


def test_a_second_prometheus_setup_serves_each_metric_once(tmp_path: Path) -> None:
    setup_observability(Settings(root=tmp_path), prometheus=True)
    setup_observability(Settings(root=tmp_path), prometheus=True)
    try:
        get_observer().telemetry.record(sc.METRIC_FALLBACKS, 1, {sc.ALIAS: "triage"})
        assert _served_families().count("squad_gen_ai_fallbacks") == 1
    finally:
        shutdown_observability()


def test_setup_reads_the_observability_config(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "observability.yaml").write_text("quality:\n  sample_rate: 1.0\n")
    observer = setup_observability(Settings(root=tmp_path))
    try:
        assert observer._sampler.rate == 1.0
    finally:
        shutdown_observability()


def test_otel_backend_matches_the_generated_variant() -> None:
    assert otel_available() is True
