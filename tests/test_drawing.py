"""Drawing: DOT text with every node and edge, a Digraph with the same content, an SVG from Graphviz's dot."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from chainrule import Value, draw, to_dot
from chainrule.engine import topological_order
from chainrule.runtime.extras import MissingExtraError, MissingProgramError
from chainrule.show.drawing import graph_parts, render


def _graph() -> tuple[Value, list[Value]]:
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    n = a * b
    y = (n + c).tanh() * a  # a has two children
    y.backward()
    return y, [a, b, c]


def _parse(dot_text: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Node id → label, and the edges, read back from DOT text (the subset this project writes)."""
    found = re.findall(r'^\s*(\w+) \[.*?label=(?:"((?:[^"\\]|\\.)*)"|(\w+))', dot_text, re.MULTILINE)
    labels = {node_id: quoted or bare for node_id, quoted, bare in found}
    edges = re.findall(r"^\s*(\w+) -> (\w+)$", dot_text, re.MULTILINE)
    return labels, edges


def test_dot_has_every_node_and_edge_with_values():
    y, _ = _graph()
    labels, edges = _parse(to_dot(y))
    nodes = topological_order(y)
    records = {k: v for k, v in labels.items() if not k.endswith("_op")}
    ops = {k: v for k, v in labels.items() if k.endswith("_op")}
    assert len(records) == len(nodes)
    assert sorted(ops.values()) == sorted(node._op for node in nodes if node._prev)
    for node in nodes:
        label = f"data {node.data:.4f} | grad {node.grad:.4f}"
        assert sum(label in text for text in records.values()) >= 1
    assert any(text.startswith("{ a | data 2.0000 | grad ") for text in records.values())
    # Each operand is an edge into its op node, each op node an edge into its result.
    expected = sum(len(node._prev) + 1 for node in nodes if node._prev)
    assert len(edges) == expected
    ids = set(labels)
    assert all(tail in ids and head in ids for tail, head in edges)
    into_ops = [head for _, head in edges if head.endswith("_op")]
    assert sorted(into_ops.count(op_id) for op_id in ops) == sorted(len(n._prev) for n in nodes if n._prev)


def test_digraph_says_the_same_as_to_dot():
    y, _ = _graph()
    digraph = draw(y, rankdir="TB")
    assert type(digraph).__name__ == "Digraph"
    assert _parse(digraph.source) == _parse(to_dot(y, rankdir="TB"))
    assert "rankdir=TB" in digraph.source and 'rankdir="TB"' in to_dot(y, rankdir="TB")
    assert hasattr(digraph, "_repr_mimebundle_")  # what makes Jupyter show it inline


def test_labels_with_dot_syntax_are_escaped(tmp_path, dot):
    x = Value(1.0, label='x{|"<>\\')
    y = x * 2
    source = to_dot(y)
    result = subprocess.run([dot, "-Tsvg"], input=source, capture_output=True, text=True, check=True)
    texts = [el.text for el in ET.fromstring(result.stdout).iter() if el.tag.endswith("text")]
    assert 'x{|"<>\\' in texts


def test_render_writes_a_real_svg(tmp_path, dot):
    y, _ = _graph()
    path = render(y, tmp_path / "graph.svg")
    svg = ET.parse(path).getroot()
    assert svg.tag.endswith("svg")
    texts = [el.text for el in svg.iter() if el.tag.endswith("text")]
    for word in ("a", "b", "c", "out", "tanh", "*", "+", "data 2.0000", f"grad {y.grad:.4f}"):
        assert word in texts
    assert len([el for el in svg.iter() if el.get("class") == "node"]) == len(_parse(to_dot(y))[0])


def test_rendering_without_dot_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no dot on PATH
    y, _ = _graph()
    with pytest.raises(MissingProgramError, match="apt-get install graphviz"):
        render(y, tmp_path / "graph.svg")
    assert not (tmp_path / "graph.svg").exists()


def test_draw_without_the_extra_names_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz now raises ImportError
    with pytest.raises(MissingExtraError, match=re.escape('pip install "chainrule[viz]"')):
        draw(Value(1.0))
    assert "digraph" in to_dot(Value(1.0))  # to_dot needs nothing


def test_bad_rankdir_and_format_are_refused(tmp_path):
    with pytest.raises(ValueError, match="rankdir"):
        to_dot(Value(1.0), rankdir="sideways")
    with pytest.raises(ValueError, match=r"\.svg"):
        render(Value(1.0), tmp_path / "graph.txt")


def test_op_labels_come_from_the_table_with_the_exponent_shown():
    x, y = Value(1.5, label="x"), Value(0.5, label="y")
    root = x**2 + x**y + (-x).tanh()
    _, nodes, _ = graph_parts(root)
    ops = sorted(attributes["label"] for node_id, attributes in nodes if node_id.endswith("_op"))
    assert ops == sorted(["**2", "**", "+", "+", "-", "tanh"])
