"""`squad serve`: run the service under uvicorn (what `make serve` and the container run).

Config, models, prompts and `SQUAD_PROMPT_LABEL__<NAME>` pins are validated before uvicorn
starts, so a bad file or pin is one line and exit 2 rather than a start-up traceback or a
service answering 500. SIGINT/SIGTERM stop accepting connections and
let in-flight requests finish for up to `SQUAD_SERVICE_SHUTDOWN_TIMEOUT_S` seconds.
"""

from __future__ import annotations

import math
from typing import Annotated

import typer


def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind [default: SQUAD_SERVICE_HOST].")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to bind [default: SQUAD_SERVICE_PORT].")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    access_log: Annotated[bool, typer.Option(help="Log one line per request.")] = True,
) -> None:
    """Serve the squad's features over HTTP (FastAPI under uvicorn)."""
    import uvicorn  # noqa: PLC0415 - keep `squad --help` fast

    from ..errors import ConfigError  # noqa: PLC0415
    from ..gateway import load_models_config  # noqa: PLC0415
    from ..prompts import PromptRegistry  # noqa: PLC0415
    from ..settings import Settings  # noqa: PLC0415

    settings = Settings()
    load_models_config(settings.models_file)
    pins = PromptRegistry.load(settings.prompts_dir).pin_problems()
    if pins:  # every request for the prompt would fail: refuse rather than serve 500s
        raise ConfigError(pins[0])
    package = (__package__ or "").rsplit(".", 1)[0]
    uvicorn.run(
        f"{package}.service:create_app",
        factory=True,
        host=host or settings.service_host,
        port=settings.service_port if port is None else port,
        workers=workers,
        access_log=access_log,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=math.ceil(settings.service_shutdown_timeout_s),
        # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default: only configured proxies.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )
