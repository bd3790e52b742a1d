"""A Value behaves like the float it holds: comparisons, bool(), where, round, % and //.

`x < y` (with Values or numbers on either side) is a `Comparison`: it remembers its two sides and
its outcome. `bool()` of it is the outcome, as a float's comparison is, so `if`, `while`, `min`,
`max` and `sorted` work and the gradient goes where the branch taken sends it. While jit traces, each
bool() is told to the trace, which makes it a guard of the compiled program (compiler/trace.py).
`where(condition, a, b)` is the branch without branching: a node of the graph, so a compiled program
computes the condition at every call.

`==` between Values stays identity, as for any Python object: the engine and every graph reader keep
Values in sets and dicts and look them up in tuples, and identity is what they need. Numeric equality
is `equal(x, y)`, a Comparison; `v == 2.0` is refused (identity would say False, silently).
"""

from __future__ import annotations

import numbers
from typing import Any

from chainrule import floatmath
from chainrule.engine import Value
from chainrule.math.values import node
from chainrule.rules import BY_NAME, COMPARISONS, Rule, register
from chainrule.runtime import tracing

_WRITTEN = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "==", "ne": "!="}


def _compared(name: str) -> Rule:
    """A comparison as an op: 1.0 where it holds, 0.0 where not; slope 0 on both sides."""
    return Rule(
        name,
        f"a {_WRITTEN[name]} b",
        lambda o, a, b: o.where(getattr(o, name)(a, b), 1.0, 0.0),
        (lambda o, a, b, out, g: 0.0, lambda o, a, b, out, g: 0.0),
        None,
    )


ROWS = [
    *(_compared(name) for name in _WRITTEN),
    # where(c, a, b) is if_true(c, a) + if_false(c, b): the side not taken is -0.0, which adds nothing
    # (x + -0.0 is x, to the bit), and its gradient is exactly 0.0, never 0 · its slope
    Rule(
        "if_true",
        "if_true(a, b)",
        lambda o, c, a: o.where(c, a, -0.0),
        (lambda o, c, a, out, g: 0.0, lambda o, c, a, out, g: o.where(c, g, 0.0)),
        None,
    ),
    Rule(
        "if_false",
        "if_false(a, b)",
        lambda o, c, b: o.where(c, -0.0, b),
        (lambda o, c, b, out, g: 0.0, lambda o, c, b, out, g: o.where(c, 0.0, g)),
        None,
    ),
    Rule(
        "mod",  # Python's a % b = a - b·floor(a/b): d/da = 1, d/db = -(a // b)
        "a % b",
        lambda o, a, b: o.mod(a, b),
        (lambda o, a, b, out, g: g, lambda o, a, b, out, g: -(o.floordiv(a, b) * g)),
        native=False,
    ),
    Rule(
        "floordiv",
        "a // b",
        lambda o, a, b: o.floordiv(a, b),
        (lambda o, a, b, out, g: 0.0, lambda o, a, b, out, g: 0.0),
        native=False,
    ),
    Rule(
        "round",
        "round(a, n)",
        lambda o, a, n: o.round_half_even(a, n),
        (lambda o, a, n, out, g: 0.0,),
        "round_half_even",
        exponent=True,
        native=False,
    ),
]
for _rule in ROWS:
    register(_rule)


class Comparison:
    """`left op right` and its outcome; bool() is the outcome (told to a jit trace, as a guard)."""

    __slots__ = ("left", "op", "outcome", "right")

    def __init__(self, left: Value | float, op: str, right: Value | float) -> None:
        self.left, self.op, self.right = left, op, right
        data = [x.data if isinstance(x, Value) else x for x in (left, right)]
        self.outcome: bool = COMPARISONS[op](*data)

    def __bool__(self) -> bool:
        for listener in tracing.tracing_listeners():  # jit is tracing here: the branch is a guard
            listener(self)
        return self.outcome

    def node(self) -> Value:
        """The comparison as a node of the graph: 1.0 where it holds, 0.0 where not (slope 0)."""
        return node(BY_NAME[self.op], self.left, self.right)

    def __repr__(self) -> str:
        return f"Comparison({self.left!r} {_WRITTEN[self.op]} {self.right!r}: {self.outcome})"


