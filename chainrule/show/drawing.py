"""The graph as a picture: one record per Value (name, data, grad) and a small node for the op that made it.

`to_dot` writes DOT text with no dependency; `draw` builds a graphviz.Digraph (extra `viz`), which shows
inline in Jupyter; `render` writes SVG or PNG through Graphviz's `dot` program.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chainrule.engine import Value, topological_order
from chainrule.rules import BY_NAME
from chainrule.runtime.extras import MissingProgramError, require
from chainrule.show.names import check_root, short_names

RANKDIRS = ("LR", "RL", "TB", "BT")
DOT_MISSING = (
    "drawing needs Graphviz's `dot` program, which is not on PATH: install the graphviz system package "
    "(apt-get install graphviz on Debian/Ubuntu, brew install graphviz on macOS, or see graphviz.org)"
)

Nodes = list[tuple[str, dict[str, str]]]
Edges = list[tuple[str, str]]


def escape_label(text: str) -> str:
    """Backslash what DOT quoting or a record label would read as syntax: \\ " { } | < >."""
    return "".join("\\" + char if char in '\\"{}|<>' else char for char in text)


def _number(x: float) -> str:
    return f"{x:.4f}" if 1e-4 <= abs(x) < 1e6 or x == 0 else f"{x:.4g}"


def op_label(node: Value) -> str:
    """The op as the picture shows it: its symbol from the table (`+`, `tanh`), `**2` for x ** 2."""
    rule = BY_NAME.get(node._op)
    symbol = rule.symbol if rule else node._op
    return symbol if node._exponent is None else f"{symbol}{node._exponent:g}"


def graph_parts(root: Value, rankdir: str = "LR") -> tuple[dict[str, str], Nodes, Edges]:
    """Graph attributes, nodes (id, attributes) and edges (from, to): parents → op → result.

    Node ids follow the topological order (v0, v1, …; an op node is v3_op), so the text is the same
    from run to run. Labels are escaped already.
    """
    check_root(root, "drawing")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    order = topological_order(root)
    names = short_names(order, root)
    ids = {node: f"v{i}" for i, node in enumerate(order)}
    nodes: Nodes = []
    edges: Edges = []
    for node in order:
        fields = (names[node], f"data {_number(node.data)}", f"grad {_number(node.grad)}")
        label = "{ " + " | ".join(escape_label(field) for field in fields) + " }"
        nodes.append((ids[node], {"shape": "record", "label": label}))
        if node._prev:
            op_id = f"{ids[node]}_op"
            nodes.append((op_id, {"label": escape_label(op_label(node))}))
            edges.append((op_id, ids[node]))
            edges.extend((ids[parent], op_id) for parent in node._prev)
    return {"rankdir": rankdir}, nodes, edges


def _attributes(attributes: dict[str, str]) -> str:
    return " ".join(f'{key}="{value}"' for key, value in attributes.items())


def to_dot(root: Value, rankdir: str = "LR") -> str:
    """The graph behind root as DOT text (the input language of Graphviz); needs nothing installed."""
    graph, nodes, edges = graph_parts(root, rankdir)
    lines = ["digraph {", f"\tgraph [{_attributes(graph)}]"]
    lines += [f"\t{node_id} [{_attributes(attributes)}]" for node_id, attributes in nodes]
    lines += [f"\t{tail} -> {head}" for tail, head in edges]
    return "\n".join([*lines, "}"]) + "\n"


def draw(root: Value, rankdir: str = "LR") -> Any:
    """The graph behind root as a graphviz.Digraph (pip install "chainrule[viz]"); Jupyter shows it inline."""
    graphviz = require("graphviz", "viz", "chainrule.draw")
    graph, nodes, edges = graph_parts(root, rankdir)
    digraph = graphviz.Digraph(graph_attr=graph)
    for node_id, attributes in nodes:
        digraph.node(node_id, **{key: graphviz.nohtml(value) for key, value in attributes.items()})
    for tail, head in edges:
        digraph.edge(tail, head)
    return digraph


def render(root: Value, path: str | Path, rankdir: str = "LR") -> Path:
    """Write the drawing to path, in the format its suffix names (.svg, .png, .pdf): needs Graphviz's dot."""
    path = Path(path)
    graphviz = require("graphviz", "viz", "rendering a graph")
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in graphviz.FORMATS:
        raise ValueError(f"cannot tell the picture format from {path.name!r}: end it in .svg, .png or .pdf")
    try:
        image = draw(root, rankdir).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise MissingProgramError(DOT_MISSING) from None
    path.write_bytes(image)
    return path
