"""`kill -9` of `squad eval refresh` at any moment leaves a squad whose gate still passes.

Each round rewords the draft v3 of the prompt, in review (so the refresh has new answers to
record and new evidence to write), starts `squad eval refresh` as a user would, SIGKILLs it at one
moment of its life, then checks what a team meets the morning after: the gate passes in
replay, every recording, baseline and evidence file parses, and nothing was lost. The
rounds share one copy of the fixture squad, so each starts from what the previous kill
left (a second interruption must not cost what the first one kept). A last refresh, not
killed, must succeed and leave no temporary file behind.

Kills are triggered by time or by a file appearing; a kill that lands a little later than
its round's name says tests another instant, which must be safe too.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from squadkit.evals.cache import RecordedResponse
from squadkit.evals.report import read_report
from squadkit.files import atomic_write
from squadkit.prompts.evidence import read_evidence
from squadkit.prompts.hashing import file_hash
from tests.library.squad import COMMAND, copy_data


@dataclass
class Watch:
    """What the triggers look at: the squad, and what it held when the round began."""

    repo: Path
    inodes_before: tuple[int, int] = (0, 0)
    replaced_at: list[float] = field(default_factory=list)

    @property
    def recordings(self) -> Path:
        return self.repo / "evals" / "recordings" / "triage.jsonl"

    @property
    def evidence(self) -> Path:
        return self.repo / "evals" / "evidence" / "triage"

    def begin_round(self) -> None:
        self.inodes_before = (self.recordings.stat().st_ino, _inode(self.evidence / "v3.json"))


def _inode(path: Path) -> int:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return 0


Trigger = Callable[[Watch, float], bool]
"""Whether to kill now, given the squad and the seconds since the refresh started."""


def _after(seconds: float) -> Trigger:
    return lambda _watch, elapsed: elapsed >= seconds


def _recordings_replaced(watch: Watch, elapsed: float) -> bool:
    if watch.recordings.stat().st_ino == watch.inodes_before[0]:
        return False
    watch.replaced_at.append(elapsed)
    return True


def _while_recording(watch: Watch, elapsed: float) -> bool:
    # Answers are collected in memory until one flush: aim a little before the rename an
    # earlier round saw (each round records one arm more, so a little later every time).
    return elapsed >= max(watch.replaced_at[-1] - 0.4, 0.5)


def _recordings_beside(watch: Watch, _elapsed: float) -> bool:
    return any(watch.recordings.parent.glob(".triage.jsonl.*.tmp"))


def _first_gate_report(watch: Watch, _elapsed: float) -> bool:
    return any((watch.repo / "out").glob("*/triage/report.json"))


def _new_evidence(watch: Watch, _elapsed: float) -> bool:
    renamed = _inode(watch.evidence / "v3.json") != watch.inodes_before[1]
    return renamed or any(watch.evidence.glob(".v3.json.*.tmp"))


@dataclass(frozen=True)
class Round:
    name: str
    trigger: Trigger


ROUNDS = [  # in this order: "while-recording" aims by the rename the round before it saw
    Round("while-starting", _after(0.3)),
    Round("while-importing", _after(2.0)),
    Round("just-after-recordings-replaced", _recordings_replaced),
    Round("while-recording", _while_recording),
    Round("while-writing-recordings-beside", _recordings_beside),
    Round("while-gating-the-first-arm", _first_gate_report),
    Round("while-writing-new-evidence", _new_evidence),
]


def _env(repo: Path) -> dict[str, str]:
    return {**os.environ, "SQUAD_ROOT": str(repo), "CI": "1"}


def _reword_the_draft(repo: Path, draft: int) -> Path:
    """v3, unreleased: v2 with new wording each round, so its answers are not recorded yet."""
    prompts = repo / "prompts" / "triage"
    text = (prompts / "v2.yaml").read_text(encoding="utf-8").replace("version: 2", "version: 3")
    text = text.replace("You triage", f"Be concise (draft {draft}). You triage")
    assert f"draft {draft}" in text
    (prompts / "v3.yaml").write_text(text, encoding="utf-8")
    return prompts / "v3.yaml"


def _kill_refresh_when(watch: Watch, trigger: Trigger) -> tuple[float, bool]:
    """Start `squad eval refresh`, SIGKILL it once `trigger` holds; (seconds, killed)."""
    started = time.monotonic()
    refresh = subprocess.Popen(
        [COMMAND, "eval", "refresh", "triage", "--out", "out"],
        cwd=watch.repo,
        env=_env(watch.repo),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while refresh.poll() is None:
            elapsed = time.monotonic() - started
            if trigger(watch, elapsed) or elapsed > 120:
                refresh.send_signal(signal.SIGKILL)
                break
            time.sleep(0.001)
    finally:
        returncode = refresh.wait()
    return time.monotonic() - started, returncode == -signal.SIGKILL


def _assert_every_file_parses(repo: Path) -> None:
    evals = repo / "evals"
    for path in (evals / "recordings").glob("*.jsonl"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            record = json.loads(line)
            assert set(record) == {"key", "request", "response"}, f"{path}:{number}"
            RecordedResponse.model_validate(record["response"])
    for path in (evals / "baselines").glob("*.json"):
        read_report(path)
    for path in (evals / "evidence").glob("*/v*.json"):
        read_evidence(path)


def _gate(repo: Path, out: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, "eval", "gate", "triage", "--out", out, *args],
        cwd=repo,
        env=_env(repo),
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_refresh_killed_at_any_moment_leaves_a_passing_gate(tmp_path: Path) -> None:
    repo = copy_data(tmp_path)
    watch = Watch(repo)
    recordings = watch.recordings
    production_lines = set(recordings.read_text(encoding="utf-8").splitlines())
    timings: list[str] = []

    for draft, round_ in enumerate(ROUNDS, start=1):
        _reword_the_draft(repo, draft)
        watch.begin_round()

        seconds, killed = _kill_refresh_when(watch, round_.trigger)
        left = sorted(path.name for path in (repo / "evals").rglob("*.tmp"))
        timings.append(
            f"{round_.name}: {'killed' if killed else 'finished'} at {seconds:.2f} s"
            + (f", left {', '.join(left)}" if left else "")
        )

        gate = _gate(repo, f"gate-{round_.name}")
        assert gate.returncode == 0, f"after {round_.name}: {gate.stdout}{gate.stderr}"
        _assert_every_file_parses(repo)
        # v1 and v2 answer the same way every time: their recordings never go missing.
        assert production_lines <= set(recordings.read_text(encoding="utf-8").splitlines())

    print("\n".join(timings))  # the rounds' timings, with `pytest -s`
    final_draft = _reword_the_draft(repo, len(ROUNDS) + 1)
    refresh = subprocess.run(
        [COMMAND, "eval", "refresh", "triage", "--out", "final"],
        cwd=repo,
        env=_env(repo),
        capture_output=True,
        text=True,
        check=False,
    )
    assert refresh.returncode == 0, refresh.stdout + refresh.stderr
    _assert_every_file_parses(repo)
    assert read_evidence(watch.evidence / "v3.json").prompt_hash == file_hash(final_draft)
    gate = _gate(repo, "final-gate-v3", "--version", "3")
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert not list((repo / "evals").rglob("*.tmp"))


def test_a_write_removes_what_a_killed_writer_left_beside_the_file(tmp_path: Path) -> None:
    target = tmp_path / "triage.jsonl"
    orphan = tmp_path / ".triage.jsonl.999999999.abc.tmp"  # no such pid can run
    orphan.write_text("half a file", encoding="utf-8")
    mine = tmp_path / f".triage.jsonl.{os.getpid()}.abc.tmp"  # this process: in flight
    mine.write_text("in flight", encoding="utf-8")
    other = tmp_path / ".other.jsonl.999999999.abc.tmp"  # another file's: not this write's
    other.write_text("other", encoding="utf-8")

    atomic_write(target, "whole\n")

    assert target.read_text(encoding="utf-8") == "whole\n"
    assert not orphan.exists()
    assert mine.exists()
    assert other.exists()
