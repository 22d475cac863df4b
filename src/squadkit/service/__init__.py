"""The HTTP service: the squad's features behind a versioned contract for the core platform.

`create_app()` builds the FastAPI app; settings, the prompt registry, the gateway and
observability are wired once at start-up. `squad serve` runs it under uvicorn. The contract
the platform codes against is `contracts/openapi.json`; `make contract` regenerates it and
`make contract-check` fails when the app and the file disagree.

A squad's route module imports what it needs from here: `Context`, `PromptLabel`,
`FEATURE_PROBLEMS`, `serve_feature` and `request_id` (see `routing.py`).
"""

from .app import begin_shutdown, create_app, openapi_document
from .routing import FEATURE_PROBLEMS, Context, PromptLabel, request_id, serve_feature

__all__ = [
    "FEATURE_PROBLEMS",
    "Context",
    "PromptLabel",
    "begin_shutdown",
    "create_app",
    "openapi_document",
    "request_id",
    "serve_feature",
]
