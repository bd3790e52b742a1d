"""The Python backend: a tape written out as two straight-line functions, `forward` and `backward`.

Each node is one line in each: its forward expression, and each parent's share of the gradient, both
taken from the table of local derivatives and written with the program's own variables (v<i> for a
node's value, g<i> for its gradient). Same expressions in the engine's order: the engine's bits.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from chainrule.compiler.symbols import SUM, UNARY, Negated, Symbol, Symbols, written
from chainrule.compiler.tape import Tape
from chainrule.rules import FLOATS
from chainrule.runtime import trees

_COMMENT_WIDTH = 40  # how much of a label the comment shows


class Restructure(Exception):  # noqa: N818 (a signal, not an error): the arguments' shape changed
    pass


# The names the generated code may use besides its own variables: the table's float functions.
NAMESPACE = {**vars(FLOATS), "inf": math.inf, "nan": math.nan, "Restructure": Restructure}


def _comment(text: object) -> str:
    """User text made safe for a comment: ascii() escapes every line break, so it can never end the line."""
    shown = ascii(str(text))
    return shown if len(shown) <= _COMMENT_WIDTH else shown[: _COMMENT_WIDTH - 3] + "..."


def _shown(tape: Tape, i: int) -> str:
    """The op as the generated code's comments name it: `tanh`, `**2`; a user's op (its function's
    name, which may hold any text) as ascii() writes it, so it cannot end the comment's line."""
    rule, n = tape.rules[i], tape.exponents[i]
    assert rule is not None, "a leaf has no op to show"
    shown = f"{rule.name}{n:g}" if n is not None and rule.exponent else rule.name
    return shown if shown.isascii() and shown.isprintable() else ascii(shown)


def _pattern(shape: Any, names: Iterator[str]) -> str:
    """An unpacking target for a shape: `[[v0, v1], [v2, v3]]`."""
    if shape is float:
        return next(names)
    return "[" + ", ".join(_pattern(item, names) for item in shape) + "]"


def unpacker(shape: Any) -> Callable[[tuple], list[float]]:
    """unpack(args): the argument numbers in order, as a list; Restructure if args have another shape
    or a number that is not a float (the slow path then converts it, or traces again)."""
    target = _pattern(shape, (f"x{k}" for k in itertools.count()))
    names = re.findall(r"x\d+", target)
    lines = [
        "def unpack(args):",
        "    try:",
        f"        {target} = args",
        "    except (TypeError, ValueError):",
        "        raise Restructure from None",
    ]
    if names:
        lines += [
            f"    if not {' is '.join(f'type({x})' for x in names)} is float:",
            "        raise Restructure",
        ]
    lines.append(f"    return [{', '.join(names)}]")
    namespace: dict[str, Any] = {"Restructure": Restructure}
    exec(compile("\n".join(lines), "<chainrule.jit native arguments>", "exec"), namespace)  # names only
    return namespace["unpack"]


SHAPED_MOST = 1_000  # outputs a written shaper takes (a bigger tree's call dwarfs unflatten's walk)


def shaper(spec: Any) -> Callable[[Sequence[Any]], Any]:
    """shaped(flat): the tree of this spec (trees.Spec) around the flat outputs, as trees.unflatten
    builds it, written as one expression (a gradient's result is rebuilt at every call); unflatten
    itself for a tree of more than SHAPED_MOST leaves or one nested deeper than Python can parse."""
    if trees.size(spec) > SHAPED_MOST:
        return functools.partial(trees.unflatten, spec)
    namespace: dict[str, Any] = {"array_of": trees.array_of}
    position = itertools.count()

    def built(part: Any) -> str:
        if part is trees.LEAF:
            return f"x[{next(position)}]"
        items = "".join(f"{built(item)}, " for item in part)
        name, kind = f"k{len(namespace)}", part.kind
        namespace[name] = kind[1] if isinstance(kind, tuple) else kind  # keys, a shape or a class
        if isinstance(kind, tuple):
            return f"array_of([{items}], {name})" if kind[0] == "array" else f"dict(zip({name}, ({items})))"
        if kind is tuple or kind is list:
            return f"({items})" if kind is tuple else f"[{items}]"
        return f"{name}({items})"  # a namedtuple

    try:
        source = compile(f"def shaped(x):\n    return {built(spec)}", "<chainrule.jit outputs>", "exec")
    except (SyntaxError, MemoryError, RecursionError):  # nested too deep for the parser
        return functools.partial(trees.unflatten, spec)
    exec(source, namespace)  # indices and names only
    return namespace["shaped"]


