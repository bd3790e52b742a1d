"""The walkthrough page: its numbers are the engine's bit for bit, its panel explain's, its user text inert.

The page's test contract (docs/pages.md): each graph node's <g> carries data-node (explain's name),
data-value and data-grad (repr of what the page shows now), each absent until known.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from real_browser import not_blank, open_page

from chainrule import Value, explain, walkthrough
from chainrule.cli import main
from chainrule.engine import topological_order
from chainrule.show.names import number, short_names

pytestmark = pytest.mark.usefixtures("dot")  # the page's graph is laid out by Graphviz's dot

INJECTED = ["</script><script>window.pwned=1</script>", '<img src=x onerror="window.pwned=1">']


def neuron() -> tuple[Value, list[Value]]:
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    return (a * b + c).tanh() * a, [a, b, c]  # a feeds two nodes


def shared() -> tuple[Value, list[Value]]:  # x is both parents of x * x: two shares in one firing
    x, y = Value(1.5, label="x"), Value(0.2, label="y")
    return x * x + x / y - 2 * y**3 + x.sigmoid() * (-y).exp() + x.relu().log(), [x, y]


def unlabelled() -> tuple[Value, list[Value]]:
    p, q = Value(-0.7), Value(1.1)
    return (p * q).exp() / (q - p) + (p - q) ** 2, [p, q]


def injected() -> tuple[Value, list[Value]]:
    s, t = Value(0.5, label=INJECTED[0]), Value(-1.25, label=INJECTED[1])
    u = Value(0.25, label='u {|} "\\l"')  # record syntax, a quote and a DOT escape
    root = (s * t + u).tanh()
    root.label = "<b>bold</b> & co"
    return root, [s, t, u]


GRAPHS: dict[str, Callable[[], tuple[Value, list[Value]]]] = {
    "neuron": neuron,
    "shared": shared,
    "unlabelled": unlabelled,
    "injected": injected,
}


def _page_data(page_html: str) -> dict:
    block = re.search(r'<script type="application/json" id="data">(.*?)</script>', page_html, re.DOTALL)
    assert block is not None
    return json.loads(block.group(1))


def _explained(build) -> tuple[list[list[str]], dict[Value, str], Value]:
    """explain's printed backward walk, one list of lines per firing; the names; the graph it ran on."""
    root, inputs = build()
    out = io.StringIO()
    explain(root, inputs, file=out)
    table = out.getvalue().split("Backward walk")[1].split("\n\n")[0].splitlines()[3:]
    firings: list[list[str]] = []
    for line in table:
        if line[2] != " ":  # a row that names the node that fires starts a firing
            firings.append([])
        firings[-1].append(line)
    order = topological_order(root)
    return firings, short_names(order, root), root


@pytest.mark.parametrize("name", GRAPHS)
def test_the_panel_prints_explains_lines_and_the_steps_follow_the_engine(name):
    build = GRAPHS[name]
    root, inputs = build()
    steps = _page_data(walkthrough(root, inputs).html)["steps"]
    firings, names, engine_root = _explained(build)
    order = topological_order(engine_root)
    forward = steps[1 : 1 + len(order)]
    assert [step["values"] for step in forward] == [[[names[n], repr(n.data), number(n.data)]] for n in order]
    seed, fired, done = steps[1 + len(order)], steps[2 + len(order) : -1], steps[-1]
    assert seed["grads"] == [[names[engine_root], "1.0", "1"]] and steps[0]["lines"] == []
    assert [step["lines"][1:] for step in fired] == firings  # explain's printed lines, cell for cell
    final: dict[str, str] = {}
    for step in fired:
        final.update({name: exact for name, exact, _ in step["grads"]})
        assert all(short == number(float(exact)) for _, exact, short in step["grads"])
    # every node's last gradient on the page is the .grad explain's backward() left, bit for bit
    assert final == {names[n]: repr(n.grad) for n in order if n is not engine_root}
    assert done["lines"][0] == f"Gradients of {names[engine_root]}:"


def test_the_page_only_reads_the_graph():
    root, inputs = neuron()
    root.backward()
    before = [(n.data, n.grad) for n in topological_order(root)]
    steps = _page_data(walkthrough(root, inputs).html)["steps"]
    assert [(n.data, n.grad) for n in topological_order(root)] == before
    # leaves already holding gradients: the page still shows ∂root/∂leaf, what backward() gives fresh leaves
    last = {name: grad for step in steps for name, grad, _ in step.get("grads", [])}
    assert [last[leaf.label] for leaf in inputs] == [repr(leaf.grad) for leaf in inputs]


