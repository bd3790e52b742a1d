"""Every op of the table of local derivatives, as the tests use it: how to apply it, and where.

Built from chainrule.rules.RULES: a new row joins every test that reads this file (engine against torch
and central differences, the table against the closures, jit, explain, the fuzzers) with no edit here,
unless it has an edge of its own to keep away from. On torch tensors an op is its row run by a torch
interpreter (TORCH below): the same row, read by an independent implementation of every function.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import chainrule.math  # noqa: F401 (registers the library's rows)
from chainrule.math.values import node
from chainrule.rules import FLOATS, RULES, Rule

# The ops engine.py writes by hand: applied as a person writes them, so the engine's own closures run
ENGINE: dict[str, Callable[..., Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
    "pow": operator.pow,
    "neg": operator.neg,
    **{name: operator.methodcaller(name) for name in ("tanh", "exp", "log", "sin", "cos", "relu", "sigmoid")},
}
EXPONENTS = (2.0, 3.0, -1.0, -2.0, 0.5, 2.5, 0.0, 1.0)  # for x ** n: integer, negative, fractional, 0 and 1
ORDERS = (0.0, 1.0, 2.0)  # for polygamma's n
KINKS = {"relu": 1e-2, "fabs": 1e-2, "hypot": 1e-2}  # slopes that jump at 0: how far central differences stay
INTERNAL = {"power_slope", "value_power_slope", "exponent_slope", "quotient"}  # rows the others' slopes use
PIECEWISE = {"floor", "ceil", "trunc", "fmod", "copysign", "atan2"}  # jumps (atan2's: its branch cut)
COMPARED = {"gt", "ge", "lt", "le", "eq", "ne"}  # 1.0 or 0.0: a jump where a = b
SELECTS = {"if_true", "if_false"}  # where's halves: a jump where the condition a crosses 0
PIECEWISE |= COMPARED | SELECTS | {"mod", "floordiv", "round"}
DIGITS = (0.0, 1.0, -1.0)  # for round's n
# The ops the random-graph fuzzers draw: every row but the piecewise ones, the slopes' own rows and
# polygamma (an order n must be a whole number); those are held by the cases above at their points
FUZZED = [
    rule for rule in RULES if rule.python is None and rule.name not in INTERNAL | PIECEWISE | {"polygamma"}
]


def exponents(rule: Rule) -> tuple[float, ...] | tuple[None]:
    if not rule.exponent:
        return (None,)
    return ORDERS if rule.name == "polygamma" else DIGITS if rule.name == "round" else EXPONENTS


def _is_tensor(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def apply(rule: Rule, a: Any, b: Any = None, n: float | None = None) -> Any:
    """The op on Values (the engine's hand-written op, or the library's node) or on torch tensors."""
    parents = (a, b)[: rule.arity]
    if any(_is_tensor(x) for x in parents):
        return rule.value(TORCH, parents, n)
    if rule.name in ENGINE:
        return ENGINE[rule.name](*parents, *(() if n is None else (n,)))
    return node(rule, *parents, n=n)


def applier(rule: Rule, n: float | None = None) -> Callable[..., Any]:
    """The op as a function of its parents alone (n fixed), for gradcheck and torch alike."""
    return lambda *parents: apply(rule, *parents, n=n)


def near_kink(rule: Rule, a: float, b: float | None, distance: float = 1e-2) -> bool:
    """Whether (a, b) is within distance of a point where the op's slope or value jumps."""
    if abs(a) < KINKS.get(rule.name, 0.0):
        return True
    if rule.name in ("floor", "ceil", "trunc"):
        return abs(a - round(a)) < distance
    if rule.name == "atan2":  # the branch cut: a = 0 with b < 0
        return abs(a) < distance and (b or 0.0) < distance
    if rule.name == "copysign":
        return abs(a) < distance or abs(b or 0.0) < distance
    if rule.name in ("fmod", "mod", "floordiv"):
        return not b or abs(a / b - round(a / b)) < distance
    if rule.name in COMPARED:
        return abs(a - (b or 0.0)) < distance
    if rule.name in SELECTS:
        return abs(a) < distance
    if rule.name == "round":  # its jumps are at the halves, at every number of digits the tests use
        return any(abs(abs(a * 10**k - round(a * 10**k)) - 0.5) < distance for k in (-1, 0, 1))
    return False


