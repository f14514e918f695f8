"""/docs and /redoc load nothing from outside the service: their assets come from the pinned
package (requirements.txt), served by the app itself."""

from __future__ import annotations

import gzip
import re

import pytest

from functions.api.docs import ASSET_MEDIA_TYPES, ASSETS_PREFIX, _asset_directory

PAGES = {"/docs": ["swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"], "/redoc": ["redoc.standalone.js"]}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_docs_pages_reference_only_the_services_own_assets(client, page) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\s*:\s*["']([^"']+)["']""", response.text)
    referenced = {a or b for a, b in urls}
    assert referenced, response.text
    assert all(url.startswith("/") and not url.startswith("//") for url in referenced), referenced
    assert {f"{ASSETS_PREFIX}/{name}" for name in PAGES[page]} <= referenced
    assert "/openapi.json" in referenced or "/openapi.json" in response.text
    assert "fonts.googleapis" not in response.text


@pytest.mark.parametrize("name", sorted(ASSET_MEDIA_TYPES))
def test_each_asset_is_served_from_the_pinned_package(client, name) -> None:
    expected = (_asset_directory() / name).read_bytes()
    plain = client.get(f"{ASSETS_PREFIX}/{name}", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["content-type"] == ASSET_MEDIA_TYPES[name]
    assert plain.content == expected
    assert plain.headers["cache-control"] == "public, max-age=86400"
    assert "content-encoding" not in plain.headers


@pytest.mark.parametrize("name", ["swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"])
def test_text_assets_are_gzipped_for_clients_that_accept_it(client, name) -> None:
    expected = (_asset_directory() / name).read_bytes()
    # httpx would decode transparently; read the bytes on the wire.
    with client.stream("GET", f"{ASSETS_PREFIX}/{name}", headers={"Accept-Encoding": "gzip"}) as response:
        raw = b"".join(response.iter_raw())
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert len(raw) < len(expected) / 2
    assert gzip.decompress(raw) == expected


@pytest.mark.parametrize("name", ["index.html", "..%2F..%2Fdocs.py", "core.py", "swagger-ui-bundle.js.map"])
def test_anything_else_under_the_assets_path_is_a_404_problem(client, name) -> None:
    response = client.get(f"{ASSETS_PREFIX}/{name}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_the_docs_routes_are_not_in_the_openapi_document(client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith(("/docs", "/redoc"))]


def test_redoc_may_load_images_only_from_the_service(client) -> None:
    """ReDoc's footer logo points at Redocly's CDN; the page's policy keeps the browser from asking."""
    response = client.get("/redoc")
    assert response.headers["content-security-policy"] == "img-src 'self' data:"
