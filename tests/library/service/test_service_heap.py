"""The service leaves the heap its start-up built out of the garbage collector's full
collections while it runs (`app._freeze_start_up_heap`), and gives it back at shutdown."""

from __future__ import annotations

import asyncio
import gc

from squadkit.service import create_app
from tests.library.service.servicekit import settings_with


def test_start_up_objects_are_frozen_while_the_app_runs_and_unfrozen_after() -> None:
    app = create_app(settings_with())

    async def lifecycle() -> tuple[int, int]:
        async with app.router.lifespan_context(app):
            running = gc.get_freeze_count()
        return running, gc.get_freeze_count()

    running, stopped = asyncio.run(lifecycle())

    assert running > 10_000  # litellm's modules, the registry, the gateway...
    assert stopped == 0
