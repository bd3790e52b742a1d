"""A real headless Chromium for the page tests: Debian's `chromium`, driven by Playwright for Python.

Playwright's own browser download cannot run on these machines, so the system browser is launched by path
(CHAINRULE_CHROMIUM, else `chromium` on PATH). The flags keep it off the network it would otherwise call
(component updates, sync, safe browsing) and let it run as root in a container.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import io
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    return (
        os.environ.get("CHAINRULE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )


def launch(playwright: Any, executable: str) -> Any:
    return playwright.chromium.launch(executable_path=executable, args=ARGS)


@dataclass
class Opened:
    """A page opened from file:// (or from a local server), with every request it made and every console
    error or page error."""

    page: Any
    url: str
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    site: str | None = None  # a served page's own site (http://127.0.0.1:PORT/): its files are its own

    def own(self, url: str) -> bool:
        return url.startswith(self.site) if self.site else url == self.url

    def other_requests(self) -> list[str]:
        """Requests for anything but the page (or its site's files): a self-contained page makes none."""
        return [url for url in self.requests if not self.own(url)] + self.blocked


def open_page(browser: Any, path: Path, width: int = 1200, height: int = 800) -> Opened:
    """Open path in a fresh context where every request that is not the page itself is blocked and counted."""
    return open_url(browser, path.resolve().as_uri(), None, width, height)


def open_url(browser: Any, url: str, site: str | None, width: int = 1200, height: int = 800) -> Opened:
    """Open url in a fresh context where every request outside `site` (else: url) is blocked and counted."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    opened = Opened(page, url, site=site)

    def route(intercepted: Any) -> None:
        if opened.own(intercepted.request.url):
            intercepted.continue_()
        else:
            opened.blocked.append(intercepted.request.url)
            intercepted.abort()

    context.route("**/*", route)
    context.on("request", lambda request: opened.requests.append(request.url))  # a worker's requests too
    page.on(
        "console", lambda message: message.type in ("error", "warning") and opened.errors.append(message.text)
    )
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    page.goto(url)
    return opened


@dataclass
class Served:
    """A folder served over http on 127.0.0.1 (`site` is its address), and the paths it was asked for."""

    site: str
    asked: list[str]


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[Served]:
    """Serve folder on 127.0.0.1 at a free port, as a static web server would (.mjs as JavaScript, .wasm
    as application/wasm, which the page's module scripts and WebAssembly need), until the block ends."""
    asked: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map: ClassVar[dict[str, str]] = {
            **http.server.SimpleHTTPRequestHandler.extensions_map,
            ".mjs": "text/javascript",
            ".js": "text/javascript",
            ".wasm": "application/wasm",
        }

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
            asked.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_port}/", asked)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def not_blank(png: bytes) -> int:
    """The number of distinct colours in a screenshot (a blank page has one)."""
    from matplotlib.image import imread

    pixels = imread(io.BytesIO(png), format="png")
    flat = pixels.reshape(-1, pixels.shape[-1])
    return len({tuple(row) for row in flat[:: max(1, len(flat) // 20000)].tolist()})