def defined(rule: Rule, a: float, b: float, n: float | None, margin: float = 0.0) -> bool:
    """Whether the op and its slopes are finite everywhere within `margin` of (a, b).

    The edges of the table's ops are at 0 or at ±1 (asin, acosh, atanh), and Γ's poles at the
    non-positive integers, so an interval that straddles one is tested at it too; a kink is kept at
    its distance."""
    if near_kink(rule, a, b):
        return False

    def around(x: float) -> list[float]:
        points = [x - margin, x, x + margin]
        edges = [edge for edge in (0.0, 1.0, -1.0, -2.0) if x - margin < edge < x + margin]
        return points + edges

    for u in around(a):
        for v in around(b) if rule.arity == 2 else [b]:
            try:
                out = rule.value(FLOATS, (u, v)[: rule.arity], n)
                slopes = [rule.share(i, FLOATS, (u, v)[: rule.arity], n, out, 1.0) for i in range(rule.arity)]
            except (ValueError, ZeroDivisionError, OverflowError):
                return False
            if not all(math.isfinite(x) for x in (out, *slopes)):
                return False
    return True


# Unit-test points: negative and near-zero ones, each op kept inside its domain
_CANDIDATES = [(1.5, -2.0), (-0.3, 1e-4), (0.0, 3.0), (-0.7, 0.05), (1e-4, -0.3), (2.0, 0.5), (-2.0, 7.0)]


def points(rule: Rule) -> list[tuple[tuple[float, ...], float | None]]:
    """(parents' values, n) at which a test can check the op: its domain, away from kinks."""
    chosen = []
    for n in exponents(rule):
        for a, b in _CANDIDATES:
            if defined(rule, a, b, n, margin=1e-3):
                chosen.append(((a, b)[: rule.arity], n))
    return chosen


CASES = [(rule, parents, n) for rule in RULES if rule.python is None for parents, n in points(rule)]
CASE_IDS = [f"{rule.name}{parents}{'' if n is None else f'n={n:g}'}" for rule, parents, n in CASES]


class _Torch:
    """The rows run on torch tensors: every function is torch's own (a test's independent oracle)."""

    def __getattr__(self, name: str) -> Any:
        import torch

        special = {
            "divide": operator.truediv,
            "quotient": operator.truediv,
            "power": torch.pow,
            "value_power": torch.pow,
            "power_slope": lambda a, n: n * a ** (n - 1) if n != 0 else 0.0 * a,
            "value_power_slope": lambda a, b: b * a ** (b - 1),
            "exponent_slope": lambda a, b: b * torch.log(a),
            "cbrt": lambda a: torch.sign(a) * torch.abs(a) ** (1 / 3),
            "gamma": lambda a: torch.exp(torch.lgamma(a)) * math.copysign(1.0, math.gamma(float(a))),
            "polygamma": lambda a, n: torch.special.polygamma(int(n), a),
            "fabs": torch.abs,
            "degrees": torch.rad2deg,
            "radians": torch.deg2rad,
            "mod": torch.remainder,
            "floordiv": lambda a, b: torch.floor(a / b),
            "round_half_even": lambda a, n: torch.round(a, decimals=int(n)),
            "where": lambda c, x, y: torch.where(_holds(torch, c), _tensor(torch, x), _tensor(torch, y)),
            **{cmp: _compare(torch, cmp) for cmp in ("gt", "ge", "lt", "le", "eq", "ne")},
        }
        function = special.get(name) or getattr(torch, name)
        return lambda *args: function(
            *(x if _is_tensor(x) or isinstance(x, bool) else _tensor(torch, x) for x in args)
        )


def _holds(torch: Any, condition: Any) -> Any:
    """A condition as torch.where takes it: a comparison's bools, or a number's truth (nonzero)."""
    return torch.as_tensor(condition) != 0


def _tensor(torch: Any, x: Any) -> Any:
    return torch.as_tensor(x, dtype=torch.float64)


def _compare(torch: Any, name: str) -> Callable[[Any, Any], Any]:
    return lambda x, y: getattr(torch, name)(_tensor(torch, x), _tensor(torch, y))


TORCH = _Torch()
