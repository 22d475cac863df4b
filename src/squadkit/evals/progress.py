"""`RunProgress`: the progress bar of an eval run, shown only where someone watches it.

A rich bar on an interactive terminal; nothing in CI (`CI` set), when output is piped or
with `progress=False`. rich is imported only when a bar shows.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class RunProgress:
    """A rich progress bar, or nothing (CI, pipes, `progress=False`).

    `on_advance` is called on every step whether or not a bar shows: a `--workers` child
    counts its attempts there, and the parent's bar shows the sum (`show`).
    """

    def __init__(self, enabled: bool | None, on_advance: Callable[[], None] | None = None) -> None:
        if enabled is None:
            enabled = sys.stderr.isatty() and not os.environ.get("CI")
        self.enabled = enabled
        self.on_advance = on_advance
        self._advance: Callable[[int], None] = lambda _: None
        self._show: Callable[[int], None] = lambda _: None

    @contextmanager
    def running(self, description: str, total: int) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        from rich.console import Console  # noqa: PLC0415 - only on a terminal
        from rich.progress import (  # noqa: PLC0415
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TimeElapsedColumn,
        )

        columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task(description, total=total)
            self._advance = lambda steps: bar.advance(task, steps)
            self._show = lambda completed: bar.update(task, completed=completed)
            yield
        self._advance = self._show = lambda _: None

    def advance(self) -> None:
        self._advance(1)
        if self.on_advance is not None:
            self.on_advance()

    def show(self, completed: int) -> None:
        """Set the bar to `completed` steps (the parent of `--workers` children)."""
        self._show(completed)
