"""The template users' docs build without warnings (broken links, missing pages)."""

from __future__ import annotations

from pathlib import Path

from tests.template.conftest import TEMPLATE_ROOT, TOOLS_BIN, run, tool_env


def test_mkdocs_build_strict_passes(tmp_path: Path) -> None:
    run(
        [str(TOOLS_BIN / "mkdocs"), "build", "--strict", "--quiet", "--site-dir", str(tmp_path)],
        cwd=TEMPLATE_ROOT,
        env=tool_env(NO_MKDOCS_2_WARNING="1"),
    )
    assert (tmp_path / "index.html").is_file()
    assert (tmp_path / "updating" / "index.html").is_file()
