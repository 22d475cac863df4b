"""A real uvicorn server on 127.0.0.1 in a background thread, for tests of the service.

The app is the one `squad serve` runs (`create_app`), so requests cross a real socket,
uvicorn's HTTP parser, the guard middleware and the lifespan. Needs `squadkit[service]`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from ..service import create_app
from ..settings import Settings


@dataclass
class RunningService:
    """A started server; `base_url` is `http://127.0.0.1:<port>`."""

    server: uvicorn.Server
    thread: threading.Thread
    base_url: str

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@contextmanager
def running(settings: Settings) -> Iterator[RunningService]:
    """Serve `create_app(settings)` on a free port until the block exits."""
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        timeout_graceful_shutdown=10,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 120  # the first start imports litellm
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the service did not start; see the log above")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    service = RunningService(server, thread, f"http://127.0.0.1:{port}")
    try:
        yield service
    finally:
        service.stop()