def test_the_page_is_self_contained_and_escapes_user_text():
    root, inputs = injected()
    page = walkthrough(root, inputs).html
    head = page.split("</head>")[0]
    assert "default-src 'none'" in head and "script-src 'sha256-" in head
    assert re.findall(r'\b(?:src|href)="([^"]*)"', page) == ["data:,"]  # the favicon, and nothing else
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "@import" not in page and "url(" not in page
    assert page.count("<script") == 2 and "window.pwned" in page  # the labels, as inert text
    for label in INJECTED:
        assert label not in page  # never raw: escaped in the SVG, the title and the JSON
    data_block = page.split('id="data">')[1].split("</script>")[0]
    assert "<" not in data_block and ">" not in data_block and "&" not in data_block
    assert _page_data(page)["nodes"][:2] == INJECTED


def test_a_label_over_two_lines_keeps_its_numbers_in_their_fields():
    x = Value(1.5, label="two\nlines")
    page = walkthrough(x * 2).html
    node = re.search(r'<g class="node" data-node="two&#10;lines">(.*?)</g>', page, re.DOTALL)
    assert node is not None
    classes = re.findall(r'<text [^>]*class="(\w+)"[^>]*>([^<]*)</text>', node.group(1))
    assert classes[-2:] == [("value", "data 1.5"), ("grad", "grad 2")]  # explain's six digits
    assert [c for c, _ in classes[:-2]] == ["name"] * len(classes[:-2])


def test_a_layout_function_stands_in_for_the_dot_program(dot):
    """walkthrough(..., layout=f): f gets the DOT text and returns the SVG (the playground passes Graphviz
    compiled to WebAssembly); with dot itself as f, the page is the one dot's own pipe makes."""
    asked: list[str] = []

    def layout(text: str) -> bytes:
        asked.append(text)
        return subprocess.run([dot, "-Tsvg"], input=text.encode(), capture_output=True, check=True).stdout

    root, inputs = neuron()
    assert walkthrough(root, inputs, layout=layout).html == walkthrough(root, inputs).html
    assert len(asked) == 1 and asked[0].startswith("digraph {")


def test_repr_html_is_a_sandboxed_frame_holding_the_page():
    shown = walkthrough(*neuron())._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in shown
    assert "<script" not in shown  # the page's scripts are inside the attribute, escaped


def _state(page) -> dict[str, dict[str, str | None]]:
    return page.evaluate(
        """() => Object.fromEntries(Array.from(document.querySelectorAll('[data-node]')).map(g =>
            [g.dataset.node, {value: g.getAttribute('data-value'), grad: g.getAttribute('data-grad'),
                              shown: Array.from(g.querySelectorAll('text')).map(t => t.textContent)}]))"""
    )


def _counter(page) -> str:
    return page.inner_text("#counter")


@pytest.mark.parametrize("name", ["neuron", "shared", "injected"])
def test_in_a_browser_every_step_shows_the_engines_numbers(browser, tmp_path, name):
    build = GRAPHS[name]
    root, inputs = build()
    path = walkthrough(root, inputs).save(tmp_path / "walk.html")
    firings, names, engine_root = _explained(build)  # explain ran backward(): every .grad is the engine's
    order = topological_order(engine_root)
    total = len(order) + len(firings) + 2
    opened = open_page(browser, path)
    page = opened.page
    assert _counter(page) == f"step 0 of {total}"
    assert all(
        node == {"value": None, "grad": None, "shown": node["shown"]} for node in _state(page).values()
    )
    interior = [n for n in reversed(order) if n._prev]  # the engine fires in this order
    for k in range(1, total + 1):
        page.keyboard.press("ArrowRight")
        assert _counter(page) == f"step {k} of {total}"
        state = _state(page)
        if k <= len(order):  # forward: the first k nodes have their values, and only they
            known = {names[n]: repr(n.data) for n in order[:k]}
            assert {n: s["value"] for n, s in state.items() if s["value"] is not None} == known
            assert all(s["grad"] is None for s in state.values())
        elif len(order) + 1 < k <= len(order) + 1 + len(firings):  # a firing: explain's lines and sums
            lines, fires = firings[k - len(order) - 2], interior[k - len(order) - 2]
            assert page.inner_text("#lines").splitlines()[1:] == lines
            sums: dict[str, str] = {}
            for parent, line in zip(fires._prev, lines):  # one line per parent, in operand order
                sums[names[parent]] = line.rsplit("= ", 1)[1]  # a parent met twice: its last sum
            assert {p: number(float(state[p]["grad"])) for p in sums} == sums  # the sums as they build
    state = _state(page)  # the last step: every gradient is the engine's, bit for bit
    assert {n: s["grad"] for n, s in state.items()} == {names[n]: repr(n.grad) for n in order}
    assert {n: s["value"] for n, s in state.items()} == {names[n]: repr(n.data) for n in order}
    assert all(f"grad {number(n.grad)}" in state[names[n]]["shown"] for n in order)
    assert page.is_disabled("#next")
    page.keyboard.press("Home")
    assert _counter(page) == f"step 0 of {total}"
    assert all(s["value"] is None and s["grad"] is None for s in _state(page).values())
    page.keyboard.press("End")
    assert _counter(page) == f"step {total} of {total}" and _state(page) == state
    page.keyboard.press("ArrowLeft")
    assert _counter(page) == f"step {total - 1} of {total}"
    assert page.evaluate("window.pwned") is None
    assert opened.errors == [] and opened.other_requests() == []


