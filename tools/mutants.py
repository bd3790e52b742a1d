"""The mutants of a module: small changes of its source, each of which a test should notice.

Every change is made in the text, at the place `ast` finds it, so each mutant is the module with one
token changed (an operator, a comparison, a number, an `o.gt` of a rule, a piece of generated code),
and it is named by where it is (the function, or the table's row, it sits in) and what it changes,
never by a line number: the name stays when lines above it move.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass

# an operator and what it becomes (one mutant each)
BINARY = {ast.Add: ["-"], ast.Sub: ["+"], ast.Mult: ["/"], ast.Div: ["*"], ast.FloorDiv: ["/"]}
BINARY |= {ast.Mod: ["//"], ast.Pow: ["*"]}
SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%"}
SYMBOL |= {ast.Pow: "**"}
COMPARE = {ast.Gt: (">", ">="), ast.GtE: (">=", ">"), ast.Lt: ("<", "<="), ast.LtE: ("<=", "<")}
COMPARE |= {ast.Eq: ("==", "!="), ast.NotEq: ("!=", "=="), ast.Is: ("is", "is not")}
COMPARE |= {ast.IsNot: ("is not", "is"), ast.In: ("in", "not in"), ast.NotIn: ("not in", "in")}
AUGMENTED = {ast.Add: ("+=", ["=", "-="]), ast.Sub: ("-=", ["=", "+="]), ast.Mult: ("*=", ["="])}
AUGMENTED |= {ast.Div: ("/=", ["="])}
INTERPRETER = {"gt": "ge", "ge": "gt", "lt": "le", "le": "lt", "eq": "ge"}  # a rule's o.gt(a, 0) …
ROWS = {"Rule", "_unary", "_binary"}  # calls that state a row of the table: their mutants name the row
# pieces of the generated code inside string literals (the compiler's templates)
GENERATED = [
    (re.compile(r"\+="), "="),
    (re.compile(r"-="), "="),
    (re.compile(r"\+="), "-="),
    (re.compile(r"(?<=\s)\+(?=\s)"), "-"),
    (re.compile(r"(?<=\s)-(?=\s)"), "+"),
    (re.compile(r"\(\{([^{}]*)\}\)"), r"{\1}"),  # f"({x})" → f"{x}": parentheses dropped
    (re.compile(r"(?<=\s)>(?=\s)"), ">="),
]


@dataclass(frozen=True)
class Mutant:
    path: str  # relative to the repository
    name: str  # "scope: before → after", plus "#k" for the k-th such change in one scope
    start: int  # byte offsets of the replaced text
    end: int
    after: str
    line: int

    def apply(self, source: bytes) -> bytes:
        return source[: self.start] + self.after.encode() + source[self.end :]

    @property
    def id(self) -> str:
        return f"{self.path}::{self.name}"


class _Finder(ast.NodeVisitor):
    """Walks a module, keeping the scope (class, function, table row) of each place it mutates."""

    def __init__(self, source: bytes, strings: bool) -> None:
        self.source, self.strings = source, strings
        self.starts = [0]
        for line in source.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))
        self.scope: list[str] = []
        self.found: list[tuple[str, int, int, str, int]] = []  # (name, start, end, after, line)
        self.docstrings: set[int] = set()  # byte offsets where a docstring starts

    def offset(self, line: int, col: int) -> int:
        return self.starts[line - 1] + col

    def text(self, start: int, end: int) -> str:
        return self.source[start:end].decode()

    def add(self, start: int, end: int, after: str, line: int) -> None:
        before = " ".join(self.text(start, end).split())
        where = ".".join(self.scope) or "<module>"
        self.found.append((f"{where}: `{before}` → `{after}`", start, end, after, line))

    def _scoped(self, name: str, node: ast.AST) -> None:
        self.scope.append(name)
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                self.docstrings.add(self.offset(value.lineno, value.col_offset))
        self.generic_visit(node)
        self.scope.pop()

    def visit_Module(self, node: ast.Module) -> None:
        if node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
            self.docstrings.add(self.offset(node.body[0].lineno, node.body[0].col_offset))
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.scope.append(node.name)
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            self.docstrings.add(self.offset(body[0].lineno, body[0].col_offset))
        for statement in body:
            self.visit(statement)
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        self.scope.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]  # noqa: N815 (ast's names)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scoped(node.name, node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:  # annotations are not run
        if node.value is not None:
            self.visit(node.value)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        named = isinstance(func, ast.Name) and func.id in ROWS
        if named and node.args and isinstance(node.args[0], ast.Constant):
            self.scope.append(f"row {node.args[0].value}")
            self.generic_visit(node)
            self.scope.pop()
            return
        if isinstance(func, ast.Attribute) and func.attr == "where" and len(node.args) == 3:
            start, end = self._span(node)
            _, if_true, if_false = node.args
            swapped = ast.Call(func, [node.args[0], if_false, if_true], [])
            self.add(start, end, ast.unparse(swapped), node.lineno)
        if isinstance(func, ast.Attribute) and func.attr in INTERPRETER and isinstance(func.value, ast.Name):
            end = self.offset(func.end_lineno, func.end_col_offset)  # type: ignore[arg-type]
            self.add(end - len(func.attr), end, INTERPRETER[func.attr], node.lineno)
        if isinstance(func, ast.Name) and func.id in {"warn", "DomainError", "DivisionByZeroError"}:
            return  # messages: the tests of bad input read them, not the numbers
        self.generic_visit(node)

    def visit_Raise(self, node: ast.Raise) -> None:
        return  # an error's message and type are the bad-input tests' business, not the numbers'

    def visit_Assert(self, node: ast.Assert) -> None:
        return  # a check for the programmer

    def _span(self, node: ast.AST) -> tuple[int, int]:
        return (
            self.offset(node.lineno, node.col_offset),  # type: ignore[attr-defined]
            self.offset(node.end_lineno, node.end_col_offset),  # type: ignore[attr-defined]
        )

    def _gap(self, left: ast.AST, right: ast.AST, token: str, after: str, line: int) -> None:
        """Replace the operator token between two operands (skipping parentheses and spaces)."""
        start, end = self._span(left)[1], self._span(right)[0]
        gap = self.text(start, end)
        match = re.search(r"(?<![=<>!])" + re.escape(token) + r"(?![=<>*/])", gap)
        if match:
            self.add(start + match.start(), start + match.end(), after, line)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        for after in BINARY.get(type(node.op), []):
            self._gap(node.left, node.right, SYMBOL[type(node.op)], after, node.lineno)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if type(node.op) in AUGMENTED:
            token, afters = AUGMENTED[type(node.op)]
            for after in afters:
                self._gap(node.target, node.value, token, after, node.lineno)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        left = node.left
        for op, right in zip(node.ops, node.comparators):
            token, after = COMPARE[type(op)]
            self._gap(left, right, token, after, node.lineno)
            left = right
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        token, after = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
        for left, right in zip(node.values, node.values[1:]):
            self._gap(left, right, token, after, node.lineno)
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        start, end = self._span(node)[0], self._span(node.operand)[0]
        token = {ast.USub: "-", ast.Not: "not"}.get(type(node.op))
        if token is not None:
            gap = self.text(start, end)
            k = gap.find(token)
            stop = start + k + len(token) + (1 if token == "not" else 0)
            self.add(start + k, stop, "", node.lineno)
        self.generic_visit(node)

    def visit_If(self, node: ast.If) -> None:
        """A condition that is not a comparison (`if node._prev:`) is negated."""
        if not isinstance(node.test, ast.Compare | ast.BoolOp | ast.UnaryOp):
            start, end = self._span(node.test)
            self.add(start, end, f"not ({self.text(start, end)})", node.lineno)
        self.generic_visit(node)

    visit_While = visit_If  # type: ignore[assignment]  # noqa: N815 (ast's names)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        start, end = self._span(node)
        self.add(start, end, f"({ast.unparse(ast.IfExp(node.test, node.orelse, node.body))})", node.lineno)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, int | float) and not isinstance(value, bool) and value + 1 != value:
            start, end = self._span(node)
            self.add(start, end, repr(value + 1), node.lineno)


def _string_mutants(finder: _Finder) -> None:
    """The generated code's pieces inside string literals that are not docstrings."""
    tokens = tokenize.tokenize(io.BytesIO(finder.source).readline)
    for token in tokens:
        if token.type != tokenize.STRING:
            continue
        start = finder.offset(*token.start)
        if start in finder.docstrings:
            continue
        for pattern, replacement in GENERATED:
            for match in pattern.finditer(token.string):
                after = match.expand(replacement)
                s, e = (
                    start + len(token.string[: match.start()].encode()),
                    start + len(token.string[: match.end()].encode()),
                )
                before = " ".join(token.string.split())[:60]
                finder.found.append(
                    (f"<string {before}>: `{match.group(0)}` → `{after}`", s, e, after, token.start[0])
                )


def mutants(path: str, source: bytes, strings: bool = False) -> list[Mutant]:
    """Every mutant of the module at path (strings: also the generated code inside its string literals)."""
    finder = _Finder(source, strings)
    finder.visit(ast.parse(source))
    if strings:
        _string_mutants(finder)
    counts: dict[str, int] = {}
    found = []
    for name, start, end, after, line in sorted(finder.found, key=lambda item: (item[1], item[3])):
        counts[name] = counts.get(name, 0) + 1
        found.append(Mutant(path, f"{name} #{counts[name]}", start, end, after, line))
    valid = []
    for mutant in found:
        try:
            ast.parse(mutant.apply(source))
        except SyntaxError:
            continue
        valid.append(mutant)
    return valid
