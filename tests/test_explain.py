"""explain: the backward walk it prints is the engine's, to the last bit, for several expressions."""

from __future__ import annotations

import io
import random
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from chainrule import Value, explain
from chainrule.cli import main
from chainrule.engine import topological_order
from chainrule.show.names import number, short_names


def _graphs() -> list[tuple[str, Callable[[], tuple[Value, list[Value]]]]]:
    def neuron():
        a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
        return (a * b + c).tanh(), [a, b, c]

    def shared():  # x feeds four children: its gradient is a sum of four contributions
        x, y = Value(1.5, label="x"), Value(0.2, label="y")
        return x * x + x / y - 2 * y**3 + x.sigmoid() * (-y).exp() + x.relu().log() + x**y, [x, y]

    def deep():
        w = Value(0.3, label="w")
        h = w
        for _ in range(6):
            h = (h * w + 0.5).tanh() - h
        return h, [w]

    def unlabelled():  # no labels at all: every leaf is named for the reader
        p, q = Value(-0.7), Value(1.1)
        return (p * q).exp() / (q - p) + (p - q) ** 2, [p, q]

    return [("neuron", neuron), ("shared", shared), ("deep", deep), ("unlabelled", unlabelled)]


@pytest.mark.parametrize("build", [build for _, build in _graphs()], ids=[name for name, _ in _graphs()])
def test_explained_gradients_are_the_engines(build):
    root, leaves = build()
    reference_root, reference_leaves = build()
    reference_root.backward()
    out = io.StringIO()
    returned = explain(root, leaves, file=out)
    text = out.getvalue()
    engine = [leaf.grad for leaf in reference_leaves]
    assert list(returned.values()) == engine  # bit for bit
    assert [leaf.grad for leaf in leaves] == engine  # explain ran backward() on the graph it was given
    final = text.split("Gradients of")[1].splitlines()[1:]
    assert [line.split("=")[-1].strip() for line in final] == [number(g) for g in engine]
    # The last running sum printed for each leaf is its gradient.
    for name, grad in returned.items():
        sums = [
            line for line in text.splitlines() if re.search(rf"  {re.escape(name)}  ", line) and " = " in line
        ]
        assert sums and sums[-1].rstrip().endswith(f"= {number(grad)}")


def _walk(text: str) -> list[dict[str, str]]:
    """The backward walk's rows, cut at the columns its header sets (so misaligned rows would show)."""
    lines = text.split("Backward walk")[1].split("\n\n")[0].splitlines()[2:]
    header = lines[0]
    titles = ["fires", "grad in", "parent", "∂fires/∂parent", "adds", "parent's grad so far"]
    starts = [header.index(title) for title in titles]
    ends = [*starts[1:], None]
    rows = []
    for line in lines[1:]:
        assert all(start == 0 or line[start - 2 : start] == "  " for start in starts)  # cells don't run over
        rows.append({t: line[a:b].strip() for t, a, b in zip(titles, starts, ends)})
    return rows


def test_the_sum_builds_up_where_a_node_has_several_children():
    x = Value(3.0, label="x")
    out = io.StringIO()
    explain(x * x + x, [x], file=out)  # x receives three contributions: 1, then 3 and 3
    rows = [row for row in _walk(out.getvalue()) if row["parent"] == "x"]
    assert [row["parent's grad so far"] for row in rows] == ["0 + 1 = 1", "1 + 3 = 4", "4 + 3 = 7"]
    assert [row["∂fires/∂parent"] for row in rows] == ["1", "x = 3", "x = 3"]
    assert x.grad == 7.0


def test_output_is_for_a_person():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    out = io.StringIO()
    explain((a * b).tanh() + a, [a, b], file=out)
    text = out.getvalue()
    assert "0x" not in text and "Value(" not in text  # no object ids, no reprs
    forward = text.split("\n\n")[0].splitlines()[2:]
    assert [line.split(None, 1) for line in forward] == [
        ["a", "input        2"],
        ["b", "input        -3"],
        ["n1", "a * b        -6"],
        ["n2", f"tanh(n1)     {number((a * b).tanh().data)}"],
        ["out", f"n2 + a       {number((a * b).tanh().data + 2)}"],
    ]
    rows = _walk(text)
    assert [(row["fires"], row["parent"]) for row in rows] == [
        ("out", "n2"),
        ("", "a"),
        ("n2", "n1"),
        ("n1", "a"),
        ("", "b"),
    ]
    assert rows[2]["∂fires/∂parent"].startswith("1 - n2² = ")
    assert rows[3]["parent's grad so far"].startswith("1 - ")  # a's second contribution is negative


def test_a_second_explain_shows_the_derivative_and_says_the_leaves_accumulated():
    x = Value(2.0, label="x")
    first_out, second_out = io.StringIO(), io.StringIO()
    first = explain(x * x, [x], file=first_out)
    after_first = x.grad
    second = explain(x * x, [x], file=second_out)
    reference = Value(2.0)
    (reference * reference).backward()
    assert first == second == {"x": reference.grad}  # ∂root/∂x both times, whatever x.grad held
    assert after_first == reference.grad and x.grad == 2 * reference.grad  # backward() accumulated
    assert "Note:" not in first_out.getvalue()  # fresh leaves: .grad is the derivative printed
    note = second_out.getvalue().split("Note: ", 1)[1]
    assert f"x.grad = {number(x.grad)}" in note and "zero_grad()" in note


