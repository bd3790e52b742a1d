"""grad and value_and_grad: gradients of functions of plain numbers, in the style of HIPS autograd and JAX."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from chainrule import floatmath
from chainrule.derivatives.graph_backward import gradient_graphs
from chainrule.engine import Value
from chainrule.grad_mode import enable_grad
from chainrule.runtime import trees
from chainrule.runtime.tracing import graphs, making_graphs

Gradient = Any  # a tree shaped as its argument (a float for a number), or a tuple of them; Values in graphs
ArgNums = int | Sequence[int]


def _is_index(n: object) -> bool:
    return isinstance(n, int) and not isinstance(n, bool)


def holds_value(x: Any) -> bool:
    return trees.any_leaf(x, lambda leaf: isinstance(leaf, Value))


def _own_leaf(x: Any) -> Value:
    """A differentiated number as a leaf; a Value gets a node of its own (x·1): ∂f/∂x holds the rest
    constant."""
    return x * 1.0 if isinstance(x, Value) else Value(x)


def leaves_of(args: list[Any], indices: Sequence[int]) -> tuple[list[Value], list[Any]]:
    """Replace each argument at indices by the same tree of fresh leaves: (all their leaves, in turn;
    each argument's spec)."""
    leaves: list[Value] = []
    specs = []
    for i in indices:
        flat, spec = trees.flatten(args[i], _own_leaf)
        args[i] = trees.unflatten(spec, flat)
        leaves += flat
        specs.append(spec)
    return leaves, specs


def check_argnums(argnums: ArgNums) -> tuple[int, ...]:
    positions: object = (argnums,) if _is_index(argnums) else argnums
    if not isinstance(positions, Sequence) or isinstance(positions, str) or not positions:
        raise TypeError(f"argnums must be an int or a non-empty sequence of ints, got {argnums!r}")
    if not all(_is_index(n) for n in positions):
        raise TypeError(f"argnums must hold ints, got {argnums!r}")
    if len(set(positions)) != len(positions):
        raise ValueError(f"argnums lists a position twice: {argnums!r}")
    return tuple(positions)


def as_root(out: object, f: Callable[..., Any], who: str = "") -> Value:
    """What f returned, as a graph's root: a number is a constant (every derivative 0); else TypeError."""
    if isinstance(out, Value):
        return out
    try:
        return Value(floatmath.real(out))
    except TypeError:
        name = getattr(f, "__name__", "f")
        raise TypeError(f"{who}{name} must return one Value (a scalar), got {type(out).__name__}") from None


def argument_indices(argnums: ArgNums, args: Sequence[Any]) -> list[int]:
    """The positions argnums names in a call with these args (negative ones counted from the end)."""
    positions = check_argnums(argnums)
    if any(not -len(args) <= n < len(args) for n in positions):
        raise ValueError(
            f"argnums {argnums!r} is out of range for a call with {len(args)} positional arguments"
        )
    indices = [n % len(args) for n in positions]
    if len(set(indices)) != len(indices):
        raise ValueError(f"argnums {argnums!r} names one of the {len(args)} arguments twice")
    return indices


class ValueAndGrad:
    """value_and_grad(f, argnums) as an object, not a closure: it pickles wherever f does (Dask and
    multiprocessing ship functions that way), and reads as f (functools.update_wrapper)."""

    def __init__(self, f: Callable[..., Value | float], argnums: ArgNums) -> None:
        check_argnums(argnums)  # refused when grad is made, not at its first call
        functools.update_wrapper(self, f)  # first: it copies f's __dict__ (another grad's f, argnums)
        self.f, self.argnums = f, argnums

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        as_graph = making_graphs() or holds_value(args) or holds_value(tuple(kwargs.values()))
        out, leaves, specs = self.traced(args, kwargs)
        if as_graph:  # differentiated or traced from outside: the gradients are graphs too
            return self.shaped(out, gradient_graphs(out, leaves), specs)
        out.backward()
        return self.shaped(out.data, [leaf.grad for leaf in leaves], specs)

    def traced(self, args: tuple, kwargs: dict) -> tuple[Value, list[Value], list[Any]]:
        """f's graph at args: (its root; the leaves of the arguments at argnums, which the gradients are
        of; those arguments' specs). A jit of the native backend compiles f's graph alone this way, and
        takes the gradients by its own backward pass."""
        indices = argument_indices(self.argnums, args)
        arguments = list(args)
        with graphs(), enable_grad():
            leaves, specs = leaves_of(arguments, indices)
            out = self.f(*arguments, **kwargs)
        return as_root(out, self.f), leaves, specs

    def shaped(self, out: Any, gradients: list[Any], specs: list[Any]) -> tuple[Any, Gradient]:
        """The result: (f's value, each gradient shaped as its argument)."""
        built = trees.split(specs, gradients)
        return out, built[0] if _is_index(self.argnums) else tuple(built)


class Grad(ValueAndGrad):
    """grad(f, argnums): value_and_grad's gradient alone."""

    def shaped(self, out: Any, gradients: list[Any], specs: list[Any]) -> Gradient:
        return super().shaped(out, gradients, specs)[1]


def value_and_grad(
    f: Callable[..., Value | float], argnums: ArgNums = 0
) -> Callable[..., tuple[float | Value, Gradient]]:
    """(f(x), ∂f/∂x) for the arguments at `argnums`: one gradient for an int argnums, a tuple for a sequence.

    `f` is written with Value operations (x * y, x.tanh()...) and called with plain numbers, or trees of
    them: (nested) lists, tuples, dicts with string keys, numpy arrays of any shape. The numbers of the
    arguments at `argnums` become leaves of a fresh graph (recorded even inside `no_grad()`), in the same
    structure (an array becomes an array of Values), the others are passed unchanged, and one backward
    pass gives every gradient, shaped as its argument: a float for a number, a float64 array for an array.

    Called with Values (an argument is one), or inside the f of another grad, or while jit traces, the
    result is made of Values instead: f's output, and gradients that are graphs (the table of local
    derivatives run with Values), so they can be differentiated again.
    """
    return ValueAndGrad(f, argnums)


def grad(f: Callable[..., Value | float], argnums: ArgNums = 0) -> Callable[..., Gradient]:
    """∂f/∂x for the arguments at `argnums`, as a function of the same numbers as f: see value_and_grad."""
    return Grad(f, argnums)
