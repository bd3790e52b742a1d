"""Tracing: call a function once with Value leaves in place of its numbers, and keep the graph it builds.

The arguments are numbers or (nested) lists, tuples, dicts and numpy arrays of numbers; their shape (the
nesting, the lengths, a dict's keys, an array's shape) is what a compiled program is specialised to:
another shape traces again. Within a shape, the comparisons of Values that fn branched on (`if x > 0:`,
`while err > tol:`) are the guards of the path it took: a call on which one comes out otherwise takes
another path, and is traced again.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

from chainrule import floatmath, grad_mode
from chainrule.compiler import data_reads
from chainrule.engine import Value
from chainrule.math.floatlike import Comparison
from chainrule.runtime import tracing, trees


class JitTraceWarning(UserWarning):
    """fn decided its control flow on `.data` while being traced: no guard can see that branch."""


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


def _as_values(arg: Any, inputs: list[Value], leaf: Callable[[float], Value] = Value) -> Any:
    """The same nesting with a fresh leaf(number) for every number (collected in inputs)."""
    if isinstance(arg, Packed):
        leaves = [leaf(x) for x in arg]
        inputs.extend(leaves)
        return trees.unflatten(arg.spec, leaves)
    if isinstance(arg, list | tuple):
        return type(arg)(_as_values(item, inputs, leaf) for item in arg)
    inputs.append(leaf(arg))
    return inputs[-1]


def unpacked(arg: Any) -> Any:
    """A normalized argument as the caller gave it: a Packed one rebuilt as its dict, array or namedtuple."""
    if isinstance(arg, Packed):
        return trees.unflatten(arg.spec, list(arg))
    if isinstance(arg, list | tuple):
        return type(arg)(unpacked(item) for item in arg)
    return arg


def values_like(arg: Any) -> Any:
    """The same nesting with a fresh Value leaf for every number: fn's arguments as the engine takes them."""
    return _as_values(arg, [])


def trace(fn: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[Any, list[Value], list[Comparison]]:
    """Call fn with Value leaves in place of its numbers; return the root (or a tuple of them), the inputs,
    and the guards: every comparison of Values whose bool() decided a branch, in the order taken."""
    root, inputs, taken, ran = run_traced(fn, args, kwargs)
    data_reads.warn(ran, JitTraceWarning, stacklevel=4)  # stacklevel 4: the call of the jitted function
    if any(x.grad for x in inputs):  # only a backward() inside fn gives them one: a compiled call would not
        raise TypeError(
            "jit: the traced function called backward() on a graph of its arguments, which a compiled call "
            "would not run again: take gradients inside it with chainrule.grad or value_and_grad, or call "
            "it without jit"
        )
    if not _is_output(root):
        raise TypeError(
            f"jit: the function must return a Value or a (nested) tuple of Values, it returned "
            f"{type(root).__name__}"
        )
    return root, inputs, taken


def run_traced(
    fn: Callable[..., Any], args: tuple, kwargs: dict, leaf: Callable[[float], Value] = Value
) -> tuple[Any, list[Value], list[Comparison], Any]:
    """fn called with leaf(number) in place of its numbers: (its result, the inputs, the guards, the code
    that ran, for data_reads.warn)."""
    inputs: list[Value] = []
    value_args = _as_values(args, inputs, leaf)
    value_kwargs = {name: _as_values(arg, inputs, leaf) for name, arg in kwargs.items()}
    taken: dict[int, Comparison] = {}  # by id: a comparison tested twice is one guard

    def guard(comparison: Comparison) -> None:
        taken.setdefault(id(comparison), comparison)

    # a grad inside fn gives a graph, to compile
    with data_reads.watching() as ran, tracing.listening(guard), grad_mode.enable_grad(), tracing.graphs():
        root = fn(*value_args, **value_kwargs)
    return root, inputs, list(taken.values()), ran


def _is_output(x: Any) -> bool:
    """A Value, or a non-empty tuple of outputs (grad's and value_and_grad's results are such tuples)."""
    return isinstance(x, Value) or (type(x) is tuple and bool(x) and all(_is_output(item) for item in x))
