"""The site's build steps beyond MkDocs' own (mkdocs.yml names this file under `hooks:`).

- Optional pages join the nav when their file exists (OPTIONAL_PAGES): a page being written elsewhere
  lands by adding its file, with no edit here.
- The live pages are written into the built site by chainrule itself (LIVE_PAGES): the walkthroughs
  and the training pages the other pages embed in frames. Add a page: one entry, a function of the path.
- Nothing of the built site asks another host for anything (the theme's web fonts are off in
  mkdocs.yml; tests/test_docs_site.py counts every request).
"""

from __future__ import annotations

import contextlib
import io
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

# (nav title, file in docs/, the entries it may follow, the first found; none found: at the end)
OPTIONAL_PAGES = [
    ("Math", "math.md", ("Higher order",)),
    ("Cookbook", "cookbook.md", ("Math", "Higher order")),
    ("Playground", "playground.md", ()),
]


def _walkthrough_of_the_readme(path: Path) -> None:
    from chainrule.cli import main

    _quietly(main, ["explain", "tanh(a*b + c)", "--at", "a=2", "b=-3", "c=10", "--html", str(path)])


def _two_neurons(path: Path) -> None:
    from chainrule import MLP, Value, walkthrough

    x = [Value(2.0, label="x1"), Value(-1.0, label="x2")]
    out = MLP(2, [2, 1], rng=random.Random(0))(x)
    assert isinstance(out, Value)
    walkthrough(out, title="MLP(2, [2, 1]) at x = (2, -1): the forward pass and the backward walk").save(path)


def _moons(path: Path) -> None:
    from chainrule.cli import main

    _quietly(main, ["moons", "--backend", "python", "--html", str(path)])


def _xor(path: Path) -> None:
    from chainrule.cli import main

    _quietly(main, ["xor", "--html", str(path)])


LIVE_PAGES: dict[str, Callable[[Path], None]] = {
    "live/walkthrough.html": _walkthrough_of_the_readme,
    "live/two-neurons.html": _two_neurons,
    "live/moons.html": _moons,
    "live/xor.html": _xor,
}


def _quietly(command: Callable[[list[str]], int], argv: list[str]) -> None:
    """Run a chainrule command for its file, keeping its log out of the build's output."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        status = command(argv)
    if status != 0:
        raise RuntimeError(f"chainrule {' '.join(argv)} failed ({status}): {err.getvalue()}")


def on_config(config: Any) -> Any:
    docs = Path(config["docs_dir"])
    nav = config["nav"]
    titles = [next(iter(entry)) if isinstance(entry, dict) else entry for entry in nav]
    for title, page, after in OPTIONAL_PAGES:
        if (docs / page).exists() and page not in str(nav):
            at = next((titles.index(entry) + 1 for entry in after if entry in titles), len(nav))
            nav.insert(at, {title: page})
            titles.insert(at, title)
    return config


def on_post_build(config: Any) -> None:
    site = Path(config["site_dir"])
    for name, make in LIVE_PAGES.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        make(path)