@pytest.mark.parametrize("build", [build for _, build in _graphs()], ids=[name for name, _ in _graphs()])
def test_explain_after_backward_prints_the_derivatives_not_the_accumulated_grads(build):
    root, leaves = build()
    root.backward()  # as a learner does before calling explain(root)
    reference_root, reference_leaves = build()
    reference_root.backward()
    out = io.StringIO()
    returned = explain(root, leaves, file=out)
    assert list(returned.values()) == [leaf.grad for leaf in reference_leaves]
    final = out.getvalue().split("Gradients of")[1].split("\n\n")[0].splitlines()[1:]
    assert [line.split("=")[-1].strip() for line in final] == [number(r.grad) for r in reference_leaves]
    held = [leaf for leaf, ref in zip(leaves, reference_leaves) if ref.grad != 0.0]
    assert all(
        f"{name}.grad = {number(leaf.grad)}" in out.getvalue()
        for name, leaf in zip(returned, leaves)
        if leaf in held
    )


def test_an_unknown_op_is_named():
    x = Value(1.0, label="x")
    odd = Value(2.0, (x,), "cube?")
    out = io.StringIO()
    with pytest.raises(ValueError, match="cube"):
        explain(odd, file=out)
    assert out.getvalue() == "" and x.grad == 0.0  # refused before printing or running backward
    with pytest.raises(ValueError, match="node of the graph"):
        explain(x * 2, [Value(1.0)], file=out)


def test_explain_command_prints_the_engines_gradients(capsys, tmp_path, dot):
    svg = tmp_path / "graph.svg"
    status = main(["explain", "tanh(a*b + c) * a", "--at", "a=2", "b=-3", "c=6.5", "--svg", str(svg)])
    out = capsys.readouterr().out
    assert status == 0
    a, b, c = Value(2.0), Value(-3.0), Value(6.5)
    ((a * b + c).tanh() * a).backward()
    for name, leaf in zip("abc", (a, b, c)):
        assert re.search(rf"∂f/∂{name}\s+=\s+{re.escape(number(leaf.grad))}$", out, re.MULTILINE)
    assert out.startswith("f = tanh(a*b + c) * a   at a = 2, b = -3, c = 6.5\n")
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()


def test_bit_for_bit_over_many_random_points():
    """Rounding differs for (1/b)·g and g/b on most inputs: a restated derivative must copy the engine's."""
    rng = random.Random(4)

    def build(u: float, v: float) -> tuple[Value, list[Value]]:
        x, y = Value(u, label="x"), Value(v, label="y")
        z = x / y + (x * y).sigmoid() / (y * y + 1) - (x - y).tanh() * y.exp()
        return z**3 + x ** (y * y) + (z * x).relu() + (y * y + 0.1).log() / x + -z, [x, y]

    for _ in range(50):
        u, v = rng.uniform(0.2, 3.0), rng.uniform(-2.0, 2.0)
        root, leaves = build(u, v)
        reference_root, reference_leaves = build(u, v)
        reference_root.backward()
        assert list(explain(root, leaves, file=io.StringIO()).values()) == [
            leaf.grad for leaf in reference_leaves
        ]


def test_the_walk_order_is_the_engines():
    """Closures that record when they fire: the engine fires in reversed(topological_order)."""
    fired: list[Value] = []

    def recording(parents: tuple[Value, ...]) -> Value:
        def _backward(grad: float) -> None:
            fired.append(node)

        node = Value(0.0, parents, "?", _backward)
        return node

    rng = random.Random(7)
    nodes = [Value(float(i)) for i in range(4)]
    for _ in range(30):  # a random DAG with shared parents, so the order is not trivial
        nodes.append(recording(tuple(rng.sample(nodes, rng.choice([1, 2])))))
    root = recording(tuple(nodes[-6:]))
    root.backward()
    interior = [node for node in reversed(topological_order(root)) if node._prev]
    assert fired == interior


@pytest.mark.parametrize(
    ("argv", "last_line"),
    [(["2*3"], "  (no inputs: nothing to report)"), (["x", "--at", "x=2"], "  ∂x/∂x  =  1")],
)
def test_explain_command_on_graphs_without_a_walk(capsys, argv, last_line):
    assert main(["explain", *argv]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == last_line


PAGE = (Path(__file__).resolve().parents[1] / "docs" / "explain.md").read_text()


@pytest.mark.parametrize("command", ["explain", "grad"])
def test_the_page_shows_what_the_commands_print(capsys, command):
    block = PAGE.split(f"$ chainrule {command} ", 1)[1].split("```", 1)[0]
    command_line, shown = block.split("\n", 1)
    argv = shlex.split(command_line)
    assert main([command, *argv]) == 0
    assert capsys.readouterr().out == shown


def test_the_pages_explain_after_backward_example_prints_the_note():
    code = PAGE.split("## From Python", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    a, b = Value(2.0), Value(-3.0)
    (a * b).tanh().backward()
    assert f"∂out/∂a  =  {number(a.grad)}" in printed  # the derivative, not the doubled .grad
    assert f"a.grad = {number(2 * a.grad)}" in printed.split("Note: ", 1)[1]


def test_names_stay_distinct_when_labels_collide_with_made_up_names():
    a, b, c = Value(1.0, label="x"), Value(2.0, label="x"), Value(3.0, label="x#2")
    root = a * b + c + Value(1.0, label="n1")
    order = topological_order(root)
    names = short_names(order, root)
    assert len(set(names.values())) == len(order)
    grads = explain(root, [a, b, c], file=io.StringIO())
    assert sorted(grads.values()) == sorted([a.grad, b.grad, c.grad])
