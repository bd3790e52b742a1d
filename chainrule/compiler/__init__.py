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
from chainrule.compiler.paths import Engine, Path, compile_path, run_eagerly
from chainrule.compiler.python_code import PythonProgram, Restructure
from chainrule.compiler.trace import JitTraceWarning, ValueArgument, normalize
from chainrule.engine import Value

__all__ = [
    "BACKENDS",
    "MAX_PATHS",
    "MAX_PROGRAMS",
    "JitCacheWarning",
    "JitFallbackWarning",
    "JitResult",
    "JitTraceWarning",
    "Jitted",
    "jit",
]

MAX_PROGRAMS = 32  # argument shapes a jitted function keeps programs for, unless jit is told otherwise
MAX_PATHS = 8  # paths through fn's branches traced per shape before its calls run on the engine
_ENGINE = "engine"  # (_ENGINE, several) in place of a shape's paths: its calls run on the engine


def _native(fn: Callable[..., Value], shape: Any, tape: Any) -> Any:
    """The native backend, imported when first asked for: chainrule imports without numba."""
    from chainrule.compiler.native import NativeProgram

    return NativeProgram(fn, shape, tape)


# As NativeProgram: a fn that returns a tuple of Values runs too (forward only), and a grad of f is
# compiled as f alone, its gradients taken by the backward pass
_native.several_outputs = True  # type: ignore[attr-defined]
_native.differentiates = True  # type: ignore[attr-defined]


BACKENDS: dict[str, Callable[..., Any]] = {"python": PythonProgram, "native": _native}


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


class JitFallbackWarning(UserWarning):
    """A jitted function took more paths through its branches than jit traces: it runs on the engine."""


class Jitted:
    """fn, traced once per argument shape and run as generated Python. See `jit`."""

    def __init__(
        self,
        fn: Callable[..., Value],
        backend: str = "python",
        max_programs: int = MAX_PROGRAMS,
        max_paths: int = MAX_PATHS,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"jit: backend must be one of {', '.join(map(repr, BACKENDS))}, got {backend!r}")
        for name, limit in (("max_programs", max_programs), ("max_paths", max_paths)):
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
                raise ValueError(f"jit: {name} must be a whole number >= 1, got {limit!r}")
        if backend == "native":  # fail now, naming the pip install, if numba is missing
            import chainrule.compiler.native  # noqa: F401
        self.fn, self.backend, self.max_programs, self.max_paths = fn, backend, max_programs, max_paths
        # shape -> its paths, most recently taken first (or _ENGINE); shapes least recently used first;
        # the lock keeps it whole when threads call at once
        self._programs: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._warned = self._fell_back = False
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
        path = self._last
        if path is not None and path.positional and not kwargs:
            found = _fitting(path.siblings, args, path)  # the latest path first, then its shape's others
            if found is not None:
                self._last = found[0]
                return _result(found[1], found[2], found[0])
        names = sorted(kwargs)
        try:
            normalized, shape = normalize((*args, *(kwargs[name] for name in names)))
        except ValueArgument:  # Values as arguments (a jitted fn called while tracing): the engine's job
            return self.fn(*args, **kwargs)
        key = (len(args), tuple(names), shape)
        traced_args, traced_kwargs = normalized[: len(args)], dict(zip(names, normalized[len(args) :]))
        with self._lock:
            paths = self._programs.get(key)
            if paths is not None:
                self._programs.move_to_end(key)
        if isinstance(paths, tuple):  # (_ENGINE, several): this shape's calls run on the engine
            data, saved = run_eagerly(self.fn, traced_args, traced_kwargs, paths[1])
            return data if paths[1] else JitResult(data, saved, Engine if grad_mode.is_enabled() else None)
        found = _fitting(paths or [], normalized)
        if found is not None:
            taken, data, saved = found
            self._last = taken
            with self._lock:
                if paths is not None and taken in paths:
                    paths.remove(taken)
                    paths.insert(0, taken)
            return _result(data, saved, taken)
        if paths is not None and len(paths) >= self.max_paths:
            self._fall_back(key, paths[0].several)
            return self(*args, **kwargs)
        path = compile_path(BACKENDS[self.backend], self.fn, shape, traced_args, traced_kwargs)
        self._keep(key, path)
        self._last = path
        data, saved = path.program.forward(normalized, path.leaves)  # the trace has just taken this path
        return _result(data, saved, path)

    def _fall_back(self, key: Any, several: bool) -> None:
        """Run this shape's calls on the engine from now on, warning the first time."""
        with self._lock:
            paths = self._programs.get(key)
            if isinstance(paths, list):
                paths.clear()  # no path of this shape is tried first any more (each costs its guards)
            self._programs[key] = (_ENGINE, several)
            self._last = None
            first, self._fell_back = not self._fell_back, True
        if first:
            warnings.warn(
                f"jit: {_name(self.fn)} has taken {self.max_paths} paths through its branches for one "
                f"argument shape (max_paths={self.max_paths}), and now another: its path depends on its "
                "numbers at nearly every call, so each would trace again, which costs far more than a call. "
                "Its calls of this shape now run on the engine, as fast as calling it without jit. Write "
                "branches that should compile with chainrule.where, or give jit(..., max_paths=N).",
                JitFallbackWarning,
                stacklevel=4,  # the call of the jitted function
            )

    def _keep(self, key: Any, path: Path) -> None:
        """Hold a new path; past max_programs shapes, the least recently used is dropped (warning once)."""
        with self._lock:
            paths = self._programs.get(key)
            if not isinstance(paths, list):
                paths = self._programs[key] = []
            paths.insert(0, path)
            path.siblings = paths
            full = len(self._programs) > self.max_programs
            while len(self._programs) > self.max_programs:
                self._programs.popitem(last=False)
            first = full and not self._warned
            self._warned = self._warned or full
        if first:
            warnings.warn(
                f"jit: {_name(self.fn)} has been traced for more than {self.max_programs} argument shapes "
                f"(max_programs={self.max_programs}): the least recently used programs are dropped, and a "
                "shape met again is traced again, which costs far more than a call. Give it fewer shapes "
                "(pad lists to a few lengths), or a larger jit(..., max_programs=N).",
                JitCacheWarning,
                stacklevel=3,  # the call of the jitted function
            )


