"""The chain rule, narrated: the forward pass, then the backward walk node by node, as the engine runs it.

`walk(root)` replays the backward pass on floats with the table of local derivatives (the closures are
never called): each op's share for each parent is the row's expression, which is the engine's own
arithmetic, so the sums are the engine's to the last bit. `explain(root)` prints that walk; the
walkthrough page shows the same lines one step at a time.
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from chainrule.engine import Value, topological_order
from chainrule.rules import FLOATS, Rule, rule_of
from chainrule.show import formulas
from chainrule.show.names import check_root, number, short_names

WALK_HEADER = ("fires", "grad in", "parent", "∂fires/∂parent", "adds", "parent's grad so far")
FORWARD_HEADER = ("node", "computed as", "value")
_BACKWARD_TITLE = "Backward walk, in reverse topological order (a node fires once everything after it has):"


@dataclass(frozen=True)
class NodeRow:
    """One node of the forward pass: its name, how it was computed, its value, its parents and op."""

    name: str
    computed_as: str
    value: float
    parents: tuple[str, ...]
    op: str  # "" for a leaf


@dataclass(frozen=True)
class Share:
    """What one parent gets when a node fires: ∂node/∂parent (a formula and a number) times grad."""

    parent: str
    formula: str
    local: float
    adds: float
    before: float
    after: float


@dataclass(frozen=True)
class Firing:
    """One step of the backward walk: the node that fires, the gradient that arrived, its shares."""

    node: str
    grad_in: float
    shares: tuple[Share, ...]


@dataclass(frozen=True)
class Walk:
    """The forward pass and the backward walk of one graph, as explain prints them."""

    root: str
    nodes: tuple[NodeRow, ...]  # topological order
    firings: tuple[Firing, ...]  # the engine's firing order
    gradients: dict[str, float]  # ∂root/∂input, per input name

    def forward_lines(self) -> list[str]:
        """The forward table, header first, as explain prints it."""
        rows = [list(FORWARD_HEADER)] + [[n.name, n.computed_as, number(n.value)] for n in self.nodes]
        return table(rows)

    def walk_lines(self) -> list[str]:
        """The backward table, header first, as explain prints it."""
        rows = [list(WALK_HEADER)]
        for firing in self.firings:
            for i, share in enumerate(firing.shares):
                fires = [firing.node, number(firing.grad_in)] if i == 0 else ["", ""]
                rows.append([*fires, share.parent, _local(share), number(share.adds), _running(share)])
        return table(rows)

    def firing_lines(self, k: int) -> list[str]:
        """The rows of firing k, exactly as they stand in explain's backward table."""
        start = 1 + sum(len(firing.shares) for firing in self.firings[:k])
        return self.walk_lines()[start : start + len(self.firings[k].shares)]


def _local(share: Share) -> str:
    local = number(share.local)
    return local if share.formula == local else f"{share.formula} = {local}"


def _running(share: Share) -> str:
    sign = "-" if math.copysign(1.0, share.adds) < 0 else "+"
    return f"{number(share.before)} {sign} {number(abs(share.adds))} = {number(share.after)}"


def _width(text: str) -> int:
    return sum(1 for char in text if not unicodedata.combining(char))  # the dot of ẋ takes no column


def table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Left-aligned columns, two spaces apart, measured as a terminal shows them."""
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        indent + "  ".join(cell + " " * (width - _width(cell)) for cell, width in zip(row, widths)).rstrip()
        for row in rows
    ]


# --- the table's local derivatives, written for a person -------------------------------------------


def symbols(node: Value, names: dict[Value, str]) -> dict[str, Any]:
    """What a row's variables stand for at this node: its parents' and its own names, and its n."""
    return {"parents": [names[parent] for parent in node._prev], "n": node._exponent, "out": names[node]}


def formula(rule: Rule, position: int, shown: dict[str, Any]) -> str:
    """∂out/∂parent of the row's parent at `position`, in the names a person reads (show/formulas.py)."""
    return formulas.formula(rule, position, shown["parents"], shown["n"], shown["out"])


def computed_as(rule: Rule, shown: dict[str, Any]) -> str:
    """How a node was computed, in its parents' names: `a * b`, `tanh(n2)`, `x ** 2`."""
    parents = shown["parents"]
    names = {"a": parents[0], "b": parents[-1], "n": "" if shown["n"] is None else number(shown["n"])}
    names |= {f"x{i + 1}": name for i, name in enumerate(parents)}
    return re.sub(r"\b(?:[abn]|x\d+)\b", lambda match: names[match.group()], rule.written)