def test_in_a_browser_the_buttons_step_through_and_play(browser, tmp_path):
    root, inputs = neuron()
    path = walkthrough(root, inputs).save(tmp_path / "walk.html")
    opened = open_page(browser, path)
    page = opened.page
    total = int(_counter(page).split()[-1])
    seen = [_counter(page)]
    while not page.is_disabled("#next"):
        page.click("#next")
        seen.append(_counter(page))
    assert seen == [f"step {k} of {total}" for k in range(total + 1)]
    engine_root, engine_inputs = neuron()
    engine_root.backward()
    assert [page.get_attribute(f'[data-node="{x.label}"]', "data-grad") for x in inputs] == [
        repr(x.grad) for x in engine_inputs
    ]
    for k in range(total - 1, -1, -1):
        page.click("#previous")
        assert _counter(page) == f"step {k} of {total}"
    assert page.is_disabled("#previous") and page.is_disabled("#home")
    page.click("#end")
    assert _counter(page) == f"step {total} of {total}"
    page.click("#home")
    assert _counter(page) == f"step 0 of {total}"
    page.click("#play")  # plays from the start, one step at a time, until paused
    assert page.inner_text("#play") == "❚❚ Pause"
    for _ in range(50):  # (not page.wait_for_function: the page's CSP forbids evaluating strings)
        if _counter(page) == f"step 2 of {total}":
            break
        page.wait_for_timeout(100)
    assert _counter(page) == f"step 2 of {total}"
    page.click("#play")
    paused_at = _counter(page)
    page.wait_for_timeout(1200)
    assert _counter(page) == paused_at and page.inner_text("#play") == "▶ Play"
    assert opened.errors == [] and opened.other_requests() == []


def test_in_a_browser_injected_labels_show_as_text_and_never_run(browser, tmp_path):
    root, inputs = injected()
    path = walkthrough(root, inputs).save(tmp_path / "walk.html")
    opened = open_page(browser, path)
    page = opened.page
    page.keyboard.press("End")
    assert page.evaluate("window.pwned") is None
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.evaluate("document.querySelectorAll('script').length") == 2
    shown = {g.get_attribute("data-node"): g for g in page.locator("[data-node]").all()}
    for label in INJECTED:  # the node of that name shows the label as its text, and is on screen
        assert shown[label].locator("text.name").all_text_contents() == [label] and shown[label].is_visible()
    headings = " ".join(page.locator("text.name").all_text_contents())
    assert f"{INJECTED[0]} * {INJECTED[1]}" in headings  # how the product was computed, as text too
    assert "<b>bold</b> & co" in page.inner_text("#lines") and page.title().startswith("<b>bold</b> & co")
    assert page.evaluate("window.pwned") is None
    assert opened.errors == [] and opened.other_requests() == []
    assert not_blank(page.screenshot(full_page=True)) > 10


def test_in_a_browser_the_notebook_frame_runs_its_script(browser, tmp_path):
    host = tmp_path / "notebook.html"
    host.write_text("<!DOCTYPE html><html><body>" + walkthrough(*neuron())._repr_html_() + "</body></html>")
    opened = open_page(browser, host)
    frame = opened.page.frames[1]
    frame.wait_for_selector("#counter")
    assert frame.inner_text("#counter").startswith("step 0 of ")
    frame.click("#end")
    assert frame.get_attribute('[data-node="a"]', "data-grad") is not None
    assert opened.errors == []


