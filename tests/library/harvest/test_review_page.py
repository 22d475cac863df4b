"""The review page in a real browser: headless Debian Chromium driven by Playwright.

A reviewer opens the static page from disk, accepts one candidate, edits another's answer,
rejects a third, downloads the decisions and applies them with `squad review --apply`.
The page must work with no network at all: every request it makes is counted.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.library.harvest.harvestkit import Log, dataset_lines, review_lines, squad, ticket

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file() and shutil.which("chromium") is None:
        pytest.skip(f"no Chromium at {CHROMIUM}: install it (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page_of_three(repo: Path, sqlite_log: Log, tmp_path: Path) -> tuple[Path, list[str]]:
    ids = [sqlite_log.answer(ticket(s), fallback=True) for s in ("one", "two", "</script>three")]
    assert squad(repo, sqlite_log.store.url, "harvest", "triage").code == 0
    page = tmp_path / "review.html"
    result = squad(repo, sqlite_log.store.url, "review", "triage", "--html", str(page))
    assert result.code == 0, result.err
    order = [line["inference_id"] for line in review_lines(repo)]
    assert sorted(order) == sorted(ids)
    return page, order


def _decide_and_download(browser: Any, page_file: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    """Accept the first, edit and accept the second, reject the third; download."""
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(page_file.as_uri())
    page.locator("#c-0 .accept").click()
    page.locator("#c-1 .expected").fill('{"queue": "bugs", "priority": "low"}')
    page.locator("#c-1 .accept").click()
    page.locator("#c-2 .reject").click()
    assert page.locator("#count").text_content() == "3 of 3 decided"
    with page.expect_download() as download:
        page.locator("#download").click()
    saved = tmp_path / "triage-decisions.json"
    download.value.save_as(saved)
    context.close()
    return saved, requested


def test_decisions_made_on_the_page_reach_the_dataset(
    browser: Any, page_of_three: tuple[Path, list[str]], repo: Path, sqlite_log: Log,
    tmp_path: Path,
) -> None:  # fmt: skip
    page_file, order = page_of_three
    decisions, _ = _decide_and_download(browser, page_file, tmp_path)

    result = squad(repo, sqlite_log.store.url, "review", "triage", "--apply", str(decisions),
                   "--by", "ana")  # fmt: skip

    assert result.code == 0, result.err
    added = dataset_lines(repo)[-2:]
    assert [case["provenance"]["inference_id"] for case in added] == order[:2]
    assert added[0]["expected"] == {"queue": "billing", "priority": "high"}
    assert added[1]["expected"] == {"queue": "bugs", "priority": "low"}
    assert added[1]["provenance"]["decision"] == "edited"
    rejected = (repo / "evals" / "review" / "triage.rejected.jsonl").read_text(encoding="utf-8")
    assert order[2] in rejected
    assert review_lines(repo) == []


def test_the_page_makes_no_request_beyond_its_own_file(
    browser: Any, page_of_three: tuple[Path, list[str]], tmp_path: Path
) -> None:
    page_file, _ = page_of_three

    _, requested = _decide_and_download(browser, page_file, tmp_path)

    assert [url for url in requested if not url.startswith(("file:", "blob:"))] == []


def test_an_expected_answer_that_is_not_json_is_refused_on_the_page(
    browser: Any, page_of_three: tuple[Path, list[str]]
) -> None:
    page_file, _ = page_of_three
    page = browser.new_page()
    page.goto(page_file.as_uri())

    page.locator("#c-0 .expected").fill("{not json")
    page.locator("#c-0 .accept").click()

    assert page.locator("#c-0 .status").text_content() == "expected must be a JSON object"
    assert page.locator("#count").text_content() == "0 of 3 decided"
    page.close()
