"""`squad serve`: run the service under uvicorn (what `make serve` and the container run).

Config, models, prompts, callers and `SQUAD_PROMPT_LABEL__<NAME>` pins are validated
before uvicorn starts, and a served model chain that only its offline last resort could
answer (every provider key missing) is refused unless SQUAD_SERVICE_ALLOW_OFFLINE_ONLY=true,
so a bad file or pin is one line and exit 2 rather than a start-up traceback or a
service answering 500. On SIGINT/SIGTERM, `/readyz` answers 503 at once,
the server stops accepting connections within 0.1 s, and in-flight requests finish for up to
`SQUAD_SERVICE_SHUTDOWN_TIMEOUT_S` seconds.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from types import FrameType

    import uvicorn


def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind [default: SQUAD_SERVICE_HOST].")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="Port to bind [default: SQUAD_SERVICE_PORT]."),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    access_log: Annotated[bool, typer.Option(help="Log one line per request.")] = True,
) -> None:
    """Serve the squad's features over HTTP (FastAPI under uvicorn)."""
    import uvicorn  # noqa: PLC0415 - keep `squad --help` fast

    from ..errors import ConfigError  # noqa: PLC0415
    from ..gateway import load_models_config  # noqa: PLC0415
    from ..inferences import load_feedback_config  # noqa: PLC0415
    from ..plugins import squad_features  # noqa: PLC0415
    from ..prompts import PromptRegistry  # noqa: PLC0415
    from ..service.callers import SERVICE_SCOPES, check_scopes, load_callers  # noqa: PLC0415
    from ..service.context import refuse_offline_only  # noqa: PLC0415
    from ..settings import Settings  # noqa: PLC0415

    settings = Settings()
    bind = _bind_host(host, settings.service_host)
    models = load_models_config(settings.models_file)
    registry = PromptRegistry.load(settings.prompts_dir)
    pins = registry.pin_problems()
    if pins:  # every request for the prompt would fail: refuse rather than serve 500s
        raise ConfigError(pins[0])
    # Every answer would be the offline fallback's, flagged but 200: refuse unless allowed.
    refuse_offline_only(settings, models, registry)
    if settings.callers_file_override is not None and not settings.callers_file.exists():
        raise ConfigError(
            f"SQUAD_CALLERS_FILE={settings.callers_file}: no such file; every call would get "
            "401: fix the path or unset it (config/callers.yaml)"
        )
    # A broken callers file would lock every caller out; a misspelt scope, one caller.
    check_scopes(
        settings.callers_file,
        load_callers(settings.callers_file),
        [*SERVICE_SCOPES, *squad_features()],
    )
    # A broken feedback file would stop the app inside uvicorn's worker, with a traceback.
    load_feedback_config(settings.config_dir / "feedback.yaml")
    package = (__package__ or "").rsplit(".", 1)[0]
    options: dict[str, Any] = {
        "factory": True,
        "host": bind,
        "port": settings.service_port if port is None else port,
        "workers": workers,
        "access_log": access_log,
        "log_level": settings.log_level.lower(),
        "timeout_graceful_shutdown": math.ceil(settings.service_shutdown_timeout_s),
        # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default: only configured proxies.
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": settings.trusted_proxies or None,
    }
    if workers > 1:  # uvicorn's supervisor starts plain servers: /readyz learns of SIGTERM late
        uvicorn.run(f"{package}.service:create_app", **options)
        return
    config = uvicorn.Config(f"{package}.service:create_app", **options)
    server = _shutdown_aware_server(config)
    server.run()
    if not server.started:
        raise SystemExit(3)  # uvicorn's STARTUP_FAILURE, as `uvicorn.run` exits


def _bind_host(option: str | None, setting: str) -> str:
    """The interface to bind: an IP address, or a name this machine resolves.

    Checked before anything starts, so `--host 999.1.1.1` is one line naming the option (or
    SQUAD_SERVICE_HOST) instead of uvicorn's bind error after the app was built.
    """
    import ipaddress  # noqa: PLC0415
    import socket  # noqa: PLC0415

    from ..errors import ConfigError  # noqa: PLC0415

    host = option or setting
    where = f"--host {host!r}" if option else f"SQUAD_SERVICE_HOST={host!r}"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return host
    if not host or len(host) > 253 or all(part.isdigit() for part in host.split(".")):
        raise ConfigError(f"{where}: not an IP address; give one such as 127.0.0.1 or 0.0.0.0")
    try:
        socket.getaddrinfo(host, None)
    except (OSError, UnicodeError) as error:
        raise ConfigError(
            f"{where}: not an IP address or a name this machine resolves ({error}); give an "
            "address such as 127.0.0.1 or 0.0.0.0"
        ) from None
    return host


def _shutdown_aware_server(config: uvicorn.Config) -> uvicorn.Server:
    """A uvicorn server that tells the app the moment SIGTERM/SIGINT arrives.

    uvicorn notices the signal on its next tick (up to 0.1 s later), then stops listening
    and drains. Between the two, new connections are still served; `/readyz` answers 503
    from the signal on, so a load balancer probing it never sees "ready" from a process
    that is going away.
    """
    import uvicorn  # noqa: PLC0415

    from ..service import begin_shutdown  # noqa: PLC0415

    class ShutdownAwareServer(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            begin_shutdown()
            super().handle_exit(sig, frame)

    return ShutdownAwareServer(config)
