"""The chain rule, moving: one HTML page that steps through a graph's forward pass and backward walk.

`walkthrough(root)` lays the graph out with Graphviz (the drawing's nodes and edges, through `dot`),
then lets a reader step: first each node's value in topological order, then `root.grad = 1`, then the
backward walk in the engine's firing order. At each firing the node and the edges to its parents light
up, a panel shows the lines `chainrule explain` prints for that firing, and each node shows its gradient
as it is known at that step. Every number comes from explain's `walk`, the code that prints `explain`:
the nodes show it in explain's six digits, and a click on a node shows its `repr`, the engine's float
bit for bit. The page is sized for a lecture: the graph fits the window (never below a readable size;
then it scrolls, and drags), zooms with + and -, and the panel keeps one height, so nothing moves.

Test contract (docs/pages.md): every graph node's <g> carries `data-node` (its name as explain prints
it), `data-value` and `data-grad` (repr of the numbers known at the current step); each is absent until
that number is known.
"""

from __future__ import annotations

import html
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path

from chainrule.engine import Value
from chainrule.runtime.extras import MissingProgramError, require
from chainrule.show import html_page
from chainrule.show.drawing import DOT_MISSING, RANKDIRS, escape_label
from chainrule.show.explain import Walk, walk
from chainrule.show.names import check_root, number

SVG = "http://www.w3.org/2000/svg"
Layout = Callable[[str], bytes]  # DOT text in, SVG out, as `dot -Tsvg` writes it


class Walkthrough:
    """A finished walkthrough page: `.html` is the page, `.save(path)` writes it, and a notebook shows it
    inline (`_repr_html_`: the page in a sandboxed <iframe srcdoc>, where its script may run)."""

    def __init__(self, document: str, height: int) -> None:
        self.html = document
        self.height = height

    def save(self, path: str | Path) -> Path:
        return html_page.write(self.html, path)

    def _repr_html_(self) -> str:
        return html_page.in_iframe(self.html, self.height)


def walkthrough(
    root: Value,
    inputs: Sequence[Value] | None = None,
    title: str | None = None,
    rankdir: str = "LR",
    layout: Layout | None = None,
) -> Walkthrough:
    """The walkthrough page of root's graph (needs the `viz` extra and Graphviz's `dot`, unless `layout`).

    The graph is only read: no backward() runs, no .grad changes. The walk shown starts every leaf's
    gradient at 0, so the gradients at the end are ∂root/∂leaf, what root.backward() gives fresh leaves,
    whatever an earlier backward() left in .grad. `inputs` names whose gradients the last step lists
    (default: every leaf), as in explain. `layout` turns the graph's DOT text into SVG in place of the
    `dot` program (the playground passes Graphviz compiled to WebAssembly).
    """
    check_root(root, "walkthrough")
    the_walk = walk(root, inputs, fresh=True)
    steps = _steps(the_walk, seed=1.0)
    svg, height = _svg(root, the_walk, steps, rankdir, layout or _dot_program)
    title = title if title is not None else f"{the_walk.root}: the forward pass and the backward walk"
    body = _BODY.format(title=html.escape(title), svg=svg)
    data = {"steps": steps, "nodes": [row.name for row in the_walk.nodes], "root": the_walk.root}
    document = html_page.page(
        title, body, html_page.static_text("walkthrough.css"), html_page.static_text("walkthrough.js"), data
    )
    return Walkthrough(document, height + 360)


_BODY = """<header><h1>{title}</h1>
<nav aria-label="steps">
<button id="home" type="button" title="Home">Start</button>
<button id="previous" type="button" title="ArrowLeft">◀ Previous</button>
<button id="play" type="button">▶ Play</button>
<button id="next" type="button" title="ArrowRight">Next ▶</button>
<button id="end" type="button" title="End">End</button>
<span id="counter" aria-live="polite"></span>
<span class="zoom"><button id="zoom-out" type="button" title="-">−</button>
<button id="fit" type="button" title="0">Fit</button>
<button id="zoom-in" type="button" title="+">+</button></span>
</nav>
<section id="panel"><p id="caption"></p><pre id="lines"></pre><p id="detail"></p></section>
</header>
<main id="graph">{svg}</main>
<footer>Keys: ← → step, Home / End jump, Space plays, + / − zoom, 0 fits; drag to pan. The nodes and the
panel print numbers as <code>chainrule explain</code> does; click a node for its exact value and gradient
(Python's repr of the engine's float).</footer>"""


def _known(name: str, x: float) -> list[str]:
    """A number a step makes known: [node, repr (the exact float), the six digits explain prints]."""
    return [name, repr(x), number(x)]


