"""From production to the dataset, end to end: the real service answers and logs (content
captured), a caller says the answer was wrong, `squad harvest` offers it, a reviewer accepts
it with the right answer, and the suite runs the new case and checks its judge against
the reviewer's verdict."""

from __future__ import annotations

from pathlib import Path

import httpx

from squadkit.inferences import InferenceStore, find_inference
from squadkit.settings import Settings
from tests.library.harvest.harvestkit import dataset_lines, review_lines, squad
from tests.library.service.servicekit import AUTH, TICKET, running
from tests.library.waiting import eventually

WRONG = {**TICKET, "subject": "Export to CSV drops the last row", "body": "Every export misses "
         "the final line of the report since Monday. Please fix."}  # fmt: skip


RIGHT = '{"queue": "bugs", "priority": "high"}'


def _served_and_judged_wrong(repo: Path, url: str) -> str:
    """Ask the service to triage `WRONG`, then say the answer was wrong; its inference id."""
    settings = Settings(
        root=repo, environment="test", inference_log_url=url, inference_log_capture_content=True
    )
    with running(settings) as service, httpx.Client(base_url=service.base_url, timeout=60) as http:
        answered = http.post("/v1/triage", json=WRONG, headers=AUTH, timeout=30)
        assert answered.status_code == 200, answered.text
        inference_id = answered.headers["X-Inference-Id"]
        store = InferenceStore(url)
        eventually(lambda: find_inference(store, inference_id) is not None, "the inference row")
        store.dispose()
        body = {"inference_id": inference_id, "metric": "correct", "value": False}
        judged = http.post("/v1/feedback", json=body, headers=AUTH, timeout=30)
        assert judged.status_code == 201, judged.text
    return inference_id


def test_an_answer_judged_wrong_becomes_a_case_the_suite_runs(repo: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'production.sqlite3'}"
    inference_id = _served_and_judged_wrong(repo, url)

    harvested = squad(repo, url, "harvest", "triage")
    accepted = squad(repo, url, "review", "triage", "--edit", inference_id,
                     "--expected", RIGHT, "--by", "ana")  # fmt: skip
    ran = squad(repo, url, "eval", "run", "triage", "--mode", "live", "--out", str(tmp_path / "r"))
    agreement = squad(repo, url, "eval", "judge-agreement", "triage", "--mode", "live")

    assert harvested.code == 0, harvested.err
    assert "1 negative_feedback" in harvested.out
    assert accepted.code == 0, accepted.err
    case = dataset_lines(repo)[-1]
    assert case["provenance"]["inference_id"] == inference_id
    assert case["expected"] == {"queue": "bugs", "priority": "high"}
    assert case["human"] == {"judge": False}  # the answer the caller complained about
    assert case["inputs"]["subject"] == WRONG["subject"]
    assert review_lines(repo) == []
    assert ran.code == 0, ran.err
    report = (tmp_path / "r" / "triage" / "report.json").read_text(encoding="utf-8")
    assert f'"{case["id"]}"' in report
    assert agreement.code == 0, agreement.err
    assert "n 1" in agreement.out  # the judge is checked against the reviewer's verdict
