"""`/docs`: Swagger UI from a packaged copy, with the contract embedded in the page.

FastAPI's default `/docs` loads Swagger UI's script and stylesheet from a CDN, so the page
is blank wherever the service has no way out to the internet (most production networks,
every offline laptop). Here the assets come from the `fastapi-offline` package, a
dependency of `squadkit[service]` pinned through the lock like any other (its Swagger UI 5
renders OpenAPI 3.1, which FastAPI writes; `swagger-ui-bundle`'s Swagger UI 4 cannot).

Every path here needs a caller with the `docs` scope (`auth.PATH_SCOPES`), like
`/openapi.json`. A browser does not send a bearer token on the requests a page's script
makes, so the contract is embedded in the page itself (a `type="application/json"` block,
never executed) instead of fetched from `/openapi.json`; the page's only script is a file
served here, so a strict Content-Security-Policy holds: nothing is loaded from elsewhere.
"""

from __future__ import annotations

import json
from functools import cache
from html import escape
from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = ["ASSETS_PATH", "DOCS_PATH", "docs_page", "router"]

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"

_PACKAGED = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.png": "image/png",
}
"""The packaged assets served, by file name (nothing else of the package is reachable)."""

_INIT_JS = """\
window.addEventListener("load", function () {
  var spec = JSON.parse(document.getElementById("openapi").textContent);
  window.ui = SwaggerUIBundle({
    spec: spec,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
  });
});
"""
"""Starts Swagger UI on the embedded contract; `validatorUrl: null` keeps it from calling
the public validator."""

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
"""Swagger UI sets inline styles; every script, image and request stays on this origin."""

router = APIRouter(include_in_schema=False)


def docs_page(document: dict[str, Any], title: str) -> str:
    """The HTML of `/docs` with `document` (the contract) embedded as JSON data.

    `<`, `>` and `&` are escaped as JSON `\\u` sequences, so no description in the contract
    can close the data block and start markup of its own."""
    data = (
        json.dumps(document, ensure_ascii=False, sort_keys=True)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(title)}</title>
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon.png">
</head>
<body>
<div id="swagger-ui"></div>
<script id="openapi" type="application/json">{data}</script>
<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="{ASSETS_PATH}/init.js"></script>
</body>
</html>
"""


@router.get(DOCS_PATH)
async def docs(request: Request) -> HTMLResponse:
    app = request.app
    return HTMLResponse(
        docs_page(app.openapi(), f"{app.title} - API docs"),
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "Cache-Control": "no-store",
        },
    )


@router.get(ASSETS_PATH + "/{name}")
async def asset(name: str) -> Response:
    if name == "init.js":
        body, media_type = _INIT_JS.encode(), "text/javascript; charset=utf-8"
    elif name in _PACKAGED:
        body, media_type = _packaged(name), _PACKAGED[name]
    else:
        raise StarletteHTTPException(404)
    return Response(
        body,
        media_type=media_type,
        headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


@cache
def _packaged(name: str) -> bytes:
    """One asset of the packaged Swagger UI, read once per process."""
    return (files("fastapi_offline") / "static" / name).read_bytes()
