"""Compiled mode: trace a function once with the engine, then run its graph without building one.

`jit(fn)` calls `fn` once with `Value` leaves in place of its numbers (trace.py), flattens the graph it
returns into a tape in the engine's own order (tape.py), and hands the tape to a backend, which runs it
at every later call with arguments of the same shape. The backend "python" (python_code.py) writes the
tape as two plain functions, `forward` and `backward`, one line per node: the chain rule, unrolled, at
the speed of gradient code written by hand.

A backend is a class made from (fn, shape, tape) with `leaves`, `source`, `forward(args, leaves)` giving
(value, saved) and `backward(saved, leaves)` adding into the leaves' .grad.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chainrule import grad_mode
from chainrule.compiler.python_code import PythonProgram, Restructure
from chainrule.compiler.tape import record
from chainrule.compiler.trace import JitTraceWarning, ValueArgument, normalize, trace
from chainrule.engine import Value
from chainrule.runtime import collector

__all__ = ["BACKENDS", "JitResult", "JitTraceWarning", "Jitted", "jit"]


def _native(fn: Callable[..., Value], shape: Any, tape: Any) -> Any:
    """The native backend, imported when first asked for: chainrule imports without numba."""
    from chainrule.compiler.native import NativeProgram

    return NativeProgram(fn, shape, tape)


# As NativeProgram: a fn that returns a tuple of Values runs too (forward only)
_native.several_outputs = True  # type: ignore[attr-defined]


BACKENDS: dict[str, Callable[..., Any]] = {"python": PythonProgram, "native": _native}


def _compile(fn: Callable[..., Value], shape: Any, args: tuple, kwargs: dict, backend: str) -> Any:
    """Trace fn and hand its tape to the backend, with the cyclic garbage collector paused
    (runtime/collector.py says why: tens of thousands of nodes are alive while tracing)."""
    with collector.paused():
        root, inputs = trace(fn, args, kwargs)
        if not isinstance(root, Value) and not getattr(BACKENDS[backend], "several_outputs", False):
            raise TypeError(f"jit: the {backend!r} backend compiles functions that return one Value")
        program = BACKENDS[backend](fn, shape, record(root, inputs))
    program.positional = not kwargs  # traced without keyword arguments: a call's args can go straight in
    return program


# --- the public face -------------------------------------------------------------------------------------


class JitResult(float):
    """What a compiled call of a one-Value fn returns: the output as a float (also `.data`), and
    `.backward()` as the engine's root has. A float, so jit(grad(f))(x) reads as the number it is."""

    __slots__ = ("_program", "_saved")
    _program: Any  # the backend's program, None when called under no_grad()
    _saved: tuple  # what the forward pass hands to backward

    def __new__(cls, data: float, saved: tuple, program: Any) -> JitResult:
        result = super().__new__(cls, data)
        result._saved, result._program = saved, program
        return result

    @property
    def data(self) -> float:
        """The output's value, as `Value.data` is."""
        return float(self)

    def backward(self) -> None:
        """Add d(output)/d(leaf) to the .grad of every leaf Value fn used, as Value.backward() does."""
        if self._program is not None:
            self._program.backward(self._saved, self._program.leaves)

    def __repr__(self) -> str:
        return f"JitResult(data={self.data!r})"

    __str__ = float.__repr__  # print() and f-strings show the number


class Jitted:
    """fn, traced once per argument shape and run as generated Python. See `jit`."""

    def __init__(self, fn: Callable[..., Value], backend: str = "python") -> None:
        if backend not in BACKENDS:
            raise ValueError(f"jit: backend must be one of {', '.join(map(repr, BACKENDS))}, got {backend!r}")
        if backend == "native":  # fail now, naming the pip install, if numba is missing
            import chainrule.compiler.native  # noqa: F401
        self.fn, self.backend = fn, backend
        self._programs: dict[Any, Any] = {}
        self._last: Any = None
        functools.update_wrapper(self, fn)

    @property
    def source(self) -> str:
        """The generated code of the latest trace (empty before the first call)."""
        return self._last.source if self._last else ""

    def __call__(self, *args: Any, **kwargs: Any) -> JitResult | Value | tuple:
        program = self._last
        if program is not None and program.positional and not kwargs:
            try:
                data, saved = program.forward(args, program.leaves)
            except Restructure:
                pass
            else:
                return _result(data, saved, program)
        names = sorted(kwargs)
        try:
            normalized, shape = normalize((*args, *(kwargs[name] for name in names)))
        except ValueArgument:  # Values as arguments (a jitted fn called while tracing): the engine's job
            return self.fn(*args, **kwargs)
        key = (len(args), tuple(names), shape)
        program = self._programs.get(key)
        if program is None:
            traced_args, traced_kwargs = normalized[: len(args)], dict(zip(names, normalized[len(args) :]))
            program = self._programs[key] = _compile(self.fn, shape, traced_args, traced_kwargs, self.backend)
        self._last = program
        data, saved = program.forward(normalized, program.leaves)
        return _result(data, saved, program)


def _result(data: Any, saved: tuple, program: Any) -> Any:
    """A JitResult for one Value; for a tuple of Values (a gradient), their floats as fn nested them."""
    if getattr(program, "several", False):
        return data
    return JitResult(data, saved, program if grad_mode.is_enabled() else None)


def jit(fn: Callable[..., Value], backend: str = "python") -> Jitted:
    """Compile fn: trace it with the engine once per argument shape, then run its graph as plain Python.

    fn takes numbers or (nested) lists or tuples of numbers and returns one Value built from them and from
    Values it closes over (a model's parameters). The call returns a JitResult: the output as a float
    (also `.data`), with `.backward()`; after backward() every leaf Value fn used has the gradient the
    engine would give, added to its .grad as the engine adds it. Leaves are read at every call, so
    optimizers just work.

    Like torch.jit.trace, this records one path through fn: Python control flow that depends on data
    (`if x.data > 0:`) is frozen at trace time; a bool() of a Value while tracing warns
    (JitTraceWarning), an `if` on `.data` cannot be seen. A value computed under no_grad() inside fn
    is a constant, frozen at its traced value. Branches inside ops (relu, domain checks) run every
    call. A new argument shape (another list length) traces again. `.source` is the generated code.

    fn may also return a (nested) tuple of Values, as grad(f) and value_and_grad(f) do when traced: the
    call then returns the same nesting of floats, and there is no backward(). So jit(grad(f)) is f's
    gradient as generated code. A derivative that branches on data (relu's slope) keeps the branch taken
    while tracing; jit warns (JitTraceWarning) when it traces one.
    """
    return Jitted(fn, backend)
