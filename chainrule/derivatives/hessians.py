"""Second derivatives of functions of numbers: the Hessian matrix, and Hessian-vector products without it.

Both differentiate a gradient that is itself a graph (grad called with Values builds one, from the table
of local derivatives run with Values): one forward pass builds f and its gradient graph, and the engine's
own float backward() then runs over the gradient, once per row for `hessian`, once in all for `hvp`.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from typing import Any

from chainrule import floatmath
from chainrule.derivatives.gradients import ArgNums, argument_indices, grad, holds_value, leaves_of
from chainrule.derivatives.graph_backward import gradient_graphs
from chainrule.engine import Value
from chainrule.grad_mode import enable_grad
from chainrule.runtime import trees
from chainrule.runtime.tracing import making_graphs


def _gradient_graph(
    f: Callable[..., Any], argnums: ArgNums | None, args: Sequence[Any], kwargs: dict[str, Any]
) -> tuple[list[Value], list[Any], list[Value]]:
    """(the leaves standing for the numbers of the arguments at argnums, each argument's spec, ∂f/∂leaf
    for each leaf as a graph)."""
    positions = tuple(range(len(args))) if argnums is None else argnums
    indices = argument_indices(positions, args)
    arguments = list(args)
    with enable_grad():
        leaves, specs = leaves_of(arguments, indices)
        gradient = grad(f, tuple(indices))(*arguments, **kwargs)  # Values: the arguments are Values
    return leaves, specs, [g for tree in gradient for g in trees.flatten(tree, lambda g: g)[0]]


def backward_rows(roots: list[Value], leaves: list[Value]) -> list[list[float]]:
    """Per root, d(root)/d(leaf) for each leaf: one backward pass each, the leaves zeroed before it."""
    rows = []
    for root in roots:
        for leaf in leaves:
            leaf.grad = 0.0
        root.backward()
        rows.append([leaf.grad for leaf in leaves])
    return rows


def blocks(specs: list[Any], rows: list[list[Any]]) -> list[list[Any]]:
    """rows (one per leaf, a number per leaf) cut into one block per pair of arguments, each a tree of
    trees (trees.nested): for numbers, the rows themselves."""
    starts = [0]
    for spec in specs:
        starts.append(starts[-1] + trees.size(spec))
    cut = [slice(start, end) for start, end in itertools.pairwise(starts)]
    return [
        [trees.nested(outer, inner, [row[across] for row in rows[down]]) for inner, across in zip(specs, cut)]
        for outer, down in zip(specs, cut)
    ]


def _as_graphs(args: Sequence[Any]) -> bool:
    """Whether the result must be graphs of Values: under jit's trace, or called with Values."""
    return making_graphs() or holds_value(args)


def hessian(f: Callable[..., Any], argnums: ArgNums | None = None) -> Callable[..., Any]:
    """`H[i][j]` = ∂²f/∂xᵢ∂xⱼ over the arguments at argnums (default: every positional argument).

    A function of the same arguments as f, giving an n×n list of lists of floats for n numbers (for an int
    argnums, the one second derivative as a float). An argument that is a tree (a list, a dict, an array)
    gives a tree of trees, its structure around its own (an array of shape s gives one of shape s + s);
    several arguments, a list of lists of those blocks (f of one tree: its block). Row i is one backward
    pass over ∂f/∂xᵢ."""

    def matrix(*args: Any, **kwargs: Any) -> Any:
        leaves, specs, gradient = _gradient_graph(f, argnums, args, kwargs)
        rows: list[list[Any]]  # graphs when traced by jit or differentiated again, else numbers
        if _as_graphs(args):
            rows = [gradient_graphs(g, leaves) for g in gradient]
        else:
            rows = backward_rows(gradient, leaves)
        one = isinstance(argnums, int) or (argnums is None and len(specs) == 1 and specs[0] is not trees.LEAF)
        return blocks(specs, rows)[0][0] if one else blocks(specs, rows)

    matrix.__name__ = matrix.__qualname__ = f"hessian_of_{getattr(f, '__name__', 'f')}"
    return matrix


def hvp(f: Callable[..., Any], argnums: ArgNums | None = None) -> Callable[..., Any]:
    """H·v = ∇ₓ(∇f(x) · v): the Hessian times a vector, by reverse over reverse, never forming H.

    `hvp(f)(primals, vector)`: primals is a tuple or list of f's positional arguments, vector a list with
    one entry per argument at argnums (default: every one), shaped as that argument; the result is such a
    list. Any other primals (a numpy array, a dict, a number) is f's one argument, and vector a tree of its
    shape: then H·v comes back in that shape, so hvp(f) is scipy's hessp(x, p). One graph of ∇f, the dot
    product with v, one backward pass."""

    def product(primals: Any, vector: Any) -> Any:
        single = not isinstance(primals, list | tuple)
        arguments, vectors = ((primals,), (vector,)) if single else (tuple(primals), vector)
        if not single and (not isinstance(vector, list | tuple)):
            raise TypeError(
                f"hvp: the vector must be a list or tuple (one entry per argument), got "
                f"{type(vector).__name__}: {vector!r}; call it as hvp(f)((x, y), (vx, vy))"
            )
        leaves, specs, gradient = _gradient_graph(f, argnums, arguments, {})
        if len(vectors) != len(specs):
            chosen = "argument" if len(specs) == 1 else "arguments"
            raise ValueError(
                f"hvp: the vector has {len(vectors)} numbers, but the Hessian is over {len(specs)} {chosen} "
                f"(argnums {argnums!r}): give one number per differentiated argument"
            )
        numbers = []
        for i, (spec, entry) in enumerate(zip(specs, vectors)):
            what = f"hvp: the vector's entry {i}"
            flat, shape = trees.flatten(entry, functools.partial(_number, what=what))
            if shape != spec:
                raise ValueError(
                    f"hvp: the vector's entry {i} has {len(flat)} numbers where its argument has "
                    f"{trees.size(spec)} (or another structure): give it the argument's structure"
                )
            numbers += flat
        with enable_grad():
            dot = sum(
                (g * (v if isinstance(v, Value) else Value(v)) for g, v in zip(gradient, numbers)), Value(0.0)
            )
        if _as_graphs((primals, vector)):  # traced by jit, or differentiated again: H·v as graphs
            shaped = trees.split(specs, gradient_graphs(dot, leaves))
            return shaped[0] if single else shaped
        dot.backward()
        shaped = trees.split(specs, [leaf.grad for leaf in leaves])
        return shaped[0] if single else shaped

    product.__name__ = product.__qualname__ = f"hvp_of_{getattr(f, '__name__', 'f')}"
    return product


def _number(x: Any, what: str) -> Any:
    """A vector's entry: a number as a float; a Value (jit's trace, a grad around hvp) as it is."""
    return x if isinstance(x, Value) else floatmath.real(x, what)
