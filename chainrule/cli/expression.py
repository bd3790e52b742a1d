"""Expressions typed by a person, turned into a graph of Values without eval or exec.

The text is parsed with `ast`; every node is checked against a short list (numbers, the names given a
value, + - * / **, unary minus, parentheses, calls of chainrule.math's functions: tanh, atan2, ...) before
anything is computed, and the tree is then walked by hand, each operation done by the engine.
"""

from __future__ import annotations

import ast
import keyword
import math
import operator
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from chainrule.cli.functions import ARGUMENTS, FUNCTIONS
from chainrule.engine import Value

_OPERATORS: dict[type[ast.operator], Callable[[Value, Value], Value]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_ALLOWED = f"use numbers, names given a value (--at), + - * / **, unary minus, ( ) and {' '.join(FUNCTIONS)}"
_OPERATOR_SYMBOLS = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
}
_KINDS = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Compare: "comparisons",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.NamedExpr: "assignments",
    ast.JoinedStr: "strings",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Set: "sets",
    ast.Dict: "dicts",
    ast.Starred: "starred arguments",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}


class ExpressionError(ValueError):
    """An expression or a name=value that cannot be used; the message says why and points at the spot."""

    def __init__(self, message: str, text: str | None = None, start: int = 0, end: int = 0) -> None:
        if text is not None:
            width = max(end - start, 1)
            message = f"{message}\n  {text}\n  {' ' * start}{'^' * width}"
        super().__init__(message)


@dataclass(frozen=True)
class Expression:
    """The graph built from the text: its root, and one leaf per name (in the order the names were given)."""

    text: str
    root: Value
    inputs: dict[str, Value]


def text_of(argument: str, what: str) -> str:
    """The argument, unless it holds bytes that are not UTF-8 (Python hands them over as lone surrogates)."""
    if not any(_is_surrogate(char) for char in argument):
        return argument
    shown = "".join(_escaped(char) if _is_surrogate(char) else char for char in argument)
    raise ExpressionError(f"{what} '{shown}' holds bytes that are not UTF-8 text: type it again, in UTF-8")


def _is_surrogate(char: str) -> bool:
    return "\ud800" <= char <= "\udfff"


def _escaped(surrogate: str) -> str:
    """A byte that did not decode (U+DC80..U+DCFF) as the byte it was, \\xff; any other as \\ud800."""
    code = ord(surrogate)
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def name_of(text: str, what: str = "the name") -> str:
    """A name as Python reads one (NFKC: the full-width ｘ is x), so --at and the expression agree."""
    return unicodedata.normalize("NFKC", text_of(text, what))


def parse_bindings(items: Sequence[str]) -> dict[str, float]:
    """["x=1.5", "y=-2"] → {"x": 1.5, "y": -2.0}, refusing malformed items, odd names and repeats."""
    bindings: dict[str, float] = {}
    for item in items:
        name, equals, text = (part.strip() for part in text_of(item, "--at").partition("="))
        name = name_of(name)
        if not equals or not name or not text:
            raise ExpressionError(f"{item!r} is not name=value: write it like x=1.5")
        if not name.isidentifier() or name.startswith("_") or keyword.iskeyword(name):
            raise ExpressionError(
                f"{item!r}: {name!r} is not a name: use letters, digits and _, starting with a letter, "
                "and not a Python keyword"
            )
        if name in FUNCTIONS:
            raise ExpressionError(f"{item!r}: {name} is a function, so it cannot be a name; choose another")
        if name in bindings:
            raise ExpressionError(
                f"{name} is given twice ({name}={bindings[name]:g} and {item}): give it once"
            )
        try:
            value = float(text)
        except ValueError:
            raise ExpressionError(f"{item!r}: {text!r} is not a number") from None
        if not math.isfinite(value):
            raise ExpressionError(f"{item!r}: the value must be a finite number")
        bindings[name] = value
    return bindings


def evaluate(text: str, bindings: Mapping[str, float]) -> Expression:
    """Build the graph of `text` with each name bound to its value: the forward pass, done by the engine."""
    text_of(text, "the expression")
    if "\n" in text or "\r" in text:
        raise ExpressionError("the expression must be on one line")
    return _Builder(text, bindings).build()


