"""Rows run on Values: `node` makes any row's op a node of the graph, and VALUES is the interpreter in
which a row's partials build graphs, so a derivative can itself be differentiated.

`node(rule, *parents)` has the engine's five beats for every op that `engine.py` does not write by hand:
coerce the operands, compute the forward value on floats, make the closure that adds each parent's
share (the row's partials, run on floats), attach it, return the node. Every node still remembers its
own local derivative; the closure is just written once, for all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule.engine import Value
from chainrule.rules import BY_FUNCTION, BY_NAME, COMPARISONS, FLOATS, Rule, where

Number = Value | float


def node(rule: Rule, *parents: Number, n: float | None = None) -> Value:
    """The op of `rule` applied to parents (Values or numbers): a Value with the row's closure."""
    operands = tuple(p if isinstance(p, Value) else Value(p) for p in parents)  # coerce
    data = [p.data for p in operands]
    out = rule.value(FLOATS, data, n)  # compute, with the engine's float functions

    def _backward(grad: float) -> None:  # the row's local derivatives, on floats
        for i, parent in enumerate(operands):
            parent.grad += rule.share(i, FLOATS, data, n, out, grad)

    return Value(out, operands, rule.name, _backward, _exponent=n)  # attach, return


def _comparison(name: str) -> Callable[[Any, Any], Any]:
    compare = COMPARISONS[name]

    def on_values(x: Any, y: Any) -> Any:
        """A comparison with a Value in it is a node (1.0 or 0.0), which `where` selects by: no branch."""
        if isinstance(x, Value) or isinstance(y, Value):
            return node(BY_NAME[name], x, y)
        return compare(x, y)

    return on_values


def _where(condition: Any, if_true: Any, if_false: Any) -> Any:
    """where(c, a, b) = if_true(c, a) + if_false(c, b) for a condition node: a graph right at every point
    (relu's slope in a derivative is compiled as a select); for a plain bool, the side it takes."""
    if isinstance(condition, Value):
        return node(BY_NAME["if_true"], condition, if_true) + node(BY_NAME["if_false"], condition, if_false)
    return where(condition, if_true, if_false)


def _op(rule: Rule) -> Callable[..., Value]:
    if rule.exponent:
        return lambda *args: node(rule, *args[:-1], n=args[-1])
    return lambda *args: node(rule, *args)


class _Values:
    """o.tanh(x) is the op tanh on x; o.gt(x, y) a comparison node and o.where a select: no branch."""

    where = staticmethod(_where)

    @staticmethod
    def call(rule: Rule, k: int, *args: Any) -> Any:
        """A user's op (chainrule.primitive): k = 0 is the op itself, a node; k = i + 1 its partial i,
        run on Values, which must be written with chainrule's operations to give a graph."""
        if k == 0:
            return node(rule, *args)
        assert rule.python is not None
        try:
            return rule.python[k](*args)
        except TypeError as error:
            raise TypeError(
                f"the partial {k} of the op {rule.symbol!r} cannot be run on Values ({error}): write it with "
                "chainrule's operations (chainrule.math, Value methods) to take derivatives of derivatives"
            ) from error

    def __getattr__(self, name: str) -> Any:
        found: Callable[..., Any]
        if name in COMPARISONS:
            found = _comparison(name)
        elif name in BY_FUNCTION:
            found = _op(BY_FUNCTION[name])
        else:
            raise AttributeError(f"no op of the table computes {name!r}")
        setattr(self, name, found)  # made once: a gradient graph asks for the same few ops at every node
        return found


VALUES = _Values()
