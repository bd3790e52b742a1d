"""Tracing: call a function once with Value leaves in place of its numbers, and keep the graph it builds.

The arguments are numbers or (nested) lists, tuples, dicts and numpy arrays of numbers; their shape (the
nesting, the lengths, a dict's keys, an array's shape) is what a compiled program is specialised to:
another shape traces again.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from typing import Any

from chainrule import floatmath, grad_mode
from chainrule.engine import Value
from chainrule.runtime import tracing, trees


class JitTraceWarning(UserWarning):
    """fn branched on a Value while being traced: the branch taken now is frozen into the compiled code."""


class ValueArgument(Exception):  # noqa: N818 (a signal): a Value among the arguments, for the engine
    pass


class Packed(list):
    """A dict, an array or a namedtuple argument as the flat list of its numbers, which the compiled code
    unpacks, and its spec, from which the trace rebuilds the same structure around Value leaves."""

    spec: Any


def normalize(arg: Any) -> tuple[Any, Any]:
    """(arg with every number a float, its shape: float, or a tuple of the items' shapes).

    A list and a tuple of the same lengths have the same shape: the compiled code unpacks either. A dict,
    numpy array or namedtuple is Packed: its shape a trees.Spec, equal only to one of the same structure."""
    if type(arg) is float:
        return arg, float
    if type(arg) is list or type(arg) is tuple:
        pairs = [normalize(item) for item in arg]
        return type(arg)(p[0] for p in pairs), tuple(p[1] for p in pairs)
    if isinstance(arg, Value):
        raise ValueArgument
    if trees.is_branch(arg):
        if trees.any_leaf(arg, lambda x: isinstance(x, Value)):
            raise ValueArgument
        flat, spec = trees.flatten(arg, _number)
        packed = Packed(flat)
        packed.spec = spec
        return packed, trees.Spec(spec, (float,) * len(flat))
    return _number(arg), float


def _number(arg: Any) -> float:
    if isinstance(arg, bool) or not isinstance(arg, numbers.Real):
        raise TypeError(
            "jit: arguments must be numbers or (nested) lists, tuples, dicts or numpy arrays of numbers, "
            f"got {type(arg).__name__}: {arg!r}; close over Values (a model's parameters) instead of "
            "passing them"
        )
    return floatmath.real(arg, "jit: an argument")  # numpy scalars and Fractions too


def holds_packed(args: Any) -> bool:
    """Whether normalized arguments hold a Packed one: the compiled code's unpacking cannot tell it from
    a list, so such calls find their program by their shape, never by trying the last one."""
    return isinstance(args, Packed) or (isinstance(args, list | tuple) and any(map(holds_packed, args)))


def _as_values(arg: Any, inputs: list[Value]) -> Any:
    """The same nesting with a fresh Value leaf for every number (collected in inputs)."""
    if isinstance(arg, Packed):
        leaves = [Value(x) for x in arg]
        inputs.extend(leaves)
        return trees.unflatten(arg.spec, leaves)
    if isinstance(arg, list | tuple):
        return type(arg)(_as_values(item, inputs) for item in arg)
    inputs.append(Value(arg))
    return inputs[-1]


def _warn_bool(value: Value) -> bool:
    if tracing.tracing_listeners():  # this thread or task is tracing; another one's bool() stays silent
        warnings.warn(
            "jit: bool() of a Value while tracing. Python control flow that depends on data is frozen at "
            "trace time: every compiled call takes the branch taken now. Branch with an op (relu) instead, "
            "or call the function without jit.",
            JitTraceWarning,
            stacklevel=2,
        )
    return True  # what bool() of a Value is without the hook


# Installed once, for good: a hook put in and taken out around each trace would be seen, or missed, by
# every thread tracing at the time. Value defines no __bool__ of its own (so bool() is always True).
if "__bool__" not in vars(Value):
    Value.__bool__ = _warn_bool  # type: ignore[attr-defined]


def trace(fn: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[Any, list[Value]]:
    """Call fn with Value leaves in place of its numbers; return the root (or a tuple of them), the inputs."""
    inputs: list[Value] = []
    value_args = _as_values(args, inputs)
    value_kwargs = {name: _as_values(arg, inputs) for name, arg in kwargs.items()}
    branches: list[str] = []  # grad(f) called while tracing: its graph's branches on data
    # a grad inside fn gives a graph, to compile
    with tracing.listening(branches.append), grad_mode.enable_grad(), tracing.graphs():
        root = fn(*value_args, **value_kwargs)
    if branches:
        warnings.warn(
            f"jit: a derivative built while tracing branches on data ({branches[0]}): every compiled call "
            "takes the branch taken now. To compile gradients of such a function, compile the function "
            "and call .backward() on its result.",
            JitTraceWarning,
            stacklevel=4,  # the call of the jitted function
        )
    if not _is_output(root):
        raise TypeError(
            f"jit: the function must return a Value or a (nested) tuple of Values, it returned "
            f"{type(root).__name__}"
        )
    return root, inputs


def _is_output(x: Any) -> bool:
    """A Value, or a non-empty tuple of outputs (grad's and value_and_grad's results are such tuples)."""
    return isinstance(x, Value) or (type(x) is tuple and bool(x) and all(_is_output(item) for item in x))
