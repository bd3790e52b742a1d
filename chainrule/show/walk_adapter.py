"""TEMPORARY: the structured walk of `chainrule.show.explain` (issue 8's contract), over today's explain.

Replaced by `chainrule.show.explain.walk` once that lands; only the walkthrough page imports this.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from chainrule.engine import Value
from chainrule.show import explain as _explain
from chainrule.show.names import number, short_names, topological_order


@dataclass(frozen=True)
class NodeRow:
    name: str
    computed_as: str
    value: float
    parents: tuple[str, ...]
    op: str  # "" for a leaf


@dataclass(frozen=True)
class Share:
    parent: str
    formula: str
    local: float
    adds: float
    before: float
    after: float


@dataclass(frozen=True)
class Firing:
    node: str
    grad_in: float
    shares: tuple[Share, ...]


@dataclass(frozen=True)
class Walk:
    root: str
    nodes: tuple[NodeRow, ...]
    firings: tuple[Firing, ...]
    gradients: dict[str, float]

    def forward_lines(self) -> list[str]:
        rows = [["node", "computed as", "value"]]
        rows += [[row.name, row.computed_as, number(row.value)] for row in self.nodes]
        return _explain._table(rows)

    def _walk_rows(self) -> list[list[list[str]]]:
        groups = []
        for firing in self.firings:
            rows = []
            for i, share in enumerate(firing.shares):
                local = number(share.local)
                local = local if share.formula == local else f"{share.formula} = {local}"
                sign = "-" if math.copysign(1.0, share.adds) < 0 else "+"
                running = f"{number(share.before)} {sign} {number(abs(share.adds))} = {number(share.after)}"
                fires = [firing.node, number(firing.grad_in)] if i == 0 else ["", ""]
                rows.append([*fires, share.parent, local, number(share.adds), running])
            groups.append(rows)
        return groups

    def firing_lines(self, k: int) -> list[str]:
        header = [["fires", "grad in", "parent", "∂fires/∂parent", "adds", "parent's grad so far"]]
        groups = self._walk_rows()
        lines = _explain._table(header + [row for group in groups for row in group])
        start = 1 + sum(len(group) for group in groups[:k])
        return lines[start : start + len(groups[k])]


def walk(root: Value, inputs: Sequence[Value] | None = None) -> Walk:
    order = topological_order(root)
    names = short_names(order, root)
    inputs = [node for node in order if not node._prev] if inputs is None else list(inputs)
    if any(node not in names for node in inputs):
        raise ValueError("every input given to explain must be a node of the graph behind root")
    unknown = sorted({node._op for node in order if node._prev and not _explain._known(node)})
    if unknown:
        raise ValueError(f"explain knows no local derivative for the op(s) {', '.join(map(repr, unknown))}")
    input_set = set(inputs)
    rows = tuple(
        NodeRow(
            names[node],
            _explain._formula(node, names, input_set),
            node.data,
            tuple(names[p] for p in node._prev),
            node._op if node._prev else "",
        )
        for node in order
    )
    grads = {node: (node.grad if not node._prev else 0.0) for node in order}
    grads[root] += 1.0
    firings = []
    for node in reversed(order):
        if not node._prev:
            continue
        parent_names = [names[parent] for parent in node._prev]
        raw = _explain._rule(node)(node, parent_names, names[node], grads[node])
        shares = []
        for parent, share in zip(node._prev, raw):
            before = grads[parent]
            grads[parent] = before + share.adds
            shares.append(Share(names[parent], share.formula, share.local, share.adds, before, grads[parent]))
        firings.append(Firing(names[node], grads[node], tuple(shares)))
    gradients = {names[node]: grads[node] for node in inputs}
    return Walk(names[root], rows, tuple(firings), gradients)
