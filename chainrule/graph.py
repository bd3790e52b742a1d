"""Reading a finished graph: its nodes in the engine's order, and short names a person can follow.

Only reads what every Value exposes (`_prev`, `_op`, `data`, `grad`, `label`); it never runs a closure.
The order is the engine's own `topological_order`, re-exported here for the readers of a graph.
"""

from __future__ import annotations

from chainrule.engine import Value, topological_order

__all__ = ["number", "short_names", "topological_order"]


def short_names(order: list[Value], root: Value) -> dict[Value, str]:
    """A distinct short name per node: its label if it has one, `out` for the root, n1, n2, … otherwise.

    A label used by several nodes gets #2, #3, … after the first.
    """
    taken = {node.label for node in order if node.label}
    names: dict[Value, str] = {}
    seen: dict[str, int] = {}
    interior = 0
    for node in order:
        if node.label:
            seen[node.label] = seen.get(node.label, 0) + 1
            names[node] = node.label if seen[node.label] == 1 else f"{node.label}#{seen[node.label]}"
            continue
        if node is root and "out" not in taken:
            names[node] = "out"
            continue
        interior += 1
        while f"n{interior}" in taken:
            interior += 1
        names[node] = f"n{interior}"
    return names


def number(x: float) -> str:
    """A float in six significant digits: short enough to read, and the same text wherever it appears."""
    return f"{x:.6g}"