def _operand(share: Symbol, above: int) -> str:
    """The share's text as an operand of an operator of precedence `above`: parenthesised unless it
    binds tighter (`leaf.grad + (x if c else y)`, or the conditional would take the whole sum)."""
    return share.text if share.level > above else f"({share.text})"


def forward_lines(tape: Tape, symbols: Symbols) -> list[str]:
    """One line per node, leaves to root: `v7 = v3 * v5  # *`."""
    inputs = set(tape.inputs)
    lines = []
    for i, rule in enumerate(tape.rules):
        label = f" {_comment(tape.labels[i])}" if tape.labels[i] else ""
        if rule is None:
            if i not in inputs:
                lines.append(f"v{i} = leaf{i}.data  # leaf{label}")
            continue
        parents = [Symbol(f"v{p}") for p in tape.parents[i]]
        expression = written(rule.value(symbols, parents, tape.exponents[i])).text
        lines.append(f"v{i} = {expression}  # {_shown(tape, i)}{label}")
    return lines


def backward_lines(tape: Tape, symbols: Symbols) -> tuple[list[str], list[int]]:
    """One line per node, root to leaves: each parent's share of the gradient, as the closure adds it;
    and the nodes whose values backward reads (the forward pass hands them over).

    A node's gradient lives in g<i>. Where a node's whole gradient is a copy of another's (a + b passes
    its gradient on unchanged) and nothing else adds to it, it shares that variable instead of copying.
    """
    root = len(tape) - 1
    if tape.rules[root] is None:  # fn returned a leaf: d(root)/d(root) = 1
        return ([f"leaf{root}.grad += 1.0  # root"] if tape.needs_grad[root] else []), []
    consumers = [0] * len(tape)
    for ps in tape.parents:
        for p in ps:
            consumers[p] += 1
    name = [f"g{i}" for i in range(len(tape))]
    name[root] = "1.0"
    started = [False] * len(tape)
    lines: list[str] = []
    saved: set[int] = set()
    leaves: list[int] = []
    for i in range(root, -1, -1):
        rule = tape.rules[i]
        if rule is None or not tape.needs_grad[i]:
            continue
        ps, g, n = tape.parents[i], name[i], tape.exponents[i]
        parents, out, grad = [Symbol(f"v{p}") for p in ps], Symbol(f"v{i}"), Symbol(g)
        statements, shared = [], []
        for k, p in enumerate(ps):
            if not tape.needs_grad[p]:
                continue
            share = rule.share(k, symbols, parents, n, out, grad)
            passes_on = share is grad  # the gradient, unchanged
            share = written(share)
            sign, share = ("-", share.operand) if isinstance(share, Negated) else ("+", share)
            term = share.text
            saved.update(int(read[1:]) for read in share.reads if read.startswith("v"))
            if started[p]:
                statements.append(f"g{p} {sign}= {term}")
            elif tape.rules[p] is None:  # a leaf keeps what it had: gradients accumulate across calls
                statements.append(f"g{p} = leaf{p}.grad {sign} {_operand(share, SUM)}")
                leaves.append(p)
            elif passes_on and consumers[p] == 1:
                name[p] = g  # its only gradient is this one, unchanged: share the variable
                shared.append(f"d/dv{p} = {g}")
            else:
                statements.append(f"g{p} = {term}" if sign == "+" else f"g{p} = -{_operand(share, UNARY)}")
            started[p] = True
        shown = _shown(tape, i)
        note = f"  # {shown}" if statements else f"# {shown}"
        lines.append("; ".join(statements) + note + (f": {', '.join(shared)}" if shared else ""))
    lines += [f"leaf{p}.grad = g{p}" for p in sorted(leaves)]
    return lines, sorted(saved)


