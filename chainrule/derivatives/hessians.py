"""Second derivatives of functions of numbers: the Hessian matrix, and Hessian-vector products without it.

Both differentiate a gradient that is itself a graph (grad called with Values builds one, from the table
of local derivatives run with Values): one forward pass builds f and its gradient graph, and the engine's
own float backward() then runs over the gradient, once per row for `hessian`, once in all for `hvp`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule.derivatives.gradients import ArgNums, _holds_value, argument_indices, grad
from chainrule.derivatives.graph_backward import gradient_graphs
from chainrule.engine import Value
from chainrule.grad_mode import enable_grad
from chainrule.runtime.tracing import making_graphs


def _gradient_graph(
    f: Callable[..., Any], argnums: ArgNums | None, args: Sequence[Any], kwargs: dict[str, Any]
) -> tuple[list[Value], tuple[Value, ...]]:
    """(the leaves standing for the arguments at argnums, ∂f/∂leaf for each as a graph)."""
    positions = tuple(range(len(args))) if argnums is None else argnums
    single = isinstance(positions, int)
    indices = argument_indices(positions, args)
    arguments = list(args)
    # a Value (jit's trace, a grad around this one) gets a node of its own: its derivatives are graphs too
    leaves = [args[i] * 1.0 if isinstance(args[i], Value) else Value(args[i]) for i in indices]
    for i, leaf in zip(indices, leaves):
        arguments[i] = leaf
    with enable_grad():
        gradient: Any = grad(f, positions)(*arguments, **kwargs)  # Values: the arguments are Values
    return leaves, (gradient,) if single else gradient


def _as_graphs(args: Sequence[Any]) -> bool:
    """Whether the result must be graphs of Values: under jit's trace, or called with Values."""
    return making_graphs() or _holds_value(args)


def hessian(f: Callable[..., Any], argnums: ArgNums | None = None) -> Callable[..., Any]:
    """`H[i][j]` = ∂²f/∂xᵢ∂xⱼ over the arguments at argnums (default: every positional argument).

    A function of the same numbers as f, giving an n×n list of lists of floats (for an int argnums, the one
    second derivative as a float). Row i is one backward pass over the graph of ∂f/∂xᵢ."""

    def matrix(*args: Any, **kwargs: Any) -> Any:
        leaves, gradient = _gradient_graph(f, argnums, args, kwargs)
        if _as_graphs(args):  # traced by jit, or differentiated again: the rows are graphs, in tuples
            graphs = tuple(tuple(gradient_graphs(g, leaves)) for g in gradient)
            return graphs[0][0] if isinstance(argnums, int) else graphs
        rows = []
        for g in gradient:
            for leaf in leaves:
                leaf.grad = 0.0
            g.backward()
            rows.append([leaf.grad for leaf in leaves])
        return rows[0][0] if isinstance(argnums, int) else rows

    matrix.__name__ = matrix.__qualname__ = f"hessian_of_{getattr(f, '__name__', 'f')}"
    return matrix


def hvp(f: Callable[..., Any], argnums: ArgNums | None = None) -> Callable[..., list[float]]:
    """H·v = ∇ₓ(∇f(x) · v): the Hessian times a vector, by reverse over reverse, never forming H.

    `hvp(f)(primals, vector)`: primals are f's positional arguments, vector has one number per argument at
    argnums (default: every one). One graph of ∇f, the dot product with v, one backward pass."""

    def product(primals: Sequence[Any], vector: Sequence[float]) -> list[float]:
        for name, given in (("primals", primals), ("vector", vector)):
            if not isinstance(given, Sequence) or isinstance(given, str):
                raise TypeError(
                    f"hvp: {name} must be a list or tuple (one number per argument), got "
                    f"{type(given).__name__}: {given!r}; call it as hvp(f)((x, y), (vx, vy))"
                )
        leaves, gradient = _gradient_graph(f, argnums, tuple(primals), {})
        if len(vector) != len(leaves):
            chosen = "argument" if len(leaves) == 1 else "arguments"
            raise ValueError(
                f"hvp: the vector has {len(vector)} numbers, but the Hessian is over {len(leaves)} {chosen} "
                f"(argnums {argnums!r}): give one number per differentiated argument"
            )
        with enable_grad():
            dot = sum(
                (g * (v if isinstance(v, Value) else Value(v)) for g, v in zip(gradient, vector)), Value(0.0)
            )
        if _as_graphs((primals, vector)):  # traced by jit, or differentiated again: H·v as graphs
            return tuple(gradient_graphs(dot, leaves))  # type: ignore[return-value]
        dot.backward()
        return [leaf.grad for leaf in leaves]

    product.__name__ = product.__qualname__ = f"hvp_of_{getattr(f, '__name__', 'f')}"
    return product
