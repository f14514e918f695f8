"""A small driver for Debian's headless chromium over the Chrome DevTools Protocol.

Only what the browser tests need: open a page, evaluate JavaScript in it (awaiting promises), click,
and type into the focused element.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from websockets.sync.client import ClientConnection, connect

CHROMIUM_NAMES = ("chromium", "chromium-browser")


def chromium_path() -> str | None:
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


class CDPError(RuntimeError):
    pass


class Page:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []
        self.handlers: dict[str, Callable[[dict[str, Any]], None]] = {}
        self.console: list[str] = []

    def send(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        self.socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.socket.recv(timeout=max(0.01, deadline - time.monotonic())))
            if message.get("id") == call_id:
                if "error" in message:
                    raise CDPError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self._event(message)

    def _event(self, message: dict[str, Any]) -> None:
        method = message.get("method", "")
        if method == "Runtime.consoleAPICalled":
            args = message["params"].get("args", [])
            self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in args))
        handler = self.handlers.get(method)
        if handler is not None:
            handler(message["params"])
        else:
            self.events.append(message)

    def evaluate(self, expression: str, timeout: float = 30) -> Any:
        """The value of a JavaScript expression (a promise is awaited); a thrown error raises."""
        result = self.send(
            "Runtime.evaluate",
            timeout=timeout,
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise CDPError(details.get("exception", {}).get("description") or details.get("text"))
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30, what: str = "") -> Any:
        """Poll an expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what or expression}; console: {self.console[-5:]}")
            self.pump(0.1)

    def pump(self, seconds: float) -> None:
        """Handle events for a while (interception handlers need it while a page loads)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self._event(json.loads(self.socket.recv(timeout=left)))
            except TimeoutError:
                return

    def contacted(self) -> set[str]:
        """The hosts (host:port) the page's requests reached; requests the browser blocked before
        sending them (a Content-Security-Policy, for one) do not count."""
        sent = {e["params"]["requestId"]: e["params"]["request"]["url"] for e in self._events("requestWillBeSent")}
        blocked = {e["params"]["requestId"] for e in self._events("loadingFailed") if e["params"].get("blockedReason")}
        network = {request_id: urlsplit(url) for request_id, url in sent.items() if request_id not in blocked}
        return {url.netloc for url in network.values() if url.scheme not in ("data", "blob", "about")}

    def _events(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("method") == f"Network.{name}"]

    def navigate(self, url: str) -> None:
        result = self.send("Page.navigate", url=url)
        if "errorText" in result:
            raise CDPError(f"{url}: {result['errorText']}")
        loaded = f"location.href === {json.dumps(url)} && document.readyState === 'complete'"
        self.wait_for(loaded, what=f"{url} to load")

    def _on_element(self, selector: str, action: str) -> None:
        script = f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return false; {action}; return true; }})()"
        if not self.evaluate(script):
            raise CDPError(f"no element matches {selector}")

    def type_into(self, selector: str, text: str) -> None:
        """Focus an element and type, as a user does (React-controlled inputs see real input events)."""
        self._on_element(selector, "e.focus()")
        self.send("Input.insertText", text=text)

    def click(self, selector: str) -> None:
        self._on_element(selector, "e.click()")


@contextmanager
def browser(port: int) -> Iterator[Page]:
    """A headless chromium with one blank page, stopped (and its profile removed) afterwards."""
    executable = chromium_path()
    if executable is None:
        raise FileNotFoundError("chromium")
    profile = tempfile.mkdtemp(prefix="tasks-api-chromium-")
    process = subprocess.Popen(
        [
            executable,
            "--headless",
            "--no-sandbox",  # the tests may run as root (CI does), where the sandbox refuses to start
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1",
            f"--remote-debugging-port={port}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        target = _page_target(port, process)
        with connect(target, max_size=None, open_timeout=30) as socket:
            page = Page(socket)
            for domain in ("Page", "Runtime", "Network"):
                page.send(f"{domain}.enable")
            yield page
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)


def _page_target(port: int, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CDPError(f"chromium exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as response:
                targets = json.loads(response.read())
            for target in targets:
                if target.get("type") == "page":
                    return str(target["webSocketDebuggerUrl"])
        except OSError:
            pass
        time.sleep(0.2)
    raise CDPError("chromium did not open its DevTools port")