def render(fn: Callable, shape: Any, tape: Tape, symbols: Symbols) -> str:
    """The module text: forward(args, leaves) -> (value, saved values), backward(saved, leaves).

    For a tape with several outputs, forward alone: it returns them, nested as fn returned them, and ()."""
    forward = forward_lines(tape, symbols)
    several = tape.outputs is not None
    backward, saved = ([], []) if several else backward_lines(tape, symbols)
    input_names = (f"v{i}" if i is not None else f"unused{k}" for k, i in enumerate(tape.inputs))
    targets = _pattern(shape, input_names)
    arguments = re.findall(r"\w+", targets)
    leaf_names = [f"leaf{i}" for i in tape.leaf_nodes]
    leaf_line = [f"[{', '.join(leaf_names)}] = leaves"] if leaf_names else []
    saved_names = ", ".join(f"v{i}" for i in saved)
    saved_tuple = f"({saved_names},)" if len(saved) == 1 else f"({saved_names})"
    name = _comment(getattr(fn, "__qualname__", type(fn).__name__))
    each = (
        "one line each in forward (a tuple out: no backward)"
        if several
        else "one line each in forward and in backward"
    )
    lines = [
        f"# chainrule.jit of {name}: {len(tape)} nodes, {each}.",
        "",
        "",
        "def forward(args, leaves):",
        "    try:",
        f"        {targets} = args",
        "    except (TypeError, ValueError):  # another shape: trace again",
        "        raise Restructure from None",
    ]
    if arguments:
        lines.append(f"    if not {' is '.join(f'type({a})' for a in arguments)} is float:")
        lines.append("        raise Restructure")
    lines += [f"    {line}" for line in leaf_line + forward]
    lines.append(f"    return {_returned(tape.outputs) if several else f'v{len(tape) - 1}'}, {saved_tuple}")
    if several:
        return "\n".join(lines) + "\n"
    lines += ["", "", "def backward(saved, leaves):"]
    lines += [
        f"    {line}" for line in ([f"[{saved_names}] = saved"] if saved else []) + leaf_line + backward
    ]
    lines.append("    return None")
    return "\n".join(lines) + "\n"


def _returned(outputs: Any) -> str:
    """The return value for outputs nested as fn returned them: `(v5, (v7, v9))`, `(v3,)`."""
    if isinstance(outputs, int):
        return f"v{outputs}"
    items = [_returned(item) for item in outputs]
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


class PythonProgram:
    """A tape's generated forward and backward, compiled; `source` is the text."""

    several_outputs = True  # compiles a tape whose fn returned a tuple (forward only: see render)

    def __init__(self, fn: Callable, shape: Any, tape: Tape) -> None:
        self.leaves, self.several = tape.leaves, tape.outputs is not None
        symbols = Symbols()
        self.source = render(fn, shape, tape, symbols)
        self._calls = symbols.calls  # the user's ops (chainrule.primitive) it calls
        self._compile()

    def _compile(self) -> None:
        code = compile(self.source, "<chainrule.jit>", "exec")
        namespace = {**NAMESPACE, **self._calls}
        exec(code, namespace)  # safe: only the table's templates, node numbers, floats, ascii()'d comments
        self.forward, self.backward = namespace["forward"], namespace.get("backward")

    def __getstate__(self) -> dict[str, Any]:
        """Pickled as its source (the functions compiled from it are this process's): no trace again."""
        return {name: value for name, value in self.__dict__.items() if name not in ("forward", "backward")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._compile()