# --- the walk ------------------------------------------------------------------------------------------


def walk(root: Value, inputs: Sequence[Value] | None = None, *, fresh: bool = False) -> Walk:
    """The forward pass and the backward walk of the graph behind root, replayed on floats.

    Gradients start where the engine starts them: interior nodes at zero, leaves at what they hold
    (they accumulate), the root's own plus 1; with fresh=True leaves start at zero too, as fresh leaves
    would (the gradients at the end are then ∂root/∂leaf). root.backward() is not called."""
    check_root(root, "explain")
    order = topological_order(root)
    names = short_names(order, root)
    inputs = [node for node in order if not node._prev] if inputs is None else list(inputs)
    if any(node not in names for node in inputs):
        raise ValueError("every input given to explain must be a node of the graph behind root")
    rules = {node: rule_of(node) for node in order if node._prev}  # refused before anything is printed
    input_set = set(inputs)

    rows = []
    for node in order:
        if node._prev:
            shown = computed_as(rules[node], symbols(node, names))
        else:
            shown = "input" if node in input_set else "constant"
        parents = tuple(names[parent] for parent in node._prev)
        rows.append(NodeRow(names[node], shown, node.data, parents, node._op))

    grads = {node: (node.grad if not node._prev and not fresh else 0.0) for node in order}
    grads[root] += 1.0
    firings = []
    for node in reversed(order):
        if not node._prev:
            continue
        rule, grad = rules[node], grads[node]
        data = [parent.data for parent in node._prev]
        shares = []
        for i, parent in enumerate(node._prev):
            local = rule.share(i, FLOATS, data, node._exponent, node.data, 1.0)
            adds = rule.share(i, FLOATS, data, node._exponent, node.data, grad)
            before = grads[parent]
            grads[parent] = before + adds
            shown = formula(rule, i, symbols(node, names))
            shares.append(Share(names[parent], shown, local, adds, before, grads[parent]))
        firings.append(Firing(names[node], grad, tuple(shares)))
    gradients = {names[node]: grads[node] for node in inputs}
    return Walk(names[root], tuple(rows), tuple(firings), gradients)


def explain(
    root: Value, inputs: Sequence[Value] | None = None, file: TextIO | None = None
) -> dict[str, float]:
    """Print root's forward pass and backward walk, run root.backward(); return {input name: ∂root/∂input}.

    Printed: the forward pass in topological order; the backward walk in the engine's order (the node
    that fires, the gradient that arrived, ∂node/∂parent, what that adds, each parent's sum so far);
    then ∂root/∂input for each input (default: every leaf). The walk starts every leaf at 0, so what it
    shows is the derivative of this root whatever .grad held before. backward() then adds to the leaves,
    as it always does; a leaf whose .grad is not the ∂root/∂leaf printed (it held something) is named.
    """
    out = file or sys.stdout
    replay = walk(root, inputs, fresh=True)
    name = replay.root
    print("Forward pass, in topological order (every node after all of its parents):", file=out)
    print("\n".join(replay.forward_lines()), file=out)
    print(file=out)
    print(_BACKWARD_TITLE, file=out)
    print(f"  {name}.grad = 1 (∂{name}/∂{name})", file=out)
    if replay.firings:
        print("\n".join(replay.walk_lines()), file=out)
    order = topological_order(root)
    held = {node: node.grad for node in order if not node._prev and node.grad != 0.0}
    root.backward()

    print(file=out)
    print(f"Gradients of {name}:", file=out)
    rows = [[f"∂{name}/∂{input_name}", "=", number(grad)] for input_name, grad in replay.gradients.items()]
    print("\n".join(table(rows)) if rows else "  (no inputs: nothing to report)", file=out)
    if held:
        names = short_names(order, root)
        changed = ", ".join(f"{names[leaf]}.grad = {number(leaf.grad)}" for leaf in held)
        print(
            f"\nNote: these leaves held gradients before, and backward() added to them (leaves accumulate),\n"
            f"so their .grad is not the ∂{name}/∂leaf above: {changed}.\n"
            "Zero them first (model.zero_grad(), or leaf.grad = 0.0) to find the derivatives in .grad.",
            file=out,
        )
    return dict(replay.gradients)
