"""A render's deploy/: Docker cannot run in CI here, so check syntax and wiring instead."""

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.template.conftest import Rendered

# The metrics squadkit exports, in Prometheus spelling (OpenTelemetry's Prometheus reader;
# tests/library/observability/test_observability_prometheus.py pins the same names), and the
# service's own per-version feedback series (tests/library/service/test_feedback.py).
EXPORTED = {
    "squad_inferences_total",
    "squad_feedback_total",
    "squad_feedback_score",
    "gen_ai_client_operation_duration_seconds",
    "gen_ai_client_token_usage",
    "squad_gen_ai_cost_usd_total",
    "squad_gen_ai_fallbacks_total",
    "squad_gen_ai_provider_errors_total",
    "squad_gen_ai_invalid_outputs_total",
    "squad_gen_ai_quality_score",
    "squad_gen_ai_quality_samples_total",
    "squad_gen_ai_grounding_failures_total",
    "squad_gen_ai_quality_drift",
    "squad_gen_ai_degraded",
}
# The service's own counters (squadkit/service/inference_log.py's collector): alerts may use
# them; the GenAI dashboard is about model calls and does not.
SERVICE_EXPORTED = {
    "squad_inference_log_written_total",
    "squad_inference_log_dropped_total",
    "squad_inference_log_write_errors_total",
    "squad_inference_log_lost_total",
    "squad_experiment_arm_halted",
}
_LABELS = re.compile(r"\bby\s*\([^)]*\)|\{[^}]*\}")
_NAME = re.compile(r"\b(?:gen_ai|squad)_[a-z_]+\b")
_SERIES = re.compile(r"_(?:bucket|sum|count)$")


@pytest.fixture(scope="module")
def deploy(render_once: Callable[..., Rendered]) -> Path:
    return render_once().path / "deploy"


def _yaml(deploy: Path, name: str) -> Any:
    return yaml.safe_load((deploy / name).read_text(encoding="utf-8"))


def _metrics_in(expr: str) -> set[str]:
    """Metric names in a PromQL expression (label names in `by (...)`/`{...}` ignored)."""
    return {_SERIES.sub("", name) for name in _NAME.findall(_LABELS.sub("", expr))}


def test_alert_rules_cover_the_signals_and_are_well_formed(deploy: Path) -> None:
    groups = _yaml(deploy, "prometheus/alerts.yml")["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert {rule["alert"] for rule in rules} >= {
        "GenAIHighErrorRate",
        "GenAIHighFallbackRate",
        "GenAIHighP95Latency",
        "GenAICostPerHourHigh",
        "GenAIQualityDrift",
        "GenAIAliasDegraded",
        "InferenceLogRowsLost",
        "ExperimentArmHalted",
    }
    for rule in rules:
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        assert rule["labels"]["severity"] in {"page", "ticket"}
        assert rule["annotations"]["summary"]
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]
        used = _metrics_in(rule["expr"])
        assert used, rule["alert"]
        known = EXPORTED | SERVICE_EXPORTED
        assert used <= known, f"{rule['alert']}: unknown metrics {used - known}"


def test_prometheus_scrapes_the_service_and_loads_the_rules(deploy: Path) -> None:
    config = _yaml(deploy, "prometheus/prometheus.yml")
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["squad"]["metrics_path"] == "/metrics"


def test_collector_pipelines_use_only_defined_components(deploy: Path) -> None:
    config = _yaml(deploy, "otel-collector.yaml")
    for pipeline in config["service"]["pipelines"].values():
        for kind in ("receivers", "processors", "exporters"):
            for component in pipeline.get(kind, []):
                assert component in config[kind], f"{kind}: {component} is not defined"
    assert "otlp/jaeger" in config["service"]["pipelines"]["traces"]["exporters"]


def test_grafana_dashboard_queries_exported_metrics(deploy: Path) -> None:
    dashboard = json.loads((deploy / "grafana/dashboards/squad-genai.json").read_text())
    assert dashboard["uid"] == "squad-genai"
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert len(exprs) >= 10
    assert set().union(*(_metrics_in(expr) for expr in exprs)) == EXPORTED


def test_compose_starts_the_stack_with_mounted_configs(deploy: Path) -> None:
    compose = _yaml(deploy, "compose.yaml")
    services = compose["services"]
    assert {"otel-collector", "jaeger", "prometheus", "grafana"} <= set(services)
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (deploy / source).exists(), source
    for service in services.values():
        for dependency in service.get("depends_on", []):
            assert dependency in services


def test_the_service_is_published_on_localhost_and_scraped_with_a_token(deploy: Path) -> None:
    compose = _yaml(deploy, "compose.yaml")
    (published,) = compose["services"]["service"]["ports"]
    assert published == "${SQUAD_PUBLISH_ADDRESS:-127.0.0.1}:8000:8000"
    squad = {
        job["job_name"]: job for job in _yaml(deploy, "prometheus/prometheus.yml")["scrape_configs"]
    }["squad"]
    credentials = squad["authorization"]["credentials_file"]
    assert squad["authorization"]["type"] == "Bearer"
    mounts = compose["services"]["prometheus"]["volumes"]
    assert "./prometheus/secrets:/etc/prometheus/secrets:ro" in mounts
    assert credentials.startswith("/etc/prometheus/secrets/")
    ignored = (deploy / "prometheus" / "secrets" / ".gitignore").read_text(encoding="utf-8")
    assert "*" in ignored.splitlines()  # the token never gets committed


def test_every_published_port_is_on_localhost_unless_told_otherwise(deploy: Path) -> None:
    services = _yaml(deploy, "compose.yaml")["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert {"otel-collector", "jaeger", "prometheus", "grafana"} <= published
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("${SQUAD_PUBLISH_ADDRESS:-127.0.0.1}:"), (name, port)
