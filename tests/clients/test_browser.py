"""The service in a real headless chromium (Debian's): /docs offline, and CORS from a front end's
origin, against a server as `make run` serves it (APP_ENV=local, default settings)."""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlsplit

import httpx

from tests.clients.cdp import Page
from tests.clients.conftest import LiveServer
from tests.conftest import make_token

FRONT_END = "http://localhost:3000"  # the default allowed origin in local runs, as in template.yaml
OTHER_ORIGIN = "http://localhost:3001"


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
    # Every asset the page loaded came from the service itself: nothing from a CDN.
    loaded = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and {urlsplit(url).netloc for url in loaded} == {urlsplit(live_server.base).netloc}

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
    page.evaluate(f"{operation}.querySelector('.execute').click()")
    status = page.wait_for(
        f"{operation}.querySelector('.live-responses-table .response-col_status')?.textContent.trim()",
        what="the response of Execute",
    )
    assert status.startswith("200"), status
    body = page.evaluate(f"{operation}.querySelector('.live-responses-table .microlight, .live-responses-table pre')"
                         ".textContent")
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


def test_a_front_end_origin_calls_the_api_through_cors(page: Page, live_server: LiveServer) -> None:
    page.serve_origin(FRONT_END, {"/": PAGE_SCRIPT})
    page.serve_origin(OTHER_ORIGIN, {"/": PAGE_SCRIPT})
    page.navigate(f"{FRONT_END}/")
    assert page.evaluate("location.origin") == FRONT_END
    user = f"cors-{uuid.uuid4().hex[:10]}"
    args = ", ".join(json.dumps(a) for a in (live_server.base, make_token(user), user))
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

    # The same page from an origin that is not allowed: the browser refuses (preflight fails).
    page.navigate(f"{OTHER_ORIGIN}/")
    assert page.evaluate(f"blocked({json.dumps(live_server.base)})") is True
