"""`/docs` in a real browser with no network: Debian's headless Chromium, driven by
Playwright, against the real uvicorn serving the fixture squad.

The browser sends the caller's bearer token on every request (as a header-injecting proxy
or extension would for a person), resolves no host name but 127.0.0.1, and every request
it makes is recorded: the page must render the contract's operations from the service
alone, with no script blocked by its Content-Security-Policy.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.library.service.servicekit import AUTH, RunningService

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="the /docs browser test needs Debian's chromium: apt-get install chromium",
)

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # No network: every host name but the service's address fails to resolve.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
TRIAGE_OPERATION = "#operations-features-triageTicket"
"""Swagger UI's block for `POST /v1/triage` (tag `features`, operation id `triageTicket`)."""


@dataclass
class RenderedDocs:
    """What the browser showed and did while opening /docs."""

    triage_block: str
    operation_ids: list[str]
    outside_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def rendered_docs(offline_service: RunningService) -> RenderedDocs:
    from playwright.sync_api import Route, sync_playwright  # noqa: PLC0415 - heavy, test-only

    origin = urlsplit(offline_service.base_url).netloc
    outside: list[str] = []
    console_errors: list[str] = []
    failed: list[str] = []

    def only_the_service(route: Route) -> None:
        if urlsplit(route.request.url).netloc == origin:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with (
        tempfile.TemporaryDirectory(prefix="squad-chromium-") as profile,
        sync_playwright() as playwright,
    ):
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            extra_http_headers=AUTH,
        )
        try:
            context.route("**/*", only_the_service)
            page = context.new_page()
            page.on(
                "console",
                lambda message: (
                    console_errors.append(message.text) if message.type == "error" else None
                ),
            )
            page.on("pageerror", lambda error: console_errors.append(str(error)))
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.goto(f"{offline_service.base_url}/docs", timeout=60_000)
            block = page.wait_for_selector(TRIAGE_OPERATION, timeout=60_000)
            assert block is not None
            rendered = RenderedDocs(
                triage_block=block.inner_text(),
                operation_ids=page.eval_on_selector_all(
                    ".opblock", "blocks => blocks.map(block => block.id)"
                ),
                outside_requests=outside,
                console_errors=console_errors,
                failed_requests=failed,
            )
        finally:
            context.close()
    return rendered


def test_docs_shows_the_triage_operation(rendered_docs: RenderedDocs) -> None:
    assert "POST" in rendered_docs.triage_block
    assert "/v1/triage" in rendered_docs.triage_block


def test_docs_shows_every_operation_of_the_contract(rendered_docs: RenderedDocs) -> None:
    assert set(rendered_docs.operation_ids) >= {
        "operations-features-triageTicket",
        "operations-operations-health",
        "operations-operations-readiness",
        "operations-operations-metrics",
    }


def test_docs_requests_nothing_outside_the_service(rendered_docs: RenderedDocs) -> None:
    assert rendered_docs.outside_requests == []
    assert rendered_docs.failed_requests == []


def test_docs_runs_without_script_errors(rendered_docs: RenderedDocs) -> None:
    assert rendered_docs.console_errors == []
