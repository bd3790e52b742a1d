"""Jacobians of functions with several outputs: one reverse pass per output, or one forward pass per input.

`jacobian(f)` traces f once and runs a backward walk from each output (m walks for m outputs); `jacfwd(f)`
traces it once and runs a tangent walk from each input number (n walks for n inputs). Both give
`J[i][j]` = ∂fᵢ/∂xⱼ, so the cheaper one is the one with fewer walks: jacobian when f has fewer outputs than
inputs, jacfwd when it has fewer inputs (docs/cookbook.md has the measured example).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chainrule import floatmath
from chainrule.derivatives.forward import joint_order, tangent_walk
from chainrule.derivatives.gradients import ArgNums, argument_indices, check_argnums, holds_value, leaves_of
from chainrule.derivatives.graph_backward import gradient_graphs
from chainrule.derivatives.hessians import backward_rows
from chainrule.engine import Value
from chainrule.grad_mode import enable_grad
from chainrule.math.values import VALUES
from chainrule.rules import FLOATS
from chainrule.runtime import trees
from chainrule.runtime.tracing import graphs, making_graphs


def _output(y: Any) -> Value:
    """One output of f as a root: a Value, or a number (a constant, every derivative 0)."""
    if isinstance(y, Value):
        return y
    try:
        return Value(floatmath.real(y))
    except TypeError:
        raise TypeError(
            f"jacobian: f must return Values (a tuple, list, dict or numpy array of them), and its result "
            f"holds {type(y).__name__}: {y!r}"
        ) from None


def _rows(f: Callable[..., Any], argnums: ArgNums, forward: bool, args: tuple, kwargs: dict[str, Any]) -> Any:
    """The Jacobian of f at args, shaped: per argument at argnums, a tree of trees (trees.nested)."""
    indices = argument_indices(argnums, args)
    as_graph = making_graphs() or holds_value(args) or holds_value(tuple(kwargs.values()))
    arguments = list(args)
    with graphs(), enable_grad():
        leaves, specs = leaves_of(arguments, indices)
        outputs, out_spec = trees.flatten(f(*arguments, **kwargs), _output)
        if forward:  # column j: every output's tangent when input number j moves at speed 1
            interpreter = VALUES if as_graph else FLOATS
            order = joint_order(outputs)
            columns = [tangent_walk(outputs, {leaf: 1.0}, interpreter, order) for leaf in leaves]
            rows = [[column.get(y, 0.0) for column in columns] for y in outputs]
        elif as_graph:
            rows = [gradient_graphs(y, leaves) for y in outputs]
        else:
            rows = backward_rows(outputs, leaves)
    if as_graph:  # a number where no path leads: a constant node, as gradient_graphs gives
        rows = [[x if isinstance(x, Value) else Value(x) for x in row] for row in rows]
    blocks, start = [], 0
    for spec in specs:
        end = start + trees.size(spec)
        blocks.append(trees.nested(out_spec, spec, [row[start:end] for row in rows]))
        start = end
    return blocks[0] if isinstance(argnums, int) else tuple(blocks)


def _jacobian_of(f: Callable[..., Any], argnums: ArgNums, forward: bool) -> Callable[..., Any]:
    check_argnums(argnums)  # refused when the Jacobian is made, not at its first call

    @functools.wraps(f)
    def matrix(*args: Any, **kwargs: Any) -> Any:
        return _rows(f, argnums, forward, args, kwargs)

    return matrix


def jacobian(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """`J[i][j]` = ∂fᵢ/∂xⱼ, one backward pass per output fᵢ: for f returning a tuple or list of Values.

    Rows are outputs, columns the numbers of the argument at argnums: a list of lists for a list in and a
    list out, a 2-D float64 array when the argument is a numpy array (of shape outputs + the argument's
    shape). In general the outputs' structure around the argument's (a tuple out gives a tuple of rows);
    a sequence argnums gives a tuple of such Jacobians, one per argument. Cheaper than jacfwd when f has
    fewer outputs than input numbers. Called with Values, or while jit traces, the entries are graphs."""
    return _jacobian_of(f, argnums, forward=False)


def jacfwd(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """`J[i][j]` = ∂fᵢ/∂xⱼ, one forward (tangent) pass per input number xⱼ: the same result as jacobian.

    Cheaper than jacobian when f has fewer input numbers than outputs (a curve, a simulation's many
    states from few parameters). Called with Values, or while jit traces, the entries are graphs."""
    return _jacobian_of(f, argnums, forward=True)
