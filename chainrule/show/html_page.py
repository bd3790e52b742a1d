"""One self-contained HTML page: style, script and data inline, and a policy that forbids the network.

The pages chainrule writes (the walkthrough of a backward pass, the training pages) are single files that
open from disk with no server and make no request of any kind. Their Content-Security-Policy says so to
the browser: nothing may load from anywhere (`default-src 'none'`); the one inline script and the one
inline style run because their SHA-256 hashes are listed; pictures may only be `data:` URLs.

User text (labels, expressions) reaches a page three ways, each escaped for where it lands: HTML text
and attributes through `html.escape`, SVG through Graphviz and ElementTree, and the data the script
reads as JSON in a `<script type="application/json">` block, where `<`, `>`, `&` and the two line
separators JavaScript once rejected are written as \\u escapes (`json_for_script`).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
from importlib import resources
from pathlib import Path

STATIC = "static"  # the folder beside this module that holds the pages' CSS and JavaScript


def static_text(name: str) -> str:
    """A file of chainrule/show/static/ (shipped as package data), as text."""
    return resources.files("chainrule.show").joinpath(STATIC).joinpath(name).read_text(encoding="utf-8")


def _finite(data: object) -> object:
    """NaN and ±inf as the strings JavaScript's Number() reads back ("NaN", "Infinity", "-Infinity")."""
    if isinstance(data, float) and not math.isfinite(data):
        return "NaN" if math.isnan(data) else "Infinity" if data > 0 else "-Infinity"
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(value) for value in data]
    return data


def json_for_script(data: object) -> str:
    """JSON that cannot end its <script> block or open a comment, whatever strings it holds. Floats are
    written as Python's repr, which JSON.parse reads back to the same double; NaN and ±inf, which JSON
    lacks, become strings for Number()."""
    text = json.dumps(_finite(data), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def page(title: str, body: str, style: str, script: str, data: object) -> str:
    """The whole page. `body` is trusted HTML (escape user text into it first); `data` is read by `script`
    as JSON.parse(document.getElementById("data").textContent)."""
    policy = "; ".join(
        [
            "default-src 'none'",
            f"script-src {_sha256(script)}",
            f"style-src {_sha256(style)}",
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{policy}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<link rel="icon" href="data:,">',  # no request for /favicon.ico
            f"<title>{html.escape(title)}</title>",
            f"<style>{style}</style>",
            "</head>",
            "<body>",
            body,
            f'<script type="application/json" id="data">{json_for_script(data)}</script>',
            f"<script>{script}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def in_iframe(document: str, height: int) -> str:
    """The page inside a sandboxed frame, for Jupyter. A <script> in a cell's HTML output runs differently
    in JupyterLab and the classic Notebook; an <iframe srcdoc> is shown by both, and the page's own script
    runs inside it (allow-scripts, and nothing else: no same origin, no forms, no popups)."""
    return (
        f'<iframe srcdoc="{html.escape(document, quote=True)}" sandbox="allow-scripts" '
        f'style="width: 100%; height: {int(height)}px; border: 1px solid #ddd;"></iframe>'
    )


def write(document: str, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(document, encoding="utf-8")
    return path
