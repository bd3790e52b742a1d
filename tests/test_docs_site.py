"""The documentation site: built with `mkdocs build --strict` (the notebook run, the live pages written
by chainrule), then opened in the real Chromium over a local server. Its embedded walkthroughs step, and
no page asks another host for anything."""

from __future__ import annotations

import html
import re
from pathlib import Path

import chainrule
from chainrule import Value
from chainrule.engine import topological_order

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = (Path(__file__).parent / "data" / "reference_xor.txt").read_text()


def test_the_api_page_names_every_exported_name():
    documented = re.findall(r"^::: chainrule\.(\w+)$", (ROOT / "docs" / "api.md").read_text(), re.M)
    assert sorted(documented) == sorted(chainrule.__all__)


def test_the_api_reference_is_built_for_every_exported_name(docs_site):
    built = (docs_site / "api" / "index.html").read_text()
    missing = [name for name in chainrule.__all__ if f'id="chainrule.{name}"' not in built]
    assert not missing, f"the API reference has no entry for {missing}"


def test_the_tutorial_is_shown_run(docs_site):
    page = html.unescape(re.sub(r"<[^>]+>", " ", (docs_site / "tutorial" / "index.html").read_text()))
    text = " ".join(page.split())  # a cell's printed lines may come in several outputs
    assert "the same losses as the engine's: True" in text  # the jit cell's output, computed at build time
    assert " ".join(REFERENCE.split()) in text  # the XOR cell's log, computed


def _pages(site: Path) -> list[str]:
    """Every page of the site (its index.html files), as paths from the site's root."""
    return sorted(
        str(path.parent.relative_to(site)).removeprefix(".") + "/" for path in site.rglob("index.html")
    )


def _open(browser, url: str, width: int = 1280):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    return page, errors


def test_no_page_asks_another_host_for_anything(browser, docs_site, served):
    pages = _pages(docs_site)
    assert {"/", "explain/", "tutorial/", "api/", "benchmarks/"} <= set(pages)
    context = browser.new_context()
    outside: list[str] = []

    def route(intercepted):
        if intercepted.request.url.startswith(served) or intercepted.request.url.startswith("data:"):
            intercepted.continue_()
        else:
            outside.append(intercepted.request.url)
            intercepted.abort()

    context.route("**/*", route)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    for path in pages:
        page.goto(served + path.lstrip("/"))
        page.wait_for_load_state("load")
    assert outside == [] and errors == []


def _engine_gradients() -> tuple[int, dict[str, str]]:
    """The README's walkthrough, by the engine: its number of steps, and ∂f/∂leaf as repr."""
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    root = (a * b + c).tanh()
    root.backward()
    order = topological_order(root)
    total = len(order) + sum(1 for node in order if node._prev) + 2
    return total, {leaf.label: repr(leaf.grad) for leaf in (a, b, c)}


def test_the_embedded_walkthrough_steps(browser, served):
    page, errors = _open(browser, served + "explain/")
    frame = page.frame(url=re.compile(r"/live/walkthrough\.html$"))
    assert frame is not None, "the walkthrough is not embedded in the explain page"
    frame.wait_for_selector("#counter")
    total, gradients = _engine_gradients()
    assert frame.inner_text("#counter") == f"step 0 of {total}"
    for k in range(1, total + 1):
        frame.click("#next")
        assert frame.inner_text("#counter") == f"step {k} of {total}"
    assert frame.is_disabled("#next")
    shown = {name: frame.get_attribute(f'[data-node="{name}"]', "data-grad") for name in gradients}
    assert shown == gradients  # the engine's gradients, to the bit, at the last step
    frame.click("#home")
    assert frame.inner_text("#counter") == f"step 0 of {total}"
    assert frame.get_attribute('[data-node="a"]', "data-grad") is None
    assert errors == []


def test_the_embedded_lecture_walkthrough_and_training_pages_run(browser, served):
    page, errors = _open(browser, served + "explain/")
    lecture = page.frame(url=re.compile(r"/live/two-neurons\.html$"))
    assert lecture is not None
    lecture.wait_for_selector("#counter")
    total = int(lecture.inner_text("#counter").split()[-1])
    lecture.click("#end")
    assert lecture.inner_text("#counter") == f"step {total} of {total}"
    assert lecture.get_attribute('[data-node="x1"]', "data-grad") is not None
    page, more = _open(browser, served + "demos/")
    for name in ("moons", "xor"):
        frame = page.frame(url=re.compile(rf"/live/{name}\.html$"))
        assert frame is not None, f"the {name} training page is not embedded"
        frame.wait_for_selector("input[type=range]")
        first = frame.get_attribute("body", "data-step")
        frame.focus("input[type=range]")
        frame.press("input[type=range]", "End")
        assert frame.get_attribute("body", "data-step") != first
    assert errors == [] and more == []


def test_optional_pages_join_the_nav_when_their_files_exist(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("site_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    assert "\n  - Higher order: higher-order.md\n" in (ROOT / "mkdocs.yml").read_text()  # where Math goes
    nav = [
        {"Home": "index.md"},
        {"Higher order": "higher-order.md"},
        {"Guarantees": [{"Bad input": "bad-input.md"}]},
    ]
    unchanged = hooks.on_config({"docs_dir": str(tmp_path), "nav": [dict(entry) for entry in nav]})["nav"]
    assert unchanged == nav  # no file, no entry
    for _, page, _ in hooks.OPTIONAL_PAGES:
        (tmp_path / page).write_text("# a page\n")
    grown = hooks.on_config({"docs_dir": str(tmp_path), "nav": list(nav)})["nav"]
    titles = [next(iter(entry)) for entry in grown]
    assert titles.index("Math") == titles.index("Higher order") + 1
    assert titles.index("Cookbook") == titles.index("Math") + 1 and titles[-1] == "Playground"
