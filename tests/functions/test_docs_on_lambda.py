"""/docs through the Lambda handler (Mangum, API Gateway events): the page and its assets are in
the function, binary or gzipped bodies go back base64-encoded as API Gateway expects."""

from __future__ import annotations

import base64
import copy
import gzip

import pytest

from functions.api.docs import ASSETS_PREFIX, _asset_directory
from tests.functions.lambda_events import load_event, with_header


def get(path: str, api: str) -> dict:
    event = copy.deepcopy(load_event(f"{api}_get_health"))
    if "version" in event:
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
    else:
        event["path"] = event["requestContext"]["path"] = path
    return event


def body_bytes(response: dict) -> bytes:
    body = response.get("body") or ""
    return base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()


@pytest.mark.parametrize("api", ["http_api_v2", "rest_api_v1"])
def test_the_docs_page_and_its_script_come_from_the_function(invoke, api) -> None:
    page = invoke(get("/docs", api))
    assert page.status == 200
    assert f"{ASSETS_PREFIX}/swagger-ui-bundle.js" in page.text

    script = invoke(with_header(get(f"{ASSETS_PREFIX}/swagger-ui-bundle.js", api), "accept-encoding", "gzip, br"))
    assert script.status == 200
    assert script.response["isBase64Encoded"] is True
    assert {k.lower(): v for k, v in script.headers.items()}["content-encoding"] == "gzip"
    expected = (_asset_directory() / "swagger-ui-bundle.js").read_bytes()
    assert gzip.decompress(body_bytes(script.response)) == expected
    assert len(script.response["body"]) < 6 * 1024 * 1024 / 4  # well under Lambda's 6 MB response limit


@pytest.mark.parametrize("api", ["http_api_v2", "rest_api_v1"])
def test_the_favicon_is_binary_and_base64_encoded(invoke, api) -> None:
    icon = invoke(get(f"{ASSETS_PREFIX}/favicon.png", api))
    assert icon.status == 200
    assert icon.response["isBase64Encoded"] is True
    assert body_bytes(icon.response) == (_asset_directory() / "favicon.png").read_bytes()
