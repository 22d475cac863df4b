"""`HttpServerSeries` exports the `http.server.*` points FastAPI's native telemetry exports.

The same requests (answered, refused by the guard, not found, wrong method, slash redirect,
too large, invalid, failed in a route before and after its response started, failed in
the guard) go to the service twice, each in a fresh process with a global meter provider
over in-memory readers (cumulative and delta): once as served (FastAPI's metrics off,
`HttpServerSeries` recording), once as before it (FastAPI's native telemetry recording).
The points must be the same, the durations' sums, extremes and buckets aside (two runs
take different times).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from squadkit.service.http_series import NATIVE_TELEMETRY

pytestmark = pytest.mark.skipif(
    not NATIVE_TELEMETRY, reason="this FastAPI records no http.server series of its own"
)

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = r"""
import json, sys
from opentelemetry import metrics
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider, UpDownCounter
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader

from squadkit.observability.bound import BindingMeterProvider

delta = {kind: AggregationTemporality.DELTA for kind in (Counter, Histogram, UpDownCounter)}
readers = [InMemoryMetricReader(), InMemoryMetricReader(preferred_temporality=delta)]
metrics.set_meter_provider(BindingMeterProvider(MeterProvider(metric_readers=readers)))

from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient

from squadkit.service import app as app_module
from tests.library.service.servicekit import AUTH, TICKET, settings_with

if sys.argv[1] == "native":
    app_module.NATIVE_TELEMETRY = False  # as before HttpServerSeries: FastAPI records
    app_module._NATIVE_METRICS_OFF = {}
app = app_module.create_app(settings_with())


async def boom() -> None:
    raise RuntimeError("boom")


async def broken() -> StreamingResponse:
    async def parts():
        yield b"a"
        raise RuntimeError("mid-stream")

    return StreamingResponse(parts())


app.add_api_route("/v1/boom", boom, methods=["POST"])
authenticate = app.state.authenticator.authenticate


def flawed(authorization, path):  # an error in the guard itself, before any response
    if path == "/v1/guard-error":
        raise RuntimeError("a bug in the guard")
    return authenticate(authorization, path)


app.state.authenticator.authenticate = flawed
app.add_api_route("/v1/broken", broken, methods=["GET"])

REQUESTS = [
    ("POST", "/v1/triage", AUTH, TICKET),
    ("POST", "/v1/triage", {}, TICKET),
    ("POST", "/v1/triage", {"Authorization": "Bearer sqd_wrong"}, TICKET),
    ("GET", "/v1/triage", AUTH, None),
    ("POST", "/v1/triage/", AUTH, TICKET),
    ("POST", "/v1/nowhere", AUTH, TICKET),
    ("POST", "/v1/triage", AUTH, {"subject": 3}),
    ("POST", "/v1/triage", AUTH, {"subject": "x" * 300_000}),
    ("POST", "/v1/triage", {**AUTH, "X-Episode-Id": "not an id"}, TICKET),
    ("POST", "/v1/boom", AUTH, {}),
    ("POST", "/v1/guard-error", AUTH, {}),
    ("GET", "/v1/broken", AUTH, None),
    ("GET", "/healthz", {}, None),
    ("GET", "/metrics", AUTH, None),
]


def points(reader):
    found = []
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if not metric.name.startswith("http.server."):
                    continue
                for point in metric.data.data_points:
                    kept = json.loads(point.to_json())
                    for timed in ("sum", "min", "max", "bucket_counts", "start_time_unix_nano",
                                  "time_unix_nano", "exemplars"):
                        kept.pop(timed, None)
                    if metric.name == "http.server.active_requests":
                        kept["value"] = point.value
                    found.append([scope.scope.name, scope.scope.version,
                                  scope.scope.schema_url, metric.name, metric.unit,
                                  metric.description, kept])
    return sorted(found, key=json.dumps)


collected, statuses = [], []
with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
    for _ in range(2):
        for method, path, headers, body in REQUESTS:
            statuses.append(client.request(method, path, headers=headers, json=body).status_code)
        collected += [points(reader) for reader in readers]
print(json.dumps({"statuses": statuses, "points": collected}))
"""


def _exported(variant: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, variant],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_service_exports_the_http_series_fastapi_exports() -> None:
    ours = _exported("ours")
    native = _exported("native")

    assert ours["statuses"] == native["statuses"]
    assert set(ours["statuses"]) == {200, 307, 401, 404, 405, 413, 422, 500}
    assert ours["points"] == native["points"]
    names = {point[3] for points in ours["points"] for point in points}
    assert names == {"http.server.request.duration", "http.server.active_requests"}
    routes = {
        point[-1]["attributes"].get("http.route") for points in ours["points"] for point in points
    }
    assert {"/v1/triage", "/v1/boom", "/v1/broken", None} <= routes
    errors = {
        point[-1]["attributes"].get("error.type") for points in ours["points"] for point in points
    }
    assert {"500", "RuntimeError"} <= errors