def test_explain_command_writes_the_page(tmp_path, capsys):
    path = tmp_path / "walk.html"
    argv = ["explain", "tanh(a*b + c)", "--at", "a=2", "b=-3", "c=10", "--html", str(path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert main(argv[:-2]) == 0
    assert out == capsys.readouterr().out + f"\nwalkthrough page saved to {path}\n"
    data = _page_data(path.read_text())
    a, b, c = Value(2.0), Value(-3.0), Value(10.0)
    (a * b + c).tanh().backward()
    last = {name: grad for step in data["steps"] for name, grad, _ in step.get("grads", [])}
    assert [last[n] for n in "abc"] == [repr(x.grad) for x in (a, b, c)]
    assert "tanh(a*b + c)   at a = 2, b = -3, c = 10" in path.read_text().split("</title>")[0]


def test_the_pages_static_files_are_package_data():
    """A wheel ships chainrule/show/static/ only if pyproject's package-data globs cover every file."""
    import fnmatch

    import tomllib

    root = Path(__file__).resolve().parents[1]
    globs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    static = root / "chainrule" / "show" / "static"
    files = [str(path.relative_to(static.parent)) for path in static.iterdir()]
    assert files and all(any(fnmatch.fnmatch(f, g) for g in globs["chainrule.show"]) for f in files)


def two_neurons() -> tuple[Value, list[Value]]:
    """A lecture's graph: MLP(2, [2, 1]) on two inputs, 26 nodes, 43 steps."""
    import random

    from chainrule import MLP

    x = [Value(2.0, label="x1"), Value(-1.0, label="x2")]
    out = MLP(2, [2, 1], rng=random.Random(0))(x)
    assert isinstance(out, Value)
    return out, x


def _box(page, selector: str) -> dict[str, float]:
    return page.locator(selector).first.bounding_box()


@pytest.mark.parametrize("width", [1280, 800])
def test_in_a_browser_a_lectures_graph_reads_at_that_width(browser, tmp_path, width):
    root, inputs = two_neurons()
    path = walkthrough(root).save(tmp_path / "walk.html")
    opened = open_page(browser, path, width=width, height=800)
    page = opened.page
    total = int(_counter(page).split()[-1])
    scale = float(page.get_attribute("#graph", "data-scale"))
    natural = float(page.get_attribute("#graph svg", "width"))  # dot's size: 12pt Courier, 16 px
    assert scale * 16 >= 12  # the nodes' text is never smaller than 12 px
    graph = _box(page, "#graph")
    if width >= 1280:  # the whole graph fits the window's width
        assert _box(page, "#graph svg")["width"] <= graph["width"] and scale * natural <= width
    out = _box(page, f'[data-node="{short_names(topological_order(root), root)[root]}"]')
    assert graph["x"] <= out["x"] and out["x"] + out["width"] <= graph["x"] + graph["width"]  # output in view
    top = graph["y"]
    for k in range(1, total + 1):  # the graph never moves as the panel changes
        page.keyboard.press("ArrowRight")
        assert _box(page, "#graph")["y"] == top, f"the graph moved at step {k}"
    names = short_names(topological_order(root), root)
    for node in topological_order(root):  # short numbers on the nodes, the exact ones on a click
        g = page.locator(f'[data-node="{names[node]}"]')
        assert g.locator("text.value").text_content() == f"data {number(node.data)}"
    leaf = inputs[0]
    page.locator('[data-node="x1"]').click()
    assert page.text_content("#detail") == f"x1   data {leaf.data!r}   grad {root_grad(root, leaf)!r}"
    page.click("#zoom-in")
    assert float(page.get_attribute("#graph", "data-scale")) == pytest.approx(scale * 1.25, rel=1e-3)
    page.click("#fit")
    assert float(page.get_attribute("#graph", "data-scale")) == scale
    assert opened.errors == [] and opened.other_requests() == []


def root_grad(root: Value, leaf: Value) -> float:
    """∂root/∂leaf by the engine, on a copy of the graph built afresh."""
    fresh_root, fresh_inputs = two_neurons()
    fresh_root.backward()
    return fresh_inputs[[x.label for x in fresh_inputs].index(leaf.label)].grad
