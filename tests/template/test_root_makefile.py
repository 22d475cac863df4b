"""The template repo's own `make test`: both suites run, and it fails if either failed.

A library failure used to stop `make` before the template's tests ran, so one flaky library
test hid every template result. The test runs the real Makefile's `test` recipe with real
pytest on two tiny suites in a temporary directory (lint, types and bootstrap taken as done).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.template.conftest import TEMPLATE_ROOT, tool_env


def make_test(tmp_path: Path, *, library_passes: bool, template_passes: bool) -> int:
    for suite, passes in (("library", library_passes), ("template", template_passes)):
        folder = tmp_path / "tests" / suite
        folder.mkdir(parents=True)
        (folder / f"test_{suite}.py").write_text(
            "from pathlib import Path\n\n\n"
            f"def test_{suite}() -> None:\n"
            f"    Path(__file__).with_suffix('.ran').touch()\n"
            f"    assert {passes}\n"
        )
    bin_dir = Path(sys.executable).parent
    done = ["-o", "lint", "-o", "types", "-o", "bootstrap"]
    command = ["make", "-f", str(TEMPLATE_ROOT / "Makefile"), *done, f"BIN={bin_dir}", "test"]
    result = subprocess.run(
        command, cwd=tmp_path, env=tool_env(), capture_output=True, text=True, check=False
    )
    return result.returncode


def ran(tmp_path: Path, suite: str) -> bool:
    return (tmp_path / "tests" / suite / f"test_{suite}.ran").exists()


def test_library_failure_still_runs_template_tests_and_fails(tmp_path: Path) -> None:
    assert make_test(tmp_path, library_passes=False, template_passes=True) != 0
    assert ran(tmp_path, "library")
    assert ran(tmp_path, "template")


def test_template_failure_fails_make_test(tmp_path: Path) -> None:
    assert make_test(tmp_path, library_passes=True, template_passes=False) != 0
    assert ran(tmp_path, "template")


def test_both_suites_passing_pass_make_test(tmp_path: Path) -> None:
    assert make_test(tmp_path, library_passes=True, template_passes=True) == 0
    assert ran(tmp_path, "library")
    assert ran(tmp_path, "template")
