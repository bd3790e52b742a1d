"""The functions an expression typed at the command line may call: chainrule.math's, and the engine's
relu and sigmoid, each with how many arguments it takes."""

from __future__ import annotations

from collections.abc import Callable

from chainrule import math as library
from chainrule.engine import Value

# chainrule.math's functions, and the engine's relu and sigmoid, each with how many arguments it takes
FUNCTIONS: dict[str, Callable[..., Value]] = {
    **{name: getattr(library, name) for name in (*library.UNARY, *library.BINARY, *library.ROUNDING)},
    **{name: getattr(library, name) for name in ("log", "pow", "hypot")},
    "relu": Value.relu,
    "sigmoid": Value.sigmoid,
}
FUNCTIONS = dict(sorted(FUNCTIONS.items()))
ARGUMENTS: dict[str, range] = {name: range(1, 2) for name in FUNCTIONS}
ARGUMENTS |= {name: range(2, 3) for name in (*library.BINARY, "pow")}
ARGUMENTS |= {"log": range(1, 3), "hypot": range(1, 100)}
