"""The service in a real headless chromium (Debian's): /docs offline, and CORS from a front end's
origin, against a server as `make run` serves it (APP_ENV=local, default settings)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx
import pytest

from tests.clients.cdp import Page
from tests.clients.conftest import LiveServer, free_port, start_server, stop_server
from tests.support.tokens import make_token


def test_docs_load_offline_and_run_an_authorized_request(page: Page, live_server: LiveServer) -> None:
    user = f"docs-{uuid.uuid4().hex[:10]}"
    token = make_token(user, lifetime=600)
    headers = {"Authorization": f"Bearer {token}"}
    created = httpx.post(f"{live_server.base}/api/{user}/tasks", json={"title": "seen in the docs"}, headers=headers)
    assert created.status_code == 201

    page.navigate(f"{live_server.base}/docs")
    paths = page.wait_for(
        "(() => { const p = [...document.querySelectorAll('.opblock-summary-path')].map(e => e.dataset.path);"
        " return p.length >= 8 ? p : null; })()",
        what="Swagger UI to list the operations",
    )
    assert {"/api/{user_id}/tasks", "/api/{user_id}/tasks/{task_id}", "/health"} <= set(paths)
    # Every request the page made went to the service itself: nothing from a CDN.
    assert page.contacted() == {urlsplit(live_server.base).netloc}

    page.click(".btn.authorize")
    page.wait_for("document.querySelector('.auth-container input') !== null", what="the Authorize dialog")
    page.type_into(".auth-container input", token)
    page.click(".auth-btn-wrapper .authorize")
    page.wait_for("document.querySelector('.auth-btn-wrapper .btn-done, .auth-btn-wrapper .logout') !== null")
    page.click(".btn-done, .close-modal")

    operation = (
        "[...document.querySelectorAll('.opblock.opblock-get')].find(o =>"
        " o.querySelector('.opblock-summary-path')?.dataset.path === '/api/{user_id}/tasks')"
    )
    page.evaluate(f"{operation}.querySelector('.opblock-summary-control').click()")
    page.wait_for(f"{operation}.querySelector('.try-out__btn') !== null", what="the operation to open")
    page.evaluate(f"{operation}.querySelector('.try-out__btn').click()")
    page.wait_for(f"{operation}.querySelector('tr[data-param-name=\"user_id\"] input') !== null")
    page.evaluate(f"{operation}.querySelector('tr[data-param-name=\"user_id\"] input').setAttribute('id', 'uid')")
    page.type_into("#uid", user)
    page.pump(1.0)  # Swagger UI debounces parameter inputs before they reach its state
    page.evaluate(f"{operation}.querySelector('.execute').click()")
    status = page.wait_for(
        f"{operation}.querySelector('.live-responses-table tr.response .response-col_status')?.textContent.trim()",
        what="the response of Execute",
    )
    assert status.startswith("200"), status
    body = page.evaluate(
        f"{operation}.querySelector('.live-responses-table tr.response .microlight, .live-responses-table tr.response pre')"
        ".textContent"
    )
    assert "seen in the docs" in body


PAGE_SCRIPT = """
<!doctype html><title>front end</title><script>
async function flow(api, token, user) {
  const auth = { Authorization: `Bearer ${token}` };
  const tasks = `${api}/api/${user}/tasks`;
  const out = {};
  const created = await fetch(tasks, { method: "POST", body: JSON.stringify({ title: "from the browser" }),
    headers: { ...auth, "Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID() } });
  const task = await created.json();
  out.create = { status: created.status, etag: created.headers.get("ETag"),
    location: created.headers.get("Location"), requestId: created.headers.get("X-Request-ID") };
  await fetch(tasks, { method: "POST", headers: { ...auth, "Content-Type": "application/json" },
    body: JSON.stringify({ title: "second" }) });
  const listed = await fetch(`${tasks}?limit=1`, { headers: auth });
  out.list = { status: listed.status, link: listed.headers.get("Link") };
  const url = `${tasks}/${task.id}`;
  const fresh = await fetch(url, { headers: { ...auth, "If-None-Match": out.create.etag }, cache: "no-store" });
  out.notModified = fresh.status;
  const patched = await fetch(url, { method: "PATCH", body: JSON.stringify({ title: "renamed" }),
    headers: { ...auth, "Content-Type": "application/json", "If-Match": out.create.etag } });
  out.patch = { status: patched.status, etag: patched.headers.get("ETag") };
  const stale = await fetch(url, { method: "PUT", body: JSON.stringify({ title: "lost" }),
    headers: { ...auth, "Content-Type": "application/json", "If-Match": out.create.etag } });
  out.stale = { status: stale.status, type: stale.headers.get("Content-Type"), body: await stale.json() };
  const completed = await fetch(`${url}/complete`, { method: "PATCH", headers: auth });
  out.complete = completed.status;
  const removed = await fetch(url, { method: "DELETE", headers: { ...auth, "If-Match": '"nope"' } });
  out.deleteStale = removed.status;
  out.delete = (await fetch(url, { method: "DELETE", headers: auth })).status;
  const anonymous = await fetch(tasks, { headers: { Authorization: "Bearer not-a-token" } });
  out.unauthorized = { status: anonymous.status, challenge: anonymous.headers.get("WWW-Authenticate") };
  return out;
}
async function blocked(api) {
  try { await fetch(`${api}/api/x/tasks`, { headers: { Authorization: "Bearer x" } }); return false; }
  catch (error) { return error instanceof TypeError; }
}
</script>
"""


@pytest.fixture(scope="module")
def front_end(migrated_database: str) -> Iterator[tuple[str, LiveServer]]:
    """The page on its own origin (`http://localhost:<port>`, as a Next.js dev server serves one)
    and the API on another, allowing that origin. (The default, `http://localhost:3000`, is what
    tests/api/test_cors.py checks; a browser test cannot own port 3000.)"""
    port = free_port()

    class PageHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = PAGE_SCRIPT.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    pages = ThreadingHTTPServer(("127.0.0.1", port), PageHandler)
    thread = threading.Thread(target=pages.serve_forever, daemon=True)
    thread.start()
    origin = f"http://localhost:{port}"
    api = start_server(migrated_database, CORS_ALLOW_ORIGINS=origin)
    try:
        yield origin, api
    finally:
        stop_server(api)
        pages.shutdown()
        pages.server_close()


def test_a_front_end_origin_calls_the_api_through_cors(page: Page, front_end: tuple[str, LiveServer]) -> None:
    origin, api = front_end
    page.navigate(f"{origin}/")
    user = f"cors-{uuid.uuid4().hex[:10]}"
    args = ", ".join(json.dumps(a) for a in (api.base, make_token(user), user))
    out = page.evaluate(f"flow({args})")

    assert out["create"]["status"] == 201
    assert out["create"]["etag"].startswith('"')
    assert out["create"]["location"].startswith(f"/api/{user}/tasks/")
    assert len(out["create"]["requestId"]) > 0
    assert out["list"]["status"] == 200 and out["list"]["link"].endswith('rel="next"')
    assert out["notModified"] == 304
    assert out["patch"]["status"] == 200 and out["patch"]["etag"] != out["create"]["etag"]
    assert out["stale"]["status"] == 412
    assert out["stale"]["type"] == "application/problem+json" and out["stale"]["body"]["status"] == 412
    assert out["complete"] == 200
    assert out["deleteStale"] == 412
    assert out["delete"] == 204
    assert out["unauthorized"]["status"] == 401 and out["unauthorized"]["challenge"].startswith("Bearer")

    # The same page from an origin the API does not allow (127.0.0.1 is not localhost to a
    # browser): the preflight fails and the page sees only a network error.
    page.navigate(f"{origin.replace('localhost', '127.0.0.1')}/")
    assert page.evaluate(f"blocked({json.dumps(api.base)})") is True


def test_redoc_renders_every_operation_offline(page: Page, live_server: LiveServer) -> None:
    page.navigate(f"{live_server.base}/redoc")
    count = page.wait_for(
        "(() => { const n = document.querySelectorAll('[data-section-id^=\"operation/\"]').length;"
        " return n >= 8 ? n : 0; })()",
        what="ReDoc to render the operations",
    )
    paths = httpx.get(f"{live_server.base}/openapi.json").json()["paths"]
    assert count == sum(len(operations) for operations in paths.values())
    assert page.contacted() == {urlsplit(live_server.base).netloc}