class _Builder:
    def __init__(self, text: str, bindings: Mapping[str, float]) -> None:
        self.text = text
        self.bindings = dict(bindings)
        self.inputs = {name: Value(float(value), label=name) for name, value in self.bindings.items()}
        self.constants: dict[str, Value] = {}

    def build(self) -> Expression:
        stripped = self.text.lstrip()
        indent = len(self.text) - len(stripped)
        try:
            tree = ast.parse(stripped, mode="eval")
        except SyntaxError as error:
            column = indent + error.offset - 1 if error.offset else len(self.text)
            raise ExpressionError(
                f"not a valid expression: {error.msg}", self.text, column, column + 1
            ) from None
        except ValueError as error:  # a NUL character, before Python 3.12 (then a SyntaxError)
            raise ExpressionError(f"not a valid expression: {error}") from None
        except (RecursionError, MemoryError):
            raise ExpressionError("the expression is too long a chain or nested too deeply to read") from None
        self.indent = indent
        try:
            used = self._check(tree.body, set())
            self._check_names(used)
            root = self._value(tree.body)
        except RecursionError:
            raise ExpressionError("the expression is too long a chain or nested too deeply to read") from None
        return Expression(self.text, root, self.inputs)

    def _span(self, node: ast.expr | ast.keyword) -> tuple[int, int]:
        """Character columns of a node (ast counts UTF-8 bytes)."""
        line = self.text[self.indent :].encode()

        def column(offset: int) -> int:
            return self.indent + len(line[:offset].decode(errors="ignore"))

        return column(node.col_offset), column(node.end_col_offset or node.col_offset + 1)

    def _refuse(self, message: str, node: ast.expr | ast.keyword) -> ExpressionError:
        return ExpressionError(message, self.text, *self._span(node))

    def _check(self, node: ast.expr, used: set[str]) -> set[str]:
        """Refuse the first node (left to right) outside the allowed list; return the names used."""
        if isinstance(node, ast.Constant):
            self._check_number(node)
        elif isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise self._refuse(f"{node.id} is a function: call it, as in {node.id}(x)", node)
            if node.id.startswith("_"):
                raise self._refuse(f"names starting with _ are not allowed: {_ALLOWED}", node)
            used.add(node.id)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub | ast.UAdd):
                raise self._refuse(f"'not' and '~' are not allowed: {_ALLOWED}", node)
            self._check(node.operand, used)
        elif isinstance(node, ast.BinOp):
            if not isinstance(node.op, ast.Pow) and type(node.op) not in _OPERATORS:
                symbol = _OPERATOR_SYMBOLS.get(type(node.op), type(node.op).__name__)
                hint = " (a power is written **, as in x**2)" if isinstance(node.op, ast.BitXor) else ""
                raise self._refuse(f"the operator {symbol} is not allowed{hint}: {_ALLOWED}", node)
            self._check(node.left, used)
            self._check(node.right, used)
        elif isinstance(node, ast.Call):
            self._check_call(node)
            for argument in node.args:  # every argument, as the first: atan2(y, x), hypot(x, y, z)
                self._check(argument, used)
        else:
            kind = _KINDS.get(type(node), type(node).__name__)
            raise self._refuse(f"{kind} not allowed: {_ALLOWED}", node)
        return used

    def _check_number(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, str | bytes):
            raise self._refuse(f"strings are not allowed: {_ALLOWED}", node)
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise self._refuse(f"{value!r} is not a number: {_ALLOWED}", node)
        if isinstance(value, complex):
            raise self._refuse(
                "imaginary numbers are not allowed: the engine computes with real floats", node
            )
        try:
            finite = math.isfinite(float(value))
        except OverflowError:
            finite = False
        if not finite:
            raise self._refuse("this number is too large for a 64-bit float", node)

    def _check_call(self, node: ast.Call) -> None:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise self._refuse(f"only {', '.join(FUNCTIONS)} may be called: {_ALLOWED}", node.func)
        if node.keywords:
            raise self._refuse(f"{node.func.id} takes no keyword arguments", node.keywords[0])
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self._refuse(f"starred arguments not allowed: {_ALLOWED}", arg)
        allowed = ARGUMENTS[node.func.id]
        if len(node.args) not in allowed:
            if len(allowed) == 1:
                takes = "exactly one argument" if allowed.start == 1 else "exactly two arguments"
            else:
                takes = "one or two arguments" if len(allowed) == 2 else "at least one argument"
            raise self._refuse(f"{node.func.id} takes {takes}, got {len(node.args)}", node)

    def _check_names(self, used: set[str]) -> None:
        missing = sorted(used - self.bindings.keys())
        if missing:
            example = " ".join(f"{name}=1.0" for name in missing)
            raise ExpressionError(
                f"no value for {', '.join(missing)}: give every name in the expression a value, "
                f"e.g. --at {example}"
            )
        extra = [name for name in self.bindings if name not in used]
        if extra:
            raise ExpressionError(
                f"{', '.join(extra)} given a value but not in the expression: remove it or use it"
            )

    def _value(self, node: ast.expr) -> Value:
        """The forward pass over the checked tree; a domain error points at the operation that raised it."""
        if isinstance(node, ast.Constant):
            source = self.text[slice(*self._span(node))]
            assert isinstance(node.value, int | float), "_check lets only numbers through"
            return self.constants.setdefault(source, Value(float(node.value), label=source))
        if isinstance(node, ast.Name):
            return self.inputs[node.id]
        if isinstance(node, ast.UnaryOp):
            operand = self._value(node.operand)
            return self._apply(node, operator.neg, operand) if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name), "_check lets only calls of FUNCTIONS through"
            return self._apply(node, FUNCTIONS[node.func.id], *(self._value(arg) for arg in node.args))
        assert isinstance(node, ast.BinOp), "_check lets only these kinds of node through"
        left = self._value(node.left)
        if isinstance(node.op, ast.Pow):
            return self._apply(node, operator.pow, left, self._exponent(node.right))
        return self._apply(node, _OPERATORS[type(node.op)], left, self._value(node.right))

    def _exponent(self, node: ast.expr) -> Value | float:
        """A constant exponent becomes a plain number (x**2, not x**Value(2)), which allows a negative base.

        The engine computes in floats, so 9**9**9 overflows to inf at once instead of growing an integer.
        """
        if any(isinstance(child, ast.Name) for child in ast.walk(node)):
            return self._value(node)
        exponent = self._value(node).data
        return int(exponent) if exponent.is_integer() and abs(exponent) < 2**53 else exponent

    def _apply(self, node: ast.expr, operation: Callable[..., Value], *operands: Value | float) -> Value:
        try:
            return operation(*operands)
        except (ValueError, ZeroDivisionError) as error:
            values = ", ".join(f"{name} = {value:g}" for name, value in self.bindings.items())
            at = f" at {values}" if values else ""
            raise self._refuse(f"out of domain{at}: {error}", node) from None