def _fitting(paths: list[Path], args: Any, latest: Path | None = None) -> tuple[Path, Any, tuple] | None:
    """(the first path whose guards hold for args, latest tried first; its value; what backward needs)."""
    if latest is not None:  # (most calls: the latest path, tried without building a list of the others)
        try:
            return latest, *latest.forward(args, latest.leaves)
        except Restructure:
            pass
    for path in paths:
        if path is latest:
            continue
        try:
            data, saved = path.forward(args, path.leaves)
        except Restructure:  # another path (GuardFailed), another shape, numbers that are not floats
            continue
        return path, data, saved
    return None


def _name(fn: Any) -> str:
    return getattr(fn, "__qualname__", repr(fn))


def _result(data: Any, saved: tuple, program: Any) -> Any:
    """A JitResult for one Value; for a tuple of Values (a gradient), their floats as fn nested them."""
    if getattr(program, "several", False):
        return data if program.outputs is None else program.shaped(data)
    return JitResult(data, saved, program if grad_mode.is_enabled() else None)


def jit(
    fn: Callable[..., Value],
    backend: str = "python",
    max_programs: int = MAX_PROGRAMS,
    max_paths: int = MAX_PATHS,
) -> Jitted:
    """Compile fn: trace it with the engine once per argument shape and path, then run its graph as code.

    fn takes numbers or (nested) lists or tuples of numbers and returns one Value built from them and from
    Values it closes over (a model's parameters). The call returns a JitResult: the output as a float
    (also `.data`), with `.backward()`; after backward() every leaf Value fn used has the gradient the
    engine would give, added to its .grad as the engine adds it. Leaves are read at every call, so
    optimizers just work.

    Control flow is Python's, and never silently wrong. A branch on a comparison of Values (`if x > 0:`,
    `while abs(y * y - x) > tol:`, `max(a, b)`) is a guard of the compiled path: a call on which a guard
    comes out otherwise is traced again for its own path, and the paths are kept (compiler/paths.py). Past
    `max_paths` paths for one shape (MAX_PATHS, 8) its calls run on the engine, and jit warns once
    (JitFallbackWarning), naming fn. `chainrule.where(x > 0, a, b)` is compiled as it is: one path serves
    both sides, and so do the branches inside ops and derivatives (relu and its slope). A read of `.data`
    inside fn is invisible to guards: jit warns (JitTraceWarning) naming the file and line. A value
    computed under no_grad() inside fn is a constant, frozen at its traced value. `.source` is the
    generated code of the latest path.

    A new argument shape (another list length) or path traces again: fn runs once with Values and its
    graph is compiled, tens of µs a node with the python backend (several times a call run by the engine,
    hundreds of times a compiled call), and the program is kept, a few hundred bytes a node. At most
    `max_programs` shapes are kept (MAX_PROGRAMS, 32, by default): past that the least recently used one
    is dropped, its memory freed, and jit warns once (JitCacheWarning), naming fn. Calls that cycle
    through more shapes than that trace every time.

    fn may also return a (nested) tuple of Values, as grad(f) and value_and_grad(f) do when traced: the
    call then returns the same nesting of floats, and there is no backward(). So jit(grad(f)) is f's
    gradient as generated code, and jit(hessian(f)) and jit(hvp(f)) compile too.
    """
    return Jitted(fn, backend, max_programs, max_paths)
