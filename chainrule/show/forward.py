"""Forward mode, narrated: every node in topological order with its value and its tangent along one input.

`forward_walk(root, wrt)` is the forward trace as data: the tangent of each node is d(node)/d(wrt), built
as the forward pass goes from the tangents of its parents, one chain-rule term per parent (the table's
partial with grad = that parent's tangent, as `chainrule.jvp` computes it). `explain_forward` prints it
the way the forward-mode tables of the literature read (Baydin et al. 2018, table 2):

    ṅ2 = x2·ẋ1 + x1·ẋ2 = 5·1 + 2·0 = 5
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from chainrule.derivatives.forward import summed, terms
from chainrule.engine import Value, topological_order
from chainrule.rules import rule_of
from chainrule.show.explain import formula, symbols, table, walk
from chainrule.show.names import number, short_names

HEADER = ("node", "computed as", "value", "tangent", "= Σ ∂node/∂parent · parent's tangent")


@dataclass(frozen=True)
class Term:
    """One parent's share of a node's tangent: ∂node/∂parent (a formula and a number) × its tangent."""

    parent: str | None  # None for a constant, whose tangent is 0 by definition
    formula: str
    local: float
    tangent: float  # the parent's
    adds: float


@dataclass(frozen=True)
class TangentRow:
    """One node of the forward trace: its name, how it was computed, its value, its tangent and terms."""

    name: str
    computed_as: str
    value: float
    tangent: float
    terms: tuple[Term, ...]  # empty for a leaf
    constant: bool  # a leaf that is not an input: its tangent is 0 by definition


@dataclass(frozen=True)
class ForwardTrace:
    """The forward pass of one graph with every node's tangent along the input `wrt`."""

    root: str
    wrt: str
    inputs: tuple[str, ...]
    rows: tuple[TangentRow, ...]  # topological order

    @property
    def derivative(self) -> float:
        """d(root)/d(wrt): the root's tangent."""
        return self.rows[-1].tangent

    def lines(self) -> list[str]:
        """The forward trace as a table, header first, as explain --forward prints it."""
        cells = [list(HEADER)]
        for row in self.rows:
            cells.append([row.name, row.computed_as, number(row.value), number(row.tangent), _chain(row)])
        return table(cells)


def dotted(name: str) -> str:
    """The tangent of a node as the literature writes it: a dot over the name's first letter (ẋ1, ṅ2)."""
    return unicodedata.normalize("NFC", name[0] + "\u0307") + name[1:]  # ẋ as one character where it is one


def _chain(row: TangentRow) -> str:
    """`x2·ẋ1 + x1·ẋ2 = 5·1 + 2·0`: the terms of the parents that move (a constant's tangent is 0)."""
    if row.constant or not row.terms:
        return ""
    shown = [term for term in row.terms if term.parent is not None]
    symbols = [_product(term.formula, dotted(term.parent or "")) for term in shown]
    values = [_product(number(term.local), number(term.tangent)) for term in shown]
    return f"{_sum(symbols) or '0'} = {_sum(values) or '0'}"


def _product(factor: str, tangent: str) -> str:
    if factor == "1":
        return tangent
    if factor == "-1":
        return "-" + tangent
    bracketed = " " in factor and not (factor.startswith("[") and factor.endswith("]"))
    return (f"({factor})" if bracketed else factor) + "·" + (f"({tangent})" if tangent[0] == "-" else tangent)


def _sum(parts: list[str]) -> str:
    text = " + ".join(parts)
    return text.replace("+ -", "- ")


def forward_walk(root: Value, wrt: Value, inputs: Sequence[Value] | None = None) -> ForwardTrace:
    """The forward trace of the graph behind root with tangents d(node)/d(wrt): wrt's is 1, other leaves' 0.

    Names and "computed as" are explain's (its walk), so the two traces read side by side."""
    order = topological_order(root)
    names = short_names(order, root)
    inputs = [node for node in order if not node._prev] if inputs is None else list(inputs)
    if wrt not in inputs:
        raise ValueError(
            f"forward mode needs wrt to be one of the inputs ({', '.join(names[n] for n in inputs)})"
        )
    nodes = walk(root, inputs).nodes  # raises on an input outside the graph and on an op with no row
    tangents: dict[Value, float] = {}
    rows = []
    for node, shown in zip(order, nodes):
        if not node._prev:
            tangents[node] = 1.0 if node is wrt else 0.0
            row = TangentRow(shown.name, shown.computed_as, node.data, tangents[node], (), node not in inputs)
            rows.append(row)
            continue
        rule, shown_as, adds = rule_of(node), symbols(node, names), terms(node, tangents)
        locals_ = terms(node, dict.fromkeys(node._prev, 1.0))  # ∂node/∂parent: the partials with grad = 1
        parts = []
        for i, parent in enumerate(node._prev):
            label = names[parent] if parent._prev or parent in inputs else None
            parts.append(Term(label, formula(rule, i, shown_as), locals_[i], tangents[parent], adds[i]))
        tangents[node] = total = summed(adds)
        rows.append(TangentRow(shown.name, shown.computed_as, node.data, total, tuple(parts), False))
    input_names = tuple(names[node] for node in inputs)
    return ForwardTrace(names[root], names[wrt], input_names, tuple(rows))


def explain_forward(
    root: Value, wrt: Value, inputs: Sequence[Value] | None = None, file: TextIO | None = None
) -> float:
    """Print the forward trace of root with tangents along wrt; return d(root)/d(wrt) as printed."""
    out = file or sys.stdout
    trace = forward_walk(root, wrt, inputs)
    seeds = ", ".join(f"{dotted(name)} = {1 if name == trace.wrt else 0}" for name in trace.inputs)
    print(f"Forward mode: tangents d(node)/d{trace.wrt} ({seeds}), in topological order:", file=out)
    print("\n".join(trace.lines()), file=out)
    print(file=out)
    print(f"∂{trace.root}/∂{trace.wrt} = {dotted(trace.root)} = {number(trace.derivative)}", file=out)
    count = len(trace.inputs)
    print(
        f"(forward mode: one pass per input, {count} for every ∂{trace.root}; reverse: one walk for all)",
        file=out,
    )
    return trace.derivative
