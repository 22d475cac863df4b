"""The HTTP service: the squad's features behind a versioned contract for the core platform.

`create_app()` builds the FastAPI app; settings, the prompt registry, the gateway and
observability are wired once at start-up. `squad serve` runs it under uvicorn. The contract
the platform codes against is `contracts/openapi.json`; `make contract` regenerates it and
`make contract-check` fails when the app and the file disagree.
"""

from .app import API_VERSION, create_app, openapi_document

__all__ = ["API_VERSION", "create_app", "openapi_document"]
