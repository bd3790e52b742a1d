"""A real headless Chromium for the page tests: Debian's `chromium`, driven by Playwright for Python.

Playwright's own browser download cannot run on these machines, so the system browser is launched by path
(CHAINRULE_CHROMIUM, else `chromium` on PATH). The flags keep it off the network it would otherwise call
(component updates, sync, safe browsing) and let it run as root in a container.
"""

from __future__ import annotations

import io
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    """A page opened from file://, with every request it made and every console error or page error."""

    page: Any
    url: str
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def other_requests(self) -> list[str]:
        """Requests other than the page file itself: a self-contained page makes none."""
        return [url for url in self.requests if url != self.url] + self.blocked


def open_page(browser: Any, path: Path, width: int = 1200, height: int = 800) -> Opened:
    """Open path in a fresh context where every request that is not the page itself is blocked and counted."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    url = path.resolve().as_uri()
    opened = Opened(page, url)

    def route(intercepted: Any) -> None:
        if intercepted.request.url == url:
            intercepted.continue_()
        else:
            opened.blocked.append(intercepted.request.url)
            intercepted.abort()

    context.route("**/*", route)
    page.on("request", lambda request: opened.requests.append(request.url))
    page.on(
        "console", lambda message: message.type in ("error", "warning") and opened.errors.append(message.text)
    )
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    page.goto(url)
    return opened


def not_blank(png: bytes) -> int:
    """The number of distinct colours in a screenshot (a blank page has one)."""
    from matplotlib.image import imread

    pixels = imread(io.BytesIO(png), format="png")
    flat = pixels.reshape(-1, pixels.shape[-1])
    return len({tuple(row) for row in flat[:: max(1, len(flat) // 20000)].tolist()})
