"""Rows run on formulas: the interpreter that writes a local derivative as math a person reads.

`formula(rule, i, parents, n, out)` runs the row's partial for parent i on `Formula`s named as the
graph's nodes, with the gradient that arrived set to one (`ONE`, which a product drops), so
`(1 - out * out) * grad` reads `1 - f²`, `-(grad * (a / b / b))` reads `-x/y²`, and relu's
`where(a > 0, grad, 0)` reads `[y > 0]`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chainrule.rules import Rule, Written
from chainrule.show.names import number

_COMPARISON, _SUM, _PRODUCT, _UNARY, _POWER, _ATOM = 1, 2, 3, 4, 5, 9


class Formula(Written):
    """Math text with its precedence; `one` marks the gradient set to 1."""

    __slots__ = ("level", "one", "over", "text")

    def __init__(self, text: str, level: int = _ATOM, one: bool = False, over: Formula | None = None) -> None:
        self.text, self.level, self.one = text, level, one
        self.over = over  # a quotient's (numerator, divisor) pair is kept so a/b/b can read a/b²

    def _binary(self, symbol: str, level: int, left: Any, right: Any) -> Formula:
        left, right = _formula(left), _formula(right)
        left_text = left.text if left.level >= level else f"({left.text})"
        right_text = right.text if right.level > level else f"({right.text})"
        return Formula(f"{left_text}{symbol}{right_text}", level)

    def combine(self, operator: str, left: Any, right: Any) -> Formula:
        left, right = _formula(left), _formula(right)
        if operator == "*":
            return _product(left, right)
        if operator == "/":
            return _quotient(left, right)
        return self._binary(f" {operator} ", _SUM, left, right)

    def __neg__(self) -> Formula:
        if self.one:
            return Formula("-1", _UNARY)
        return Formula("-" + (self.text if self.level >= _PRODUCT else f"({self.text})"), _UNARY)


ONE = Formula("1", one=True)


def _formula(x: Any) -> Formula:
    if isinstance(x, Formula):
        return x
    text = number(x)
    return Formula(text, _UNARY if text.startswith("-") else _ATOM)


def _product(left: Formula, right: Formula) -> Formula:
    if right.one:
        return left
    if left.one:
        return right
    if left.text == right.text:  # x·x reads as x²
        return Formula((left.text if left.level == _ATOM else f"({left.text})") + "²", _POWER)
    return left._binary("·", _PRODUCT, left, right)


def _quotient(left: Formula, right: Formula) -> Formula:
    if left.over is not None and left.over.text == right.text:  # a/b/b reads as a/b²
        return _quotient(Formula(left.text.rsplit("/", 1)[0], left.level), _product(right, right))
    result = left._binary("/", _PRODUCT, left, right)
    result.over = right
    return result


def _power_slope(x: Formula, n: Formula) -> Formula:
    """n·x^(n-1), with a number n folded: `2·x`, `3·x^2`."""
    try:
        less_one = number(float(n.text) - 1)
    except ValueError:
        return Formula(f"{n.text}·{x.text}^({n.text} - 1)", _PRODUCT)
    return Formula(f"{n.text}·{x.text}" if less_one == "1" else f"{n.text}·{x.text}^{less_one}", _PRODUCT)


_SPECIAL = {
    "power_slope": _power_slope,
    "value_power_slope": _power_slope,
    "exponent_slope": lambda a, out: Formula(f"{out.text}·ln {a.text}", _PRODUCT),
    "quotient": lambda a, b: _quotient(a, b),
    "divide": lambda a, b: _quotient(a, b),
    "polygamma": lambda x, n: Formula(f"ψ({x.text})" if n.text == "0" else f"ψ^({n.text})({x.text})"),
}
_COMPARE = {"gt": " > ", "ge": " ≥ ", "lt": " < ", "le": " ≤ ", "eq": " = ", "ne": " ≠ "}


class Formulas:
    """The interpreter: functions are written by name (`cos(x)`), a few as math (`n·x^(n-1)`)."""

    @staticmethod
    def where(condition: Any, if_true: Any, if_false: Any) -> Formula:
        condition, if_true, if_false = map(_formula, (condition, if_true, if_false))
        if if_true.one and if_false.text == "0":
            return Formula(f"[{condition.text}]")
        return Formula(f"({if_true.text} if {condition.text} else {if_false.text})")

    @staticmethod
    def call(rule: Rule, k: int, *args: Any) -> Formula:
        shown = ", ".join(_formula(x).text for x in args[: rule.arity])
        return Formula(f"{rule.symbol}({shown})" if k == 0 else f"∂{rule.symbol}/∂{k}({shown})")

    def __getattr__(self, name: str) -> Any:
        if name in _COMPARE:
            return lambda x, y: _formula(x)._binary(_COMPARE[name], _COMPARISON, x, y)
        special = _SPECIAL.get(name)
        if special is not None:
            return lambda *args: special(*map(_formula, args))
        return lambda *args: Formula(f"{name}({', '.join(_formula(x).text for x in args)})")


FORMULAS = Formulas()


def formula(rule: Rule, position: int, parents: Sequence[str], n: float | None, out: str) -> str:
    """∂out/∂parent of the row's parent at `position`, over the names a person reads."""
    share = rule.share(position, FORMULAS, [Formula(p) for p in parents], n, Formula(out), ONE)
    return _formula(share).text
