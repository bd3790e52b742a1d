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
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from chainrule import grad_mode
from chainrule.compiler.python_code import PythonProgram, Restructure
from chainrule.compiler.tape import record
from chainrule.compiler.trace import JitTraceWarning, ValueArgument, holds_packed, normalize, trace
from chainrule.engine import Value
from chainrule.runtime import collector, trees

__all__ = ["BACKENDS", "MAX_PROGRAMS", "JitCacheWarning", "JitResult", "JitTraceWarning", "Jitted", "jit"]

MAX_PROGRAMS = 32  # programs a jitted function keeps, one per argument shape, unless jit is told otherwise


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
    outputs: list[Any] = []  # the spec of the tree of Values fn returned (the tape gets a flat tuple)
    with collector.paused():
        root, inputs = trace(functools.partial(_flat_outputs, fn, outputs), args, kwargs)
        if not isinstance(root, Value) and not getattr(BACKENDS[backend], "several_outputs", False):
            raise TypeError(f"jit: the {backend!r} backend compiles functions that return one Value")
        program = BACKENDS[backend](fn, shape, record(root, inputs))
    program.outputs = outputs[0] if outputs else None
    # traced without keyword arguments or packed ones: a call's args can go straight in
    program.positional = not kwargs and not holds_packed(args)
    return program


def _flat_outputs(fn: Callable[..., Any], outputs: list[Any], *args: Any, **kwargs: Any) -> Any:
    """fn's result; a tree of Values (gradients) as the flat tuple of its leaves, its spec kept in outputs."""
    out = fn(*args, **kwargs)
    if trees.is_branch(out):
        leaves, spec = trees.flatten(out, lambda leaf: leaf)
        outputs.append(spec)
        return tuple(leaves)
    return out


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


class JitCacheWarning(UserWarning):
    """A jitted function met more argument shapes than it keeps programs for: it will trace again."""


class Jitted:
    """fn, traced once per argument shape and run as generated Python. See `jit`."""

    def __init__(
        self, fn: Callable[..., Value], backend: str = "python", max_programs: int = MAX_PROGRAMS
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"jit: backend must be one of {', '.join(map(repr, BACKENDS))}, got {backend!r}")
        if not isinstance(max_programs, int) or isinstance(max_programs, bool) or max_programs < 1:
            raise ValueError(f"jit: max_programs must be a whole number >= 1, got {max_programs!r}")
        if backend == "native":  # fail now, naming the pip install, if numba is missing
            import chainrule.compiler.native  # noqa: F401
        self.fn, self.backend, self.max_programs = fn, backend, max_programs
        # shape -> program, least recently used first; the lock keeps it whole when threads call at once
        self._programs: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._warned = False
        self._last: Any = None
        functools.update_wrapper(self, fn)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with its programs (Dask, multiprocessing): the unpickled one runs them without tracing."""
        return {name: value for name, value in self.__dict__.items() if name != "_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

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
        with self._lock:
            program = self._programs.get(key)
            if program is not None:
                self._programs.move_to_end(key)
        if program is None:
            traced_args, traced_kwargs = normalized[: len(args)], dict(zip(names, normalized[len(args) :]))
            program = _compile(self.fn, shape, traced_args, traced_kwargs, self.backend)
            self._keep(key, program)
        self._last = program
        data, saved = program.forward(normalized, program.leaves)
        return _result(data, saved, program)

    def _keep(self, key: Any, program: Any) -> None:
        """Hold a new program, dropping the least recently used past max_programs (warning the first time)."""
        with self._lock:
            self._programs[key] = program
            full = len(self._programs) > self.max_programs
            while len(self._programs) > self.max_programs:
                self._programs.popitem(last=False)
            first = full and not self._warned
            self._warned = self._warned or full
        if first:
            name = getattr(self.fn, "__qualname__", repr(self.fn))
            warnings.warn(
                f"jit: {name} has been traced for more than {self.max_programs} argument shapes "
                f"(max_programs={self.max_programs}): the least recently used programs are dropped, and a "
                "shape met again is traced again, which costs far more than a call. Give it fewer shapes "
                "(pad lists to a few lengths), or a larger jit(..., max_programs=N).",
                JitCacheWarning,
                stacklevel=3,  # the call of the jitted function
            )


def _result(data: Any, saved: tuple, program: Any) -> Any:
    """A JitResult for one Value; for a tuple of Values (a gradient), their floats as fn nested them."""
    if getattr(program, "several", False):
        return data if program.outputs is None else trees.unflatten(program.outputs, data)
    return JitResult(data, saved, program if grad_mode.is_enabled() else None)


def jit(fn: Callable[..., Value], backend: str = "python", max_programs: int = MAX_PROGRAMS) -> Jitted:
    """Compile fn: trace it with the engine once per argument shape, then run its graph as plain Python.

    fn takes numbers or trees of them ((nested) lists, tuples, dicts with string keys, numpy arrays: it
    is traced with the same structure of Values) and returns one Value built from them and from Values
    it closes over (a model's parameters). The call returns a JitResult: the output as a float
    (also `.data`), with `.backward()`; after backward() every leaf Value fn used has the gradient the
    engine would give, added to its .grad as the engine adds it. Leaves are read at every call, so
    optimizers just work.

    Like torch.jit.trace, this records one path through fn: Python control flow that depends on data
    (`if x.data > 0:`) is frozen at trace time; a bool() of a Value while tracing warns
    (JitTraceWarning), an `if` on `.data` cannot be seen. A value computed under no_grad() inside fn
    is a constant, frozen at its traced value. Branches inside ops (relu, domain checks) run every
    call. `.source` is the generated code.

    A new argument shape (another list length) traces again: fn runs once with Values and its graph is
    compiled, tens of µs a node with the python backend (several times a call run by the engine,
    hundreds of times a compiled call), and the program is kept, a few hundred bytes a node. At most
    `max_programs` are kept (MAX_PROGRAMS, 32, by default): past that the least recently used one is
    dropped, its memory freed, and jit warns once (JitCacheWarning), naming fn. Calls that cycle
    through more shapes than that trace every time.

    fn may also return a tree of Values (a tuple, list, dict, array), as grad(f), value_and_grad(f) and
    jacobian(f) do when traced: the call then returns the same tree of floats (an array: float64), and
    there is no backward(). So jit(grad(f)) is f's
    gradient as generated code. A derivative that branches on data (relu's slope) keeps the branch taken
    while tracing; jit warns (JitTraceWarning) when it traces one.
    """
    return Jitted(fn, backend, max_programs)