def _steps(the_walk: Walk, seed: float) -> list[dict]:
    """What each step shows: a caption, the panel's lines, the node it is about, and the numbers it makes
    known ([name, repr, short] triples, in order). Step 0 is the bare graph; the page shows step k by
    applying steps 1..k to it."""
    root, rows = the_walk.root, the_walk.nodes
    forward = the_walk.forward_lines()
    header, forward = forward[0], forward[1:]
    steps: list[dict] = [
        {"caption": "The graph, before anything is computed.", "lines": [], "focus": None, "parents": []}
    ]
    for row, line in zip(rows, forward):
        what = "an input" if row.computed_as == "input" else "a constant" if not row.op else row.computed_as
        steps.append(
            {
                "caption": f"Forward: {row.name} = {what} = {number(row.value)}",
                "lines": [header, line],
                "focus": row.name,
                "parents": list(row.parents),
                "values": [_known(row.name, row.value)],
            }
        )
    steps.append(
        {
            "caption": f"Backward: the walk starts at {root} with ∂{root}/∂{root} = 1.",
            "lines": [f"  {root}.grad = 1 (∂{root}/∂{root})"],
            "focus": root,
            "parents": [],
            "grads": [_known(root, seed)],
        }
    )
    backward_header, *table = the_walk.walk_lines()  # explain's backward table: one row per share
    for firing in the_walk.firings:
        receivers = ", ".join(dict.fromkeys(share.parent for share in firing.shares))
        steps.append(
            {
                "caption": f"Backward: {firing.node} fires with grad {number(firing.grad_in)}; "
                f"it sends ∂{firing.node}/∂parent × grad to {receivers}.",
                "lines": [backward_header, *table[: len(firing.shares)]],
                "focus": firing.node,
                "parents": [share.parent for share in firing.shares],
                "grads": [_known(share.parent, share.after) for share in firing.shares],
            }
        )
        table = table[len(firing.shares) :]
    gradients = [f"∂{root}/∂{name} = {number(grad)}" for name, grad in the_walk.gradients.items()]
    steps.append(
        {
            "caption": f"Done: ∂{root}/∂input for each input, what backward() leaves in fresh leaves' .grad.",
            "lines": [f"Gradients of {root}:", *_columns(gradients)] if gradients else [],
            "focus": None,
            "parents": list(the_walk.gradients),
        }
    )
    return steps


def _columns(cells: list[str], per_line: int = 3) -> list[str]:
    """The gradients, a few to a line (a lecture's graph has many inputs, and the panel stays short)."""
    per_line = 1 if len(cells) <= 4 else per_line
    width = max(len(cell) for cell in cells)
    rows = [cells[i : i + per_line] for i in range(0, len(cells), per_line)]
    return ["  " + "   ".join(cell.ljust(width) for cell in row).rstrip() for row in rows]


def _svg(root: Value, the_walk: Walk, steps: list[dict], rankdir: str, layout: Layout) -> tuple[str, int]:
    """The graph laid out (by Graphviz's dot, or `layout`), made addressable: node <g>s get data-node,
    and each edge gets data-of (the name of the node it goes into), so the script can light a step up.

    One record per Value: its name and how it was computed (`n3 = n1 * n2`), its value, its gradient; no
    separate node for the op (as the drawing has), so a lecture's graph is half as wide."""
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    ids = {row.name: f"v{i}" for i, row in enumerate(the_walk.nodes)}
    name_of = {node_id: name for name, node_id in ids.items()}
    widest = _widest_texts(the_walk, steps)
    lines = [
        "digraph {",
        f'\tgraph [rankdir="{rankdir}" bgcolor="transparent" ranksep="0.3" nodesep="0.12"]',
        '\tnode [shape="record" fontname="Courier" fontsize="12" margin="0.06,0.02"]',
        '\tedge [arrowsize="0.7"]',
    ]
    for row in the_walk.nodes:  # three fields, wide enough for the longest number each will show
        heading = row.name if not row.op else f"{row.name} = {row.computed_as}"
        label = " | ".join(escape_label(field) for field in (heading, *widest[row.name]))
        lines.append(f'\t{ids[row.name]} [id="{ids[row.name]}" label="{label}"]')
    for row in the_walk.nodes:
        for k, parent in enumerate(row.parents):
            tail, head = ids[parent], ids[row.name]
            lines.append(f'\t{tail} -> {head} [id="{tail}-{head}-{k}"]')
    lines.append("}")
    return _addressable(layout("\n".join(lines) + "\n"), name_of)


def _dot_program(text: str) -> bytes:
    """DOT text laid out as SVG by Graphviz's `dot` program, through the graphviz package."""
    graphviz = require("graphviz", "viz", "the walkthrough page")
    try:
        return graphviz.pipe("dot", "svg", text.encode("utf-8"))
    except graphviz.ExecutableNotFound:
        raise MissingProgramError(DOT_MISSING) from None


def _widest_texts(the_walk: Walk, steps: list[dict]) -> dict[str, tuple[str, str]]:
    """Per node, the longest value and gradient text it will show, so dot sizes the record to hold it."""
    grads: dict[str, list[str]] = {row.name: [] for row in the_walk.nodes}
    for step in steps:
        for name, _, text in step.get("grads", []):
            grads[name].append(text)
    return {
        row.name: (f"data {number(row.value)}", "grad " + max(grads[row.name] or ["?"], key=len))
        for row in the_walk.nodes
    }


def _addressable(raw: bytes, name_of: dict[str, str]) -> tuple[str, int]:
    """dot's SVG with ids turned into data attributes, titles that name nodes, and its size in CSS pixels."""
    ET.register_namespace("", SVG)
    svg = ET.fromstring(raw)
    width, height = (
        math.ceil(float(svg.get(side, "100pt").removesuffix("pt")) * 4 / 3) for side in ("width", "height")
    )
    for element in list(svg.iter()):
        for child in list(element):
            if child.tag == f"{{{SVG}}}title":
                element.remove(child)
    for group in svg.iter(f"{{{SVG}}}g"):
        node_id = group.get("id", "")
        group.attrib.pop("id", None)
        if node_id in name_of:
            group.set("data-node", name_of[node_id])
            *name_lines, value, grad = group.findall(f"{{{SVG}}}text")  # a label may run over lines
            for text, role in ((value, "value"), (grad, "grad"), *((line, "name") for line in name_lines)):
                text.set("class", role)
            title = ET.SubElement(group, f"{{{SVG}}}title")
            title.text = name_of[node_id]
        elif node_id.count("-") == 2:  # an edge, parent -> node
            tail, head, _ = node_id.split("-")
            group.set("data-of", name_of[head])
            group.set("data-from", name_of[tail])
    svg.set("width", str(width))  # points to CSS pixels: the size dot meant
    svg.set("height", str(height))
    svg.set("role", "img")
    return ET.tostring(svg, encoding="unicode"), height
