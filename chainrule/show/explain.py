"""The chain rule, narrated: the forward pass, then the backward walk node by node, as the engine runs it.

Each op's local derivative is restated here from the node's `_op` and `data` (the closures are never
called), with the engine's own arithmetic, so the sums printed are the engine's to the last bit.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO

from chainrule.engine import Value
from chainrule.floatmath import exponent_slope, power_slope
from chainrule.show.names import number, number_exponent, short_names, topological_order

_BINARY = {"+", "-", "*", "/", "**"}


@dataclass(frozen=True)
class Share:
    """What one parent gets when a node fires: ∂node/∂parent (as a formula and a number) times grad."""

    formula: str
    local: float
    adds: float


Rule = Callable[[Value, Sequence[str], str, float], list[Share]]


def _add(node: Value, names: Sequence[str], out: str, grad: float) -> list[Share]:
    return [Share("1", 1.0, grad), Share("1", 1.0, grad)]  # d(a+b)/da = d(a+b)/db = 1


def _sub(node: Value, names: Sequence[str], out: str, grad: float) -> list[Share]:
    return [Share("1", 1.0, grad), Share("-1", -1.0, -grad)]  # d(a-b)/da = 1, d(a-b)/db = -1


def _mul(node: Value, names: Sequence[str], out: str, grad: float) -> list[Share]:
    a, b = (parent.data for parent in node._prev)
    return [Share(names[1], b, b * grad), Share(names[0], a, a * grad)]  # d(ab)/da = b, d(ab)/db = a


def _div(node: Value, names: Sequence[str], out: str, grad: float) -> list[Share]:
    a, b = (parent.data for parent in node._prev)
    return [  # d(a/b)/da = 1/b, d(a/b)/db = -a/b²
        Share(f"1/{names[1]}", 1 / b, grad / b),
        Share(f"-{names[0]}/{names[1]}²", -(a / b / b), -(grad * (a / b / b))),
    ]


def _pow_number(node: Value, names: Sequence[str], out: str, grad: float) -> list[Share]:
    x, n = node._prev[0].data, number_exponent(node)
    slope = power_slope(x, n)  # d(x^n)/dx = n·x^(n-1)
    formula = f"{n:g}·{names[0]}" if n == 2 else f"{n:g}·{names[0]}^{n - 1:g}"
    return [Share(formula, slope, slope * grad)]


def _pow_value(node: Value, names: Sequence[str], out: str, grad: float) -> list[Share]:
    a, b = (parent.data for parent in node._prev)
    to_base, to_exponent = power_slope(a, b), exponent_slope(a, node.data)
    return [  # d(a^b)/da = b·a^(b-1), d(a^b)/db = a^b·ln a
        Share(f"{names[1]}·{names[0]}^({names[1]}-1)", to_base, to_base * grad),
        Share(f"{out}·ln {names[0]}", to_exponent, to_exponent * grad),
    ]


def _unary(formula: Callable[[str, str], str], slope: Callable[[float, float], float]) -> Rule:
    def rule(node: Value, names: Sequence[str], out: str, grad: float) -> list[Share]:
        local = slope(node._prev[0].data, node.data)
        return [Share(formula(names[0], out), local, local * grad)]

    return rule


def _log(node: Value, names: Sequence[str], out: str, grad: float) -> list[Share]:
    x = node._prev[0].data
    return [Share(f"1/{names[0]}", 1 / x, grad / x)]  # d/dx ln x = 1/x


def _relu(node: Value, names: Sequence[str], out: str, grad: float) -> list[Share]:
    on = node._prev[0].data > 0
    return [Share(f"[{names[0]} > 0]", 1.0 if on else 0.0, grad if on else 0.0)]  # d/dx max(0,x) = [x>0]


RULES: dict[str, Rule] = {
    "+": _add,
    "-": _sub,
    "*": _mul,
    "/": _div,
    "**": _pow_value,
    "neg": _unary(lambda x, out: "-1", lambda x, y: -1.0),
    "tanh": _unary(lambda x, out: f"1 - {out}²", lambda x, t: 1 - t * t),
    "exp": _unary(lambda x, out: out, lambda x, e: e),
    "log": _log,
    "relu": _relu,
    "sigmoid": _unary(lambda x, out: f"{out}·(1 - {out})", lambda x, s: s * (1 - s)),
}


def _known(node: Value) -> bool:
    return node._op in RULES or node._op.startswith("**")


def _rule(node: Value) -> Rule:
    return _pow_number if number_exponent(node) is not None else RULES[node._op]


def _formula(node: Value, names: dict[Value, str], inputs: set[Value]) -> str:
    """How a node was computed, in its parents' short names: `a * b`, `tanh(n2)`, `x ** 2`."""
    parents = [names[parent] for parent in node._prev]
    if not parents:
        return "input" if node in inputs else "constant"
    if node._op in _BINARY and len(parents) == 2:
        return f"{parents[0]} {node._op} {parents[1]}"
    if node._op.startswith("**"):
        return f"{parents[0]} ** {node._op[2:]}"
    if node._op == "neg":
        return f"-{parents[0]}"
    return f"{node._op}({', '.join(parents)})"


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Left-aligned columns, two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows
    ]


