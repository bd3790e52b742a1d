"""MkDocs hook: build the playground into the site, at playground/app/ beside docs/playground.md's page.

In mkdocs.yml: `hooks: [docs/hooks/playground.py]`. `build_into(site_dir)` needs no MkDocs: the tests
build their copy of the playground with it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parents[2] / "playground" / "build.py"
WHERE = ("playground", "app")  # the page docs/playground.md becomes is playground/index.html


def build_into(site_dir: str | Path, cache: Path | None = None) -> Path:
    """Build the playground into SITE_DIR/playground/app and return that folder."""
    spec = importlib.util.spec_from_file_location("chainrule_playground_build", SCRIPT)
    assert spec is not None and spec.loader is not None, SCRIPT
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    out = Path(site_dir).joinpath(*WHERE)
    builder.build(out, cache)
    return out


def on_post_build(config: Any, **kwargs: Any) -> None:
    from mkdocs.exceptions import PluginError

    try:
        build_into(config["site_dir"])
    except RuntimeError as error:  # the build's BuildError, which says what is missing
        raise PluginError(f"the playground could not be built: {error}") from None
