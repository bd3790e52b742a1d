"""Forward mode: the derivative of f along one direction, carried forward through the graph with the inputs.

`jvp(f, primals, tangents)` traces f once with the engine and then walks the graph in topological order,
giving every node a tangent: d(node)/dt when the inputs move as primals + t·tangents. A node's tangent is
the sum over its parents of ∂node/∂parent × the parent's tangent, and the table of local derivatives
already states each ∂node/∂parent × (a number called grad): a partial is linear in grad, so the row's
partial with grad = the parent's tangent is that parent's term. The reverse walk multiplies the same
local derivatives from the other end (root to leaves), which is why one reverse pass gives all n partials
and forward mode needs n passes, one per input direction, but only one for a function of one input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from chainrule import floatmath
from chainrule.derivatives.gradients import as_root
from chainrule.engine import Value, topological_order
from chainrule.grad_mode import enable_grad
from chainrule.rules import FLOATS, rule_of


def terms(node: Value, tangents: Mapping[Value, float]) -> list[float]:
    """Per parent of node: ∂node/∂parent × its tangent (the row's partial with grad = that tangent).

    A parent whose tangent is 0 adds 0, as in JAX: it does not move, whatever the local slope (an
    infinite slope times 0 would be NaN where the reverse pass, which never forms that product, is finite)."""
    rule, data = rule_of(node), [parent.data for parent in node._prev]
    return [
        rule.share(i, FLOATS, data, node._exponent, node.data, tangents[parent]) if tangents[parent] else 0.0
        for i, parent in enumerate(node._prev)
    ]


def summed(shares: list[float]) -> float:
    """0 + the shares, left to right (not sum(): since Python 3.12 it compensates, so other last bits)."""
    total = 0.0
    for share in shares:
        total += share
    return total


def tangent_walk(root: Value, seeds: Mapping[Value, float]) -> dict[Value, float]:
    """Every node's tangent in topological order: a leaf's from seeds (else 0), a node's Σ of its terms."""
    tangents: dict[Value, float] = {}
    for node in topological_order(root):
        tangents[node] = summed(terms(node, tangents)) if node._prev else seeds.get(node, 0.0)
    return tangents


def _numbers(name: str, items: object) -> list[float]:
    if not isinstance(items, tuple | list):
        raise TypeError(
            f"jvp: {name} must be a tuple or list of numbers, one per argument of f, "
            f"got {type(items).__name__}: {items!r} (for one argument write ({items!r},))"
        )
    for i, item in enumerate(items):
        if isinstance(item, Value):
            raise TypeError(f"jvp: {name}[{i}] is a Value: jvp takes plain numbers")
    return [floatmath.real(item, f"jvp: {name}[{i}]") for i, item in enumerate(items)]


def jvp(
    f: Callable[..., Value | float], primals: Sequence[Any], tangents: Sequence[Any]
) -> tuple[float, float]:
    """(f(x), ∇f(x)·v) at x = primals along v = tangents, by one forward walk: JAX's jvp for scalar f.

    `f` is written with Value operations and takes one number per primal; a tangent is the speed at which
    that argument moves. jvp(f, (2.0, 5.0), (1.0, 0.0)) is (f(2, 5), ∂f/∂x1 at (2, 5))."""
    points, directions = _numbers("primals", primals), _numbers("tangents", tangents)
    if len(points) != len(directions):
        raise ValueError(
            f"jvp: {len(points)} primals but {len(directions)} tangents: give one tangent per primal"
        )
    leaves = [Value(x) for x in points]
    with enable_grad():  # the graph is what the walk reads, even inside no_grad()
        out = as_root(f(*leaves), f, "jvp: ")  # a number returned is a constant: its tangent is 0
    return out.data, tangent_walk(out, dict(zip(leaves, directions)))[out]
