"""Every op of the table of local derivatives, as the tests use it: how to apply it, and where.

Built from chainrule.rules.RULES: a new row joins every test that reads this file (engine against torch
and central differences, the table against the closures, jit, explain, the fuzzers) with no edit here,
unless it has an edge of its own to keep away from.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from chainrule.rules import FLOATS, RULES, Rule, function

# x.tanh(): the same call for a Value and a torch tensor
METHODS = {rule.symbol: operator.methodcaller(rule.symbol) for rule in RULES if rule.written.endswith("(a)")}
EXPONENTS = (2.0, 3.0, -1.0, -2.0, 0.5, 2.5, 0.0, 1.0)  # for x ** n: integer, negative, fractional, 0 and 1
KINKS = {"relu": 1e-2}  # ops whose slope jumps at 0: how far central differences must stay from it


def apply(rule: Rule, a: Any, b: Any = None, n: float | None = None) -> Any:
    """The op as a person writes it (rule.written: `a + b`, `tanh(a)`, `a ** n`), on Values or tensors."""
    return function(rule.written, METHODS)(a, b, n, None, None)


def applier(rule: Rule, n: float | None = None) -> Callable[..., Any]:
    """The op as a function of its parents alone (n fixed), for gradcheck and torch alike."""
    return lambda *parents: apply(rule, *parents, n=n)


def defined(rule: Rule, a: float, b: float, n: float | None, margin: float = 0.0) -> bool:
    """Whether the op and its slopes are finite everywhere within `margin` of (a, b).

    Every edge of the table's ops (log, division, powers) is at 0, so an interval that straddles 0 is
    tested at 0 too; a kink (relu) is kept at its distance."""
    if abs(a) < KINKS.get(rule.name, 0.0):
        return False

    def around(x: float) -> list[float]:
        points = [x - margin, x, x + margin]
        return points + ([0.0] if x - margin < 0 < x + margin else [])

    for u in around(a):
        for v in around(b) if rule.arity == 2 else [b]:
            try:
                out = function(rule.forward, FLOATS)(u, v, n, None, None)
                slopes = [function(p, FLOATS)(u, v, n, out, 1.0) for p in rule.partials]
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
    for n in EXPONENTS if rule.has_exponent else (None,):
        for a, b in _CANDIDATES:
            if defined(rule, a, b, n, margin=1e-3):
                chosen.append(((a, b)[: rule.arity], n))
    return chosen


CASES = [(rule, parents, n) for rule in RULES for parents, n in points(rule)]
CASE_IDS = [f"{rule.name}{parents}{'' if n is None else f'n={n:g}'}" for rule, parents, n in CASES]
