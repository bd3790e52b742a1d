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

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from chainrule import floatmath
from chainrule.derivatives.gradients import as_root
from chainrule.engine import Value, topological_order
from chainrule.grad_mode import enable_grad
from chainrule.rules import FLOATS, rule_of
from chainrule.runtime import trees


def terms(node: Value, tangents: Mapping[Value, Any], interpreter: Any = FLOATS) -> list[Any]:
    """Per parent of node: ∂node/∂parent × its tangent (the row's partial with grad = that tangent).

    A parent whose tangent is 0 adds 0, as in JAX: it does not move, whatever the local slope (an
    infinite slope times 0 would be NaN where the reverse pass, which never forms that product, is finite).
    Run on VALUES (tangents that are Values), the terms are graphs, to differentiate or compile."""
    rule = rule_of(node)
    graph = interpreter is not FLOATS
    parents, out = (node._prev, node) if graph else ([parent.data for parent in node._prev], node.data)
    return [
        rule.share(i, interpreter, parents, node._exponent, out, tangents[parent])
        if _moves(tangents[parent])
        else 0.0
        for i, parent in enumerate(node._prev)
    ]


def _moves(tangent: Any) -> bool:
    """A tangent that is not the number 0 (a Value always: its bool() would be a branch on data)."""
    return isinstance(tangent, Value) or tangent != 0.0


def summed(shares: list[Any]) -> Any:
    """0 + the shares, left to right (not sum(): since Python 3.12 it compensates, so other last bits)."""
    total = 0.0
    for share in shares:
        total += share
    return total


def joint_order(roots: Sequence[Value]) -> list[Value]:
    """The engine's topological order behind one root; behind several, theirs in turn, each node once."""
    if len(roots) == 1:
        return topological_order(roots[0])
    with enable_grad():  # one walk from a node whose parents are the roots: the same order, found once
        joined = Value(0.0, tuple(roots))
    return topological_order(joined)[:-1]


def tangent_walk(
    root: Value | Sequence[Value],
    seeds: Mapping[Value, Any],
    interpreter: Any = FLOATS,
    order: Sequence[Value] | None = None,
) -> dict[Value, Any]:
    """Every node's tangent in topological order (behind one root or several): a seeded node's from seeds
    (what lies behind it is held still, as behind a source of grad), another leaf's 0, a node's Σ of terms.
    `order` is the roots' joint_order, for a caller that walks them many times."""
    tangents: dict[Value, Any] = {}
    for node in joint_order([root] if isinstance(root, Value) else root) if order is None else order:
        if node in seeds or not node._prev:
            tangents[node] = seeds.get(node, 0.0)
        elif not any(_moves(tangents[parent]) for parent in node._prev):
            tangents[node] = 0.0  # what its terms would sum to: nothing behind it moves
        else:
            tangents[node] = summed(terms(node, tangents, interpreter))
    return tangents


def _numbers(name: str, items: object) -> tuple[list[float], list[Any]]:
    """The numbers of primals or tangents, all arguments' in turn, and each argument's spec."""
    if not isinstance(items, tuple | list):
        raise TypeError(
            f"jvp: {name} must be a tuple or list of numbers, one per argument of f, "
            f"got {type(items).__name__}: {items!r} (for one argument write ({items!r},))"
        )
    numbers: list[float] = []
    specs = []
    for i, item in enumerate(items):
        what = f"jvp: {name}[{i}]"
        if trees.any_leaf(item, lambda x: isinstance(x, Value)):
            raise TypeError(f"{what} is a Value: jvp takes plain numbers")
        flat, spec = trees.flatten(item, functools.partial(floatmath.real, what=what))
        numbers += flat
        specs.append(spec)
    return numbers, specs


def jvp(
    f: Callable[..., Value | float], primals: Sequence[Any], tangents: Sequence[Any]
) -> tuple[float, float]:
    """(f(x), ∇f(x)·v) at x = primals along v = tangents, by one forward walk: JAX's jvp for scalar f.

    `f` is written with Value operations and takes one argument per primal: a number, or a tree of them
    (a list, tuple, dict, numpy array), its tangent a tree of the same structure; a tangent is the speed
    at which that argument moves. jvp(f, (2.0, 5.0), (1.0, 0.0)) is (f(2, 5), ∂f/∂x1 at (2, 5))."""
    points, specs = _numbers("primals", primals)
    directions, tangent_specs = _numbers("tangents", tangents)
    if len(specs) != len(tangent_specs):
        raise ValueError(
            f"jvp: {len(specs)} primals but {len(tangent_specs)} tangents: give one tangent per primal"
        )
    for i, (spec, tangent_spec) in enumerate(zip(specs, tangent_specs)):
        if spec != tangent_spec:
            raise ValueError(
                f"jvp: tangents[{i}] is not shaped as primals[{i}] ({trees.size(tangent_spec)} numbers "
                f"against {trees.size(spec)}, or another structure): give it the same structure"
            )
    leaves = [Value(x) for x in points]
    arguments = trees.split(specs, leaves)
    with enable_grad():  # the graph is what the walk reads, even inside no_grad()
        out = as_root(f(*arguments), f, "jvp: ")  # a number returned is a constant: its tangent is 0
    return out.data, tangent_walk(out, dict(zip(leaves, directions)))[out]
