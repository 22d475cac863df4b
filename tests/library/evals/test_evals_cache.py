"""The recordings file of a suite: one sorted line per answer, merged and replaced atomically."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from squadkit.errors import ConfigError
from squadkit.evals import EvalConfigError, RecordedResponse, ResponseCache, request_key
from squadkit.evals.cache import scrubbed
from squadkit.evals.report import RepeatResult
from squadkit.gateway import CallResult, Completion
from squadkit.observability.redaction import Redactor


def _key(case: str) -> str:
    return request_key(
        alias="triage",
        chain=["local/triage-rules-v1"],
        messages=[{"role": "user", "content": case}],
        params=None,
        output_schema=None,
    )


def _answer(text: str, latency_s: float = 0.1) -> RecordedResponse:
    return RecordedResponse(text=text, alias="triage", latency_s=latency_s)


def _record(path: Path, cases: list[str]) -> None:
    cache = ResponseCache(path)
    for case in cases:
        cache.put(_key(case), {"case": case}, _answer(case))
    cache.flush()


def test_recordings_are_one_sorted_line_each(tmp_path: Path) -> None:
    path = tmp_path / "suite.jsonl"
    _record(path, ["b", "a", "c"])

    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert lines == sorted(lines)
    assert ResponseCache(path).get(_key("a")) == _answer("a")


def test_nothing_is_written_before_flush(tmp_path: Path) -> None:
    path = tmp_path / "suite.jsonl"
    cache = ResponseCache(path)
    cache.put(_key("a"), {"case": "a"}, _answer("a"))
    assert not path.exists()


def test_concurrent_recorders_keep_each_others_lines(tmp_path: Path) -> None:
    """Shards record in separate processes into the same file: a flush merges under a lock."""
    path = tmp_path / "suite.jsonl"
    shards = [[f"case-{shard}-{n}" for n in range(40)] for shard in range(4)]
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_record, args=(path, cases)) for cases in shards]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0

    cache = ResponseCache(path)
    assert all(cache.get(_key(case)) is not None for cases in shards for case in cases)
    assert len(path.read_text(encoding="utf-8").splitlines()) == 160


def test_fresh_recording_drops_stale_lines_and_keeps_unchanged_ones_byte_for_byte(
    tmp_path: Path,
) -> None:
    path = tmp_path / "suite.jsonl"
    _record(path, ["kept", "stale"])
    kept_line = next(line for line in path.read_text().splitlines() if '"kept"' in line)

    fresh = ResponseCache(path, fresh=True)
    again = fresh.put(_key("kept"), {"case": "kept"}, _answer("kept", latency_s=9.9))
    fresh.flush()

    assert again.latency_s == 0.1  # what a replay will report
    assert path.read_text().splitlines() == [kept_line]


def test_an_interrupted_fresh_recording_leaves_the_old_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "suite.jsonl"
    _record(path, ["a", "b"])
    before = path.read_bytes()

    fresh = ResponseCache(path, fresh=True)
    fresh.put(_key("a"), {"case": "a"}, _answer("changed"))
    del fresh  # the run died before its flush

    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))


class _RunFailed(Exception):
    """A run that died while its cache was open."""


def _record_then_fail(cache: ResponseCache, case: str, text: str) -> None:
    with cache:
        cache.put(_key(case), {"case": case}, _answer(text))
        raise _RunFailed


def test_a_cache_block_that_fails_keeps_what_it_recorded(tmp_path: Path) -> None:
    path = tmp_path / "suite.jsonl"
    _record(path, ["a"])

    with pytest.raises(_RunFailed):
        _record_then_fail(ResponseCache(path), "b", "b")

    assert ResponseCache(path).get(_key("a")) == _answer("a")
    assert ResponseCache(path).get(_key("b")) == _answer("b")


def test_a_fresh_cache_block_that_fails_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "suite.jsonl"
    _record(path, ["a", "b"])
    before = path.read_bytes()

    with pytest.raises(_RunFailed):
        _record_then_fail(ResponseCache(path, fresh=True), "a", "changed")

    assert path.read_bytes() == before


def test_a_fresh_cache_block_that_succeeds_writes_only_what_it_recorded(tmp_path: Path) -> None:
    path = tmp_path / "suite.jsonl"
    _record(path, ["a", "stale"])

    with ResponseCache(path, fresh=True) as fresh:
        fresh.put(_key("a"), {"case": "a"}, _answer("a"))

    assert len(path.read_text(encoding="utf-8").splitlines()) == 1
    assert ResponseCache(path).get(_key("stale")) is None


def test_a_replay_block_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "suite.jsonl"
    _record(path, ["a"])
    before = path.stat().st_mtime_ns

    with ResponseCache(path) as cache:
        assert cache.get(_key("a")) == _answer("a")

    assert path.stat().st_mtime_ns == before


def test_a_redacted_recording_has_every_string_field_scrubbed() -> None:
    email = "dana.lee@customer.example"
    response = RecordedResponse(
        text=f"write to {email}",
        output={"rationale": [f"asked by {email}"], email: 1},
        deployment=f"openai/{email}",
        error=f"refused {email}",
        alias="triage",
        latency_s=0.25,
    )

    scrubbed_response = scrubbed(response, lambda text: text.replace(email, "[REDACTED]"))

    assert email not in scrubbed_response.model_dump_json().replace(f'"{email}":', "")
    assert scrubbed_response.output == {"rationale": ["asked by [REDACTED]"], email: 1}
    assert scrubbed_response.latency_s == 0.25  # numbers are not content
    assert response.text == f"write to {email}"  # a copy: the run's own record is unchanged


def test_a_recording_with_nothing_to_redact_is_kept_as_it_is() -> None:
    response = RecordedResponse(
        text="no address here",
        output={"rationale": ["nothing personal"], "n": (1, "two")},
        deployment="openai/gpt-4o-mini",
        alias="triage",
    )
    redactor = Redactor([r"[\w.]+@[\w.]+"])

    assert scrubbed(response, redactor) is response  # nothing copied
    changed = scrubbed(response.model_copy(update={"text": "from a@b.example"}), redactor)
    assert changed.text == "from [REDACTED]"
    assert changed.output is response.output  # the unchanged parts are shared, not copied


def test_a_line_that_is_not_a_recording_is_named_by_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "suite.jsonl"
    _record(path, ["a"])
    path.write_text(path.read_text() + "not json\n", encoding="utf-8")

    with pytest.raises(EvalConfigError, match=r"suite\.jsonl:2: not a recording"):
        ResponseCache(path).get(_key("a"))


def test_recordings_that_are_not_utf8_are_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "suite.jsonl"
    path.write_bytes(b'{"key":"\xff\xfe"}\n')

    with pytest.raises(EvalConfigError, match="not UTF-8 text"):
        ResponseCache(path).get(_key("a"))


def test_every_call_result_field_reaches_the_recording_and_the_report_repeat() -> None:
    answered = {
        "text": '{"queue": "billing"}',
        "output": {"queue": "billing"},
        "deployment": "openai/backup-2025-01-01",
        "fallback_used": True,
        "latency_s": 0.25,
        "input_tokens": 12,
        "output_tokens": 7,
        "cost_usd": 0.00003,
    }
    assert set(answered) == set(CallResult.model_fields)  # a new field: give it a value here
    completion = Completion(**answered, alias="triage", attempts=2)

    recorded = RecordedResponse.answered(completion)
    repeat = RepeatResult.of(recorded, repeat=0, error=None, scores={})

    assert CallResult.of(recorded) == CallResult.of(repeat) == CallResult(**answered)
    assert (recorded.alias, recorded.attempts) == ("triage", 2)


def test_a_fresh_recording_keeps_the_files_mode(tmp_path: Path) -> None:
    path = tmp_path / "suite.jsonl"
    _record(path, ["old"])
    path.chmod(0o644)

    fresh = ResponseCache(path, fresh=True)  # what `squad eval refresh` writes with
    fresh.put(_key("new"), {"case": "new"}, _answer("new"))
    fresh.flush()

    assert path.stat().st_mode & 0o777 == 0o644
    assert '"new"' in path.read_text()


def test_recordings_linked_out_of_the_repository_are_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    recordings = repo / "evals" / "recordings" / "suite.jsonl"
    recordings.parent.mkdir(parents=True)
    recordings.symlink_to("/dev/zero")

    with pytest.raises(ConfigError, match=r"suite\.jsonl: leads out of the repository"):
        ResponseCache(recordings, root=repo).get(_key("any"))


def test_a_recordings_line_over_the_cap_is_named_by_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "suite.jsonl"
    _record(path, ["one"])
    with path.open("ab") as file:
        file.write(b'{"key": "' + b"a" * (2 * 1024 * 1024) + b'"}\n')

    with pytest.raises(ConfigError, match=r"suite\.jsonl:2: longer than the 1 MiB cap"):
        ResponseCache(path).get(_key("one"))
