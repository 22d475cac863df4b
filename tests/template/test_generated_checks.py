"""Rendered repos pass their own definition of done: `make check`.

`make check` is what the generated CI runs (lint, format check, mypy --strict, pytest,
prompt lock, eval gate), so running it here proves a fresh render is green with the
repo's own tools, not ours.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.template.conftest import Rendered, run

INSTALLED_VARIANTS = {
    "defaults": {},
    "openai-no-service-no-otel": {
        # The longest package name copier.yml allows: every import line must still fit.
        "package_name": "acme_customer_support_triage_sqd",
        "default_provider": "openai",
        "include_service": False,
        "observability": "none",
        "license": "MIT",
    },
}


@pytest.mark.slow
@pytest.mark.parametrize("answers", INSTALLED_VARIANTS.values(), ids=INSTALLED_VARIANTS.keys())
def test_fresh_render_passes_make_check(
    answers: dict[str, object],
    render_once: Callable[..., Rendered],
    install: Callable[[Rendered], dict[str, str]],
) -> None:
    rendered = render_once(**answers)
    env = install(rendered)
    run(["make", "check"], cwd=rendered.path, env=env)


@pytest.mark.slow
def test_make_check_fails_when_one_of_its_steps_fails(
    render_once: Callable[..., Rendered],
    install: Callable[[Rendered], dict[str, str]],
) -> None:
    """`make check` runs its steps two at a time; a failing one must still fail the whole."""
    rendered = render_once()
    env = install(rendered)
    unused_import = rendered.path / "src" / rendered.package / "unused_import.py"
    unused_import.write_text("import os\n", encoding="utf-8")
    try:
        result = run(["make", "check"], cwd=rendered.path, env=env, check=False)
    finally:
        unused_import.unlink()
    assert result.returncode != 0
    assert "unused_import.py" in result.stdout
    assert re.search(r"\[Makefile:\d+: lint\] Error", result.stderr), result.stderr
