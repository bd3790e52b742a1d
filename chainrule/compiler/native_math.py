"""floatmath for numba: the engine's own float functions, compiled, not restated.

Each function of floatmath is compiled by numba from floatmath's own code, in a namespace where
every function it calls is compiled too. numba calls the same libm functions CPython's math module
calls, and raises floatmath's own errors with their numbers (DomainError's message is formatted
when it is read), so the native interpreter refuses what the engine refuses, message and all.
The rows whose functions numba cannot compile, or computes otherwise than CPython (Γ, ln Γ, hypot,
fmod, cbrt), are marked `native=False` in the table: the interpreter calls back into Python for them.
"""

from __future__ import annotations

import hashlib
import inspect
import types
from pathlib import Path
from typing import Any

from numba import njit

from chainrule import floatmath
from chainrule.floatmath import core, special

_inline = njit(inline="always", error_model="numpy")


def _compile_all() -> dict[str, Any]:
    """Every function of floatmath's modules, compiled, each calling the compiled others."""
    namespace: dict[str, Any] = {}
    for module in (core, special):
        namespace.update(vars(module))
    plain = {
        name: value
        for name, value in namespace.items()
        if isinstance(value, types.FunctionType) and value.__module__.startswith("chainrule.floatmath")
    }
    for name, function in plain.items():
        copy = types.FunctionType(
            function.__code__, namespace, name, function.__defaults__, function.__closure__
        )
        namespace[name] = _inline(copy)  # compiled when first called; the names it calls resolve here
    return {name: namespace.get(name, getattr(floatmath, name)) for name in floatmath.__all__}


COMPILED = _compile_all()


def source_hash() -> str:
    """A hash of floatmath's code: the generated interpreter carries it, so numba's cache of the
    interpreter is rebuilt when any float function changes."""
    digest = hashlib.sha256()
    for module in (core, special, floatmath):
        digest.update(Path(inspect.getfile(module)).read_bytes())
    return digest.hexdigest()