def _backward_walk(order: list[Value], names: dict[Value, str]) -> tuple[list[list[str]], dict[Value, float]]:
    """The engine's backward pass replayed on floats: one row per (node, parent), and the final gradients."""
    root = order[-1]
    # The engine restarts interior gradients at zero; leaves keep what they had (they accumulate).
    grads = {node: (node.grad if not node._prev else 0.0) for node in order}
    grads[root] += 1.0
    rows = [["fires", "grad in", "parent", "∂fires/∂parent", "adds", "parent's grad so far"]]
    for node in reversed(order):
        if not node._prev:
            continue
        parent_names = [names[parent] for parent in node._prev]
        shares = _rule(node)(node, parent_names, names[node], grads[node])
        for i, (parent, share) in enumerate(zip(node._prev, shares)):
            before = grads[parent]
            grads[parent] = before + share.adds
            local = number(share.local)
            local = local if share.formula == local else f"{share.formula} = {local}"
            sign = "-" if math.copysign(1.0, share.adds) < 0 else "+"
            running = f"{number(before)} {sign} {number(abs(share.adds))} = {number(grads[parent])}"
            fires = [names[node], number(grads[node])] if i == 0 else ["", ""]
            rows.append([*fires, names[parent], local, number(share.adds), running])
    return rows, grads


def explain(
    root: Value, inputs: Sequence[Value] | None = None, file: TextIO | None = None
) -> dict[str, float]:
    """Run root.backward() and print it step by step; return {input name: gradient} as printed.

    Printed: the forward pass in topological order; the backward walk in the engine's order (the node
    that fires, the gradient that arrived, ∂node/∂parent, what that adds, each parent's sum so far);
    then ∂root/∂input for each input (default: every leaf). Leaves accumulate, as with backward().
    """
    out = file or sys.stdout
    order = topological_order(root)
    names = short_names(order, root)
    inputs = [node for node in order if not node._prev] if inputs is None else list(inputs)
    if any(node not in names for node in inputs):
        raise ValueError("every input given to explain must be a node of the graph behind root")
    unknown = sorted({node._op for node in order if node._prev and not _known(node)})
    if unknown:
        raise ValueError(f"explain knows no local derivative for the op(s) {', '.join(map(repr, unknown))}")
    root_name = names[root]
    input_set = set(inputs)

    forward = [["node", "computed as", "value"]]
    forward += [[names[node], _formula(node, names, input_set), number(node.data)] for node in order]
    print("Forward pass, in topological order (every node after all of its parents):", file=out)
    print("\n".join(_table(forward)), file=out)

    walk, grads = _backward_walk(order, names)
    print(file=out)
    print(
        "Backward walk, in reverse topological order (a node fires once everything after it has):", file=out
    )
    print(f"  {root_name}.grad = 1 (∂{root_name}/∂{root_name})", file=out)
    if len(walk) > 1:
        print("\n".join(_table(walk)), file=out)
    root.backward()

    result = {names[node]: grads[node] for node in inputs}
    print(file=out)
    print(f"Gradients of {root_name}:", file=out)
    rows = [[f"∂{root_name}/∂{name}", "=", number(grad)] for name, grad in result.items()]
    print("\n".join(_table(rows)) if rows else "  (no inputs: nothing to report)", file=out)
    return result
