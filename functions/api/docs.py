"""`/docs` (Swagger UI) and `/redoc`, with their assets served by the service itself.

FastAPI's own pages load their scripts from a CDN, so they are blank without internet access. The
assets here come from the pinned `fastapi-offline` package (in requirements.txt, so it ships in the
Lambda artifact too); they are read once per process and sent gzip-compressed to clients that accept
it (about a third of the size, which matters behind API Gateway and Lambda).
"""

from __future__ import annotations

import gzip
import importlib.util
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response

ASSETS_PREFIX = "/docs/assets"
ASSET_PACKAGE = "fastapi_offline"
ASSET_MEDIA_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
# The files change only with the pinned package, i.e. with a deployment.
ASSET_CACHE_CONTROL = "public, max-age=86400"
DOCS_IMAGE_POLICY = "img-src 'self' data:"


def _asset_directory() -> Path:
    # find_spec, not import: the package's own module pulls in FastAPI's StaticFiles, unneeded here.
    spec = importlib.util.find_spec(ASSET_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {ASSET_PACKAGE} package (the docs pages' assets) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


@lru_cache(maxsize=2 * len(ASSET_MEDIA_TYPES))
def _asset(name: str, *, compressed: bool) -> bytes:
    content = (_asset_directory() / name).read_bytes()
    return gzip.compress(content, compresslevel=6, mtime=0) if compressed else content


def install_docs(app: FastAPI) -> None:
    """Serve the docs pages; the app must be created with `docs_url=None, redoc_url=None`."""
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PREFIX}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_PREFIX}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_PREFIX}/favicon.png",
            with_google_fonts=False,
        )
        # ReDoc's footer shows a logo from Redocly's CDN (it hides itself when that fails): the
        # policy keeps the page from contacting anyone but the service.
        page.headers["Content-Security-Policy"] = DOCS_IMAGE_POLICY
        return page

    @app.get(ASSETS_PREFIX + "/{name}", include_in_schema=False)
    def docs_asset(name: str, request: Request) -> Response:
        media_type = ASSET_MEDIA_TYPES.get(name)
        if media_type is None:
            raise HTTPException(404)  # the app's handler answers it as a problem, like any 404
        headers = {"Cache-Control": ASSET_CACHE_CONTROL, "Vary": "Accept-Encoding"}
        compress = media_type.startswith("text/") and "gzip" in request.headers.get("accept-encoding", "")
        if compress:
            headers["Content-Encoding"] = "gzip"
        return Response(_asset(name, compressed=compress), media_type=media_type, headers=headers)
