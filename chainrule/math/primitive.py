"""Ops of your own: `chainrule.primitive(*partials)` turns a function of floats into an op on Values.

The op becomes a row of the table of local derivatives like any other, so every reader runs it: the
engine's backward(), grad, jvp, jit (python and native: the native interpreter calls back into
Python for it, one return to Python per node and pass), explain, the walkthrough and drawings.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from chainrule.engine import Value
from chainrule.math.values import node
from chainrule.rules import BY_NAME, Rule, register


def _count(function: Callable[..., Any], what: str) -> int:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        raise TypeError(f"chainrule.primitive: cannot read the arguments of {what}") from None
    kinds = {inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD}
    if any(p.kind not in kinds for p in parameters):
        raise TypeError(f"chainrule.primitive: {what} must take plain positional arguments (no *args, **kw)")
    return len(parameters)


def _name(function: Callable[..., Any]) -> str:
    """The op's name in the table: the function's, numbered when another op has it already."""
    base = getattr(function, "__name__", "primitive")
    name, k = base, 1
    while name in BY_NAME:
        k += 1
        name = f"{base}#{k}"
    return name


def primitive(*partials: Callable[..., Any]) -> Callable[[Callable[..., float]], Callable[..., Any]]:
    """Decorate a function of floats f(x1, …, xn) with one partial per argument: partial_i(x1, …, xn, out)
    is ∂out/∂xi. The result is f for plain numbers and an op for Values.

    Derivatives of derivatives work when the partials are written with chainrule's operations
    (chainrule.math, Value methods): they are then run on Values too."""

    def decorate(function: Callable[..., float]) -> Callable[..., Any]:
        if not callable(function):
            raise TypeError(f"chainrule.primitive decorates a function, got {type(function).__name__}")
        arity = _count(function, f"{getattr(function, '__name__', 'the function')}")
        if arity == 0 or len(partials) != arity:
            raise TypeError(
                f"chainrule.primitive: {function.__name__} takes {arity} arguments, so it needs {arity} "
                f"partials (one per argument, each a function of the arguments and the output), "
                f"got {len(partials)}"
            )
        for i, partial in enumerate(partials):
            if (
                not callable(partial)
                or _count(partial, f"partial {i + 1} of {function.__name__}") != arity + 1
            ):
                raise TypeError(
                    f"chainrule.primitive: partial {i + 1} of {function.__name__} must take the {arity} "
                    f"arguments and the output ({arity + 1} in all)"
                )

        def _partial(i: int) -> Callable[..., Any]:
            return lambda o, *rest: o.call(rule, i + 1, *rest[:-1]) * rest[-1]

        variables = ("a", "b")[:arity] if arity <= 2 else tuple(f"x{i + 1}" for i in range(arity))
        rule = register(
            Rule(
                _name(function),
                f"{function.__name__}({', '.join(variables)})",
                lambda o, *xs: o.call(rule, 0, *xs),
                tuple(_partial(i) for i in range(arity)),
                native=False,
                python=(function, *partials),
            )
        )

        @functools.wraps(function)
        def op(*args: Any) -> Any:
            if len(args) != arity:
                raise TypeError(f"{function.__name__} takes {arity} arguments, got {len(args)}")
            if any(isinstance(x, Value) for x in args):
                return node(rule, *args)
            return function(*args)

        op.rule = rule  # type: ignore[attr-defined]
        return op

    return decorate
