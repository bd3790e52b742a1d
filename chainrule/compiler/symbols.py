"""Rows run on symbols: the interpreter that writes a row as source code, for both backends.

A `Symbol` is a piece of Python source with its precedence. Arithmetic on symbols writes the
expression, parenthesised so that it computes the same operations in the same order as the row
does on floats (floats are not associative: `a + (b + c)` keeps its parentheses), and `o.tanh(x)`
writes a call of the function the generated code's namespace gives that name. The python backend
runs a row with its program's variables (`v3`, `g7`), the native kernel with `a`, `b`, `out`, `grad`.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from chainrule import rules

COMPARISON, SUM, PRODUCT, UNARY, ATOM = 0, 1, 2, 3, 4  # precedence: a symbol binds as tightly as its level


def literal(x: float) -> str:
    """Python source for a number, exact: repr round-trips; inf and nan are names of the namespace."""
    x = float(x)
    if math.isfinite(x):
        return repr(x)
    return "-inf" if x < 0 else "inf" if x > 0 else "nan"


class Symbol(rules.Written):
    """Source text that computes a value; `reads` are the variables it uses."""

    __slots__ = ("level", "reads", "text")

    def __init__(self, text: str, level: int = ATOM, reads: frozenset[str] | None = None) -> None:
        self.text, self.level = text, level
        self.reads = frozenset({text}) if reads is None else reads

    def __repr__(self) -> str:
        return f"Symbol({self.text!r})"

    def _binary(self, symbol: str, level: int, left: Any, right: Any) -> Symbol:
        left, right = _symbol(left), _symbol(right)
        left_text = left.text if left.level >= level else f"({left.text})"
        right_text = right.text if right.level > level else f"({right.text})"
        return Symbol(f"{left_text} {symbol} {right_text}", level, left.reads | right.reads)

    def combine(self, operator: str, left: Any, right: Any) -> Symbol:
        return self._binary(operator, SUM if operator in "+-" else PRODUCT, left, right)

    def compare(self, operator: str, right: Any) -> Symbol:
        """self op right: Python chains comparisons (`a > b > c` is `a > b and b > c`), so a comparison
        on either side keeps its parentheses."""
        sides = self, _symbol(right)
        left_text, right_text = (s.text if s.level > COMPARISON else f"({s.text})" for s in sides)
        return Symbol(f"{left_text} {operator} {right_text}", COMPARISON, self.reads | sides[1].reads)

    def __neg__(self) -> Symbol:
        return Negated(self)


class Negated(Symbol):
    """-x: kept apart so a share written -(x) can be written `g -= x`, as the closure's `-=`."""

    __slots__ = ("operand",)

    def __init__(self, operand: Symbol) -> None:
        text = operand.text if operand.level >= ATOM else f"({operand.text})"
        super().__init__(f"-{text}", UNARY, operand.reads)
        self.operand = operand


def _symbol(x: Any) -> Symbol:
    if isinstance(x, Symbol):
        return x
    text = literal(x)
    return Symbol(text, ATOM if not text.startswith("-") else UNARY, frozenset())


_COMPARE = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "==", "ne": "!="}


class Symbols:
    """The interpreter: `o.name(x, y)` writes a call of `name` (a floatmath function the generated
    code's namespace holds, under the name `names` gives it); `call` writes a user's op."""

    def __init__(self, names: dict[str, str] | None = None) -> None:
        self.names = names or {}
        self.calls: dict[str, Any] = {}  # the user's functions the text calls, by the name it gives them
        self.used: set[str] = set()  # the names of the floatmath functions it calls

    def where(self, condition: Any, if_true: Any, if_false: Any) -> Symbol:
        condition, if_true, if_false = map(_symbol, (condition, if_true, if_false))
        reads = condition.reads | if_true.reads | if_false.reads
        return Symbol(f"({if_true.text} if {condition.text} else {if_false.text})", ATOM, reads)

    def call(self, rule: rules.Rule, k: int, *args: Any) -> Symbol:
        assert rule.python is not None, f"{rule.name!r} is not a user's op"
        name = f"op{rules.RULES.index(rule)}_{k}"  # the row's place in the table: a name, never user text
        self.calls[f"call_{name}"] = functools.partial(rules.call, rule, k)  # a float, or an error naming it
        return self._write(f"call_{name}", args)

    def _write(self, name: str, args: Any) -> Symbol:
        symbols = [_symbol(x) for x in args]
        reads = frozenset().union(*(s.reads for s in symbols))
        return Symbol(f"{name}({', '.join(s.text for s in symbols)})", ATOM, reads)

    def __getattr__(self, name: str) -> Any:
        if name in _COMPARE:
            return lambda x, y: _symbol(x).compare(_COMPARE[name], y)
        if name not in rules.FLOATS.__dict__:
            raise AttributeError(f"the generated code has no function {name!r}")
        self.used.add(name)
        return lambda *args: self._write(self.names.get(name, name), args)


def written(value: Any) -> Symbol:
    """A row's result as a symbol (a number the row computed, such as 0.0, as its literal)."""
    return _symbol(value)
