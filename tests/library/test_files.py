"""The one way the library reads and rewrites a team file: bounded, inside the repo, in place."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from squadkit.errors import ConfigError
from squadkit.files import (
    TEAM_FILE_CAP,
    UnreadableFile,
    atomic_write,
    bounded_lines,
    keep_inside,
    open_lines,
    read_bytes,
    read_text,
)


def test_a_file_over_its_cap_is_refused_naming_file_and_cap(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"x" * (TEAM_FILE_CAP + 1))

    with pytest.raises(ConfigError, match=r"big\.yaml: larger than the 1 MiB cap"):
        read_text(path)


def test_a_file_at_its_cap_is_read(tmp_path: Path) -> None:
    path = tmp_path / "full.yaml"
    path.write_bytes(b"x" * 10)

    assert read_bytes(path, cap=10) == b"x" * 10


def test_a_device_is_refused_before_it_is_read() -> None:
    with pytest.raises(UnreadableFile, match=r"/dev/zero: not a regular file"):
        read_bytes(Path("/dev/zero"))


def test_a_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    pipe = tmp_path / "models.yaml"
    os.mkfifo(pipe)

    with pytest.raises(UnreadableFile, match="not a regular file"):
        read_text(pipe)


def test_a_missing_file_is_the_callers_to_name(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_text(tmp_path / "absent.yaml")


def test_a_link_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (tmp_path / "elsewhere.yaml").write_text("x: 1\n")
    (repo / "labels.yaml").symlink_to(tmp_path / "elsewhere.yaml")

    with pytest.raises(UnreadableFile, match=r"labels\.yaml: leads out of the repository"):
        read_text(repo / "labels.yaml", root=repo)


def test_a_link_within_the_repository_is_followed(tmp_path: Path) -> None:
    (tmp_path / "shared.yaml").write_text("x: 1\n")
    (tmp_path / "labels.yaml").symlink_to("shared.yaml")
    keep_inside(tmp_path / "labels.yaml", tmp_path)

    assert read_text(tmp_path / "labels.yaml", root=tmp_path) == "x: 1\n"


def test_lines_are_read_up_to_the_cap_and_a_longer_one_is_named(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"1234\n" + b"x" * 10 + b"\n")

    with open_lines(path) as handle:
        lines = bounded_lines(handle, path, cap=5)
        assert next(lines) == (1, 0, b"1234\n")  # exactly the cap, newline included
        with pytest.raises(UnreadableFile, match=r"data\.jsonl:2: longer than the 5 bytes"):
            next(lines)


def test_a_rewrite_keeps_the_files_mode(tmp_path: Path) -> None:
    path = tmp_path / "recordings.jsonl"
    path.write_text("old\n")
    path.chmod(0o640)

    atomic_write(path, "new\n")

    assert path.read_text() == "new\n"
    assert path.stat().st_mode & 0o777 == 0o640


def test_a_new_file_gets_the_umask_mode_not_0600(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        atomic_write(tmp_path / "new.json", "{}\n")
    finally:
        os.umask(previous)

    assert (tmp_path / "new.json").stat().st_mode & 0o777 == 0o644


def test_a_rewrite_of_a_symlink_writes_through_to_its_target(tmp_path: Path) -> None:
    target = tmp_path / "shared" / "labels.yaml"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "labels.yaml"
    link.symlink_to(Path("shared") / "labels.yaml")

    atomic_write(link, "new\n")

    assert link.is_symlink()
    assert target.read_text() == "new\n"