def _side(x: Any, op: str) -> Value | float:
    if isinstance(x, Value):
        return x
    if isinstance(x, Comparison):
        raise TypeError(
            f"a Value {_WRITTEN[op]} a comparison: write each comparison on its own "
            "(`0 < x < 1` is `0 < x and x < 1`, which Python does for you)"
        )
    return floatmath.real(x, f"a comparison ({_WRITTEN[op]}) of a Value")  # refuses strings, None, ...


def compare(left: Any, op: str, right: Any) -> Comparison:
    """`left op right` (op: gt, ge, lt, le, eq, ne), one side at least a Value: a Comparison."""
    return Comparison(_side(left, op), op, _side(right, op))


def equal(x: Any, y: Any) -> Comparison:
    """x == y as numbers, for Values (`==` itself is identity): a Comparison, for `if` or `where`."""
    return compare(x, "eq", y)


def not_equal(x: Any, y: Any) -> Comparison:
    """x != y as numbers, for Values: a Comparison."""
    return compare(x, "ne", y)


def where(condition: Any, if_true: Any, if_false: Any) -> Any:
    """if_true where the condition holds, else if_false, as a node: no branch, so a compiled program
    takes the side each call needs. condition: a Comparison (x > 0), a Value (true where nonzero, as
    bool() of a float), or a bool (then simply one side). Both sides are computed; the gradient goes
    to the side taken, and the other side's gradient is exactly 0."""
    if isinstance(condition, Comparison):
        condition = condition.node()
    elif not isinstance(condition, Value):
        if not isinstance(condition, bool | numbers.Real):
            raise TypeError(
                f"where: the condition must be a comparison (x > 0), a Value or a bool, got "
                f"{type(condition).__name__}: {condition!r}"
            )
        return if_true if condition else if_false
    return node(BY_NAME["if_true"], condition, if_true) + node(BY_NAME["if_false"], condition, if_false)


# --- the float's protocol, on Value (methods Python looks up on the type) --------------------------------


def _ordering(op: str) -> Any:
    def method(self: Value, other: Any) -> Comparison:
        return compare(self, op, other)

    method.__name__ = f"__{op}__"
    method.__doc__ = f"v {_WRITTEN[op]} other: a Comparison (bool() is the outcome; where() reads it)."
    return method


def _bool(self: Value) -> bool:
    """bool(v) as a float's: False at 0.0 (a guard while jit traces, as any comparison)."""
    return bool(Comparison(self, "ne", 0.0))


def _eq(self: Value, other: object) -> Any:
    """Identity for Values (graphs keep Values in sets and dicts); refused against a number."""
    if isinstance(other, numbers.Number) and not isinstance(other, Value):
        raise TypeError(
            "a Value == a number is not a numeric comparison (== is identity for Values): write "
            "chainrule.equal(v, x) for one (an `if` or a where), or v.data == x for the plain numbers"
        )
    return self is other if isinstance(other, Value) else NotImplemented


def _ne(self: Value, other: object) -> Any:
    equal_ = _eq(self, other)
    return equal_ if equal_ is NotImplemented else not equal_


def _round(self: Value, digits: int | None = None) -> Value:
    """round(v[, digits]): Python's rounding of the float (half to even), a Value with slope 0."""
    if digits is not None and (not isinstance(digits, int) or isinstance(digits, bool)):
        raise TypeError(f"round(Value, digits): digits must be an int, got {type(digits).__name__}")
    return node(BY_NAME["round"], self, n=0.0 if digits is None else float(digits))


def _binary(name: str, reflected: bool = False) -> Any:
    def method(self: Value, other: Any) -> Value:
        if not isinstance(other, Value | numbers.Real) or isinstance(other, bool):
            return NotImplemented
        number: Any = other
        return node(BY_NAME[name], number, self) if reflected else node(BY_NAME[name], self, number)

    return method


_PROTOCOL = {f"__{op}__": _ordering(op) for op in ("lt", "le", "gt", "ge")} | {
    "__bool__": _bool,
    "__eq__": _eq,
    "__ne__": _ne,
    "__hash__": object.__hash__,  # identity, as before
    "__round__": _round,
    "__mod__": _binary("mod"),
    "__rmod__": _binary("mod", True),
    "__floordiv__": _binary("floordiv"),
    "__rfloordiv__": _binary("floordiv", True),
    "__divmod__": lambda self, other: (self // other, self % other),
    "__rdivmod__": lambda self, other: (other // self, other % self),
}
for _name, _method in _PROTOCOL.items():
    setattr(Value, _name, _method)  # methods Python looks up on the type, as math/__init__ adds abs()
