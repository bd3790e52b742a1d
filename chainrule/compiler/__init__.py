"""Compiled mode: trace a function once with the engine, then run its graph as straight-line Python.

`jit(fn)` calls `fn` once with `Value` leaves in place of its numbers, walks the graph it returns in the
engine's own order, and writes two plain functions: `forward` (one line per node: the op on floats) and
`backward` (one line per node: the op's local derivative times the gradient that arrived, added into
each parent). Every later call with arguments of the same shape runs those functions instead of
building a graph, so the chain rule, unrolled, runs at the speed of gradient code written by hand.
"""

from __future__ import annotations

import functools
import math
import re
import string
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from chainrule import grad_mode
from chainrule.engine import Value
from chainrule.floatmath import divide, exp, exponent_slope, log, power, power_slope, sigmoid, value_power
from chainrule.runtime import collector
from chainrule.show.names import number_exponent, topological_order

__all__ = ["JitResult", "JitTraceWarning", "Jitted", "jit"]

_COMMENT_WIDTH = 40  # how much of a label the comment shows


class JitTraceWarning(UserWarning):
    """fn branched on a Value while being traced: the branch taken now is frozen into the compiled code."""


class _Restructure(Exception):  # noqa: N818 (a signal, not an error): the arguments' shape changed
    pass


class _ValueArgument(Exception):  # noqa: N818 (a signal): a Value among the arguments, for the engine
    pass


# The names the generated code may use besides its own variables: the engine's float functions.
_NAMESPACE = {
    "divide": divide,
    "exp": exp,
    "exponent_slope": exponent_slope,
    "inf": math.inf,
    "log": log,
    "nan": math.nan,
    "power": power,
    "power_slope": power_slope,
    "Restructure": _Restructure,
    "sigmoid": sigmoid,
    "tanh": math.tanh,
    "value_power": value_power,
}

# Each op as the engine computes it: the forward expression, and the closure's `+=` / `-=` lines as
# (parent, sign, local derivative times the incoming gradient {g}). {a}, {b}: the parents' values,
# {out}: the node's own, {n}: a number exponent. Same expressions, same order: the same bits.
_OPS: dict[str, tuple[str, tuple[tuple[int, str, str], ...]]] = {
    "+": ("{a} + {b}", ((0, "+", "{g}"), (1, "+", "{g}"))),
    "*": ("{a} * {b}", ((0, "+", "{b} * {g}"), (1, "+", "{a} * {g}"))),
    "-": ("{a} - {b}", ((0, "+", "{g}"), (1, "-", "{g}"))),
    "/": ("divide({a}, {b})", ((0, "+", "{g} / {b}"), (1, "-", "{g} * ({a} / {b} / {b})"))),
    "**n": ("power({a}, {n})", ((0, "+", "power_slope({a}, {n}) * {g}"),)),
    "**": (
        "value_power({a}, {b})",
        ((0, "+", "power_slope({a}, {b}) * {g}"), (1, "+", "exponent_slope({a}, {out}) * {g}")),
    ),
    "neg": ("-{a}", ((0, "-", "{g}"),)),
    "tanh": ("tanh({a})", ((0, "+", "(1 - {out} * {out}) * {g}"),)),
    "exp": ("exp({a})", ((0, "+", "{out} * {g}"),)),
    "log": ("log({a})", ((0, "+", "{g} / {a}"),)),
    "relu": ("0.0 if {a} <= 0 else {a}", ((0, "+", "{g} if {a} > 0 else 0.0"),)),
    "sigmoid": ("sigmoid({a})", ((0, "+", "{out} * (1 - {out}) * {g}"),)),
}
_ARITY = {"+": 2, "*": 2, "-": 2, "/": 2, "**": 2}


def _literal(x: float) -> str:
    """Python source for a float, exact: repr round-trips; inf and nan are names in _NAMESPACE."""
    return repr(x) if math.isfinite(x) else ("-inf" if x < 0 else "inf" if x > 0 else "nan")


def _comment(text: object) -> str:
    """User text made safe for a comment: ascii() escapes every line break, so it can never end the line."""
    shown = ascii(str(text))
    return shown if len(shown) <= _COMMENT_WIDTH else shown[: _COMMENT_WIDTH - 3] + "..."


def _op_template(node: Value) -> tuple[str, str | None, str]:
    """The _OPS key for a node, its number exponent as source (for **<n>), and the op as shown."""
    op, n = node._op, number_exponent(node)
    if n is not None:
        shown = op if re.fullmatch(r"\*\*[\w.+-]+", op) else f"**{_literal(n)}"
        return "**n", _literal(n), shown
    if op not in _OPS:
        raise NotImplementedError(f"jit: the op {op!r} is not one the engine defines")
    if len(node._prev) != _ARITY.get(op, 1):
        raise ValueError(f"jit: a {op!r} node needs {_ARITY.get(op, 1)} parents, it has {len(node._prev)}")
    return op, None, op


# --- the arguments: numbers or nested lists/tuples of numbers --------------------------------------


def _normalize(arg: Any) -> tuple[Any, Any]:
    """(arg with every number a float, its shape: float, or a tuple of the items' shapes).

    A list and a tuple of the same lengths have the same shape: the compiled code unpacks either."""
    if type(arg) is float:
        return arg, float
    if isinstance(arg, list | tuple):
        pairs = [_normalize(item) for item in arg]
        return type(arg)(p[0] for p in pairs), tuple(p[1] for p in pairs)
    if isinstance(arg, Value):
        raise _ValueArgument
    if isinstance(arg, bool) or not isinstance(arg, int | float):
        raise TypeError(
            f"jit: arguments must be numbers or (nested) lists or tuples of numbers, got "
            f"{type(arg).__name__}: {arg!r}; close over Values (a model's parameters) instead of passing them"
        )
    return float(arg), float


def _as_values(arg: Any, inputs: list[Value]) -> Any:
    """The same nesting with a fresh Value leaf for every number (collected in inputs)."""
    if isinstance(arg, list | tuple):
        return type(arg)(_as_values(item, inputs) for item in arg)
    inputs.append(Value(arg))
    return inputs[-1]


def _pattern(shape: Any, names: Iterator[str]) -> str:
    """An unpacking target for a shape: `[[v0, v1], [v2, v3]]`."""
    if shape is float:
        return next(names)
    return "[" + ", ".join(_pattern(item, names) for item in shape) + "]"


# --- tracing -----------------------------------------------------------------------------------------


def _warn_bool(value: Value) -> bool:
    warnings.warn(
        "jit: bool() of a Value while tracing. Python control flow that depends on data is frozen at "
        "trace time: every compiled call takes the branch taken now. Branch with an op (relu) instead, "
        "or call the function without jit.",
        JitTraceWarning,
        stacklevel=2,
    )
    return True  # what bool() of a Value is without the hook


def _trace(fn: Callable[..., Value], args: tuple, kwargs: dict) -> tuple[Value, list[Value]]:
    """Call fn with Value leaves in place of its numbers; return the root and the input leaves."""
    inputs: list[Value] = []
    value_args = _as_values(args, inputs)
    value_kwargs = {name: _as_values(arg, inputs) for name, arg in kwargs.items()}
    hooked = "__bool__" not in vars(Value)
    if hooked:
        Value.__bool__ = _warn_bool  # only while tracing: Value itself defines no truth value
    try:
        with grad_mode.enable_grad():
            root = fn(*value_args, **value_kwargs)
    finally:
        if hooked:
            del Value.__bool__
    if not isinstance(root, Value):
        raise TypeError(f"jit: the function must return a Value, it returned {type(root).__name__}")
    return root, inputs


# --- code generation -----------------------------------------------------------------------------------


def _fields(template: str) -> frozenset[str]:
    return frozenset(field for _, field, _, _ in string.Formatter().parse(template) if field)


# which of {a}, {b}, {out} each backward term reads: those values are saved by the forward pass
_TERM_READS = {
    key: [_fields(term) & {"a", "b", "out"} for _, _, term in terms] for key, (_, terms) in _OPS.items()
}


def _parenthesized(term: str) -> str:
    return term if re.fullmatch(r"[\w.]+", term) else f"({term})"


class _Program:
    """The generated forward and backward of one traced graph, with the leaves they read and write."""

    def __init__(
        self, fn: Callable[..., Value], shape: Any, root: Value, inputs: list[Value], positional: bool
    ) -> None:
        self.positional = positional  # traced without keyword arguments: a call's args can go straight in
        order = topological_order(root)  # the engine's order: the sums run as backward() runs them
        index = {id(node): i for i, node in enumerate(order)}
        is_input = {id(leaf) for leaf in inputs}
        parents = [[index[id(p)] for p in node._prev] for node in order]
        kinds = [_op_template(node) if node._prev else None for node in order]
        # a node needs a gradient if it is a leaf fn did not get as an argument, or leads to one
        needs_grad = [False] * len(order)
        for i, node in enumerate(order):
            needs_grad[i] = any(needs_grad[p] for p in parents[i]) if parents[i] else id(node) not in is_input
        self.leaves = tuple(node for node in order if not node._prev and id(node) not in is_input)
        forward = _forward_lines(order, parents, kinds, is_input)
        backward, saved = _backward_lines(order, parents, kinds, needs_grad)
        input_names = iter(
            f"v{index[id(leaf)]}" if id(leaf) in index else f"unused{k}" for k, leaf in enumerate(inputs)
        )
        leaf_names = [f"leaf{index[id(leaf)]}" for leaf in self.leaves]
        self.source = _render(fn, shape, len(order), leaf_names, input_names, forward, backward, saved)
        namespace = dict(_NAMESPACE)
        code = compile(self.source, "<chainrule.jit>", "exec")
        exec(code, namespace)  # safe: only templates, node numbers, floats and ascii()-escaped comments
        self.forward, self.backward = namespace["forward"], namespace["backward"]


def _forward_lines(
    order: list[Value], parents: list[list[int]], kinds: list, is_input: set[int]
) -> list[str]:
    """One line per node, leaves to root: `v7 = v3 * v5  # *`."""
    lines = []
    for i, node in enumerate(order):
        label = f" {_comment(node.label)}" if node.label else ""
        if kinds[i] is None:
            if id(node) not in is_input:
                lines.append(f"v{i} = leaf{i}.data  # leaf{label}")
            continue
        key, n, shown = kinds[i]
        ps = parents[i]
        expression = _OPS[key][0].format(a=f"v{ps[0]}", b=f"v{ps[-1]}", n=n, out=f"v{i}")
        lines.append(f"v{i} = {expression}  # {shown}{label}")
    return lines


def _backward_lines(
    order: list[Value], parents: list[list[int]], kinds: list, needs_grad: list[bool]
) -> tuple[list[str], list[int]]:
    """One line per node, root to leaves: each parent's share of the gradient, as the closure adds it.

    A node's gradient lives in g<i>. Where a node's whole gradient is a copy of another's (a + b passes
    its gradient on unchanged) and nothing else adds to it, it shares that variable instead of copying.
    """
    root = len(order) - 1
    if kinds[root] is None:  # fn returned a leaf: d(root)/d(root) = 1
        return ([f"leaf{root}.grad += 1.0  # root"] if needs_grad[root] else []), []
    consumers = [0] * len(order)
    for ps in parents:
        for p in ps:
            consumers[p] += 1
    name = [f"g{i}" for i in range(len(order))]
    name[root] = "1.0"
    started = [False] * len(order)
    lines, saved, leaves = [], set(), []
    for i in range(root, -1, -1):
        if kinds[i] is None or not needs_grad[i]:
            continue
        key, n, shown = kinds[i]
        ps, g = parents[i], name[i]
        values = {"a": f"v{ps[0]}", "b": f"v{ps[-1]}", "out": f"v{i}"}
        statements, shared = [], []
        for (position, sign, template), reads in zip(_OPS[key][1], _TERM_READS[key]):
            p = ps[position]
            if not needs_grad[p]:
                continue
            term = template.format(g=g, n=n, **values)
            saved.update(int(values[field][1:]) for field in reads)
            if started[p]:
                statements.append(f"g{p} {sign}= {term}")
            elif kinds[p] is None:  # a leaf keeps what it had: gradients accumulate across calls
                statements.append(f"g{p} = leaf{p}.grad {sign} {_parenthesized(term)}")
                leaves.append(p)
            elif template == "{g}" and sign == "+" and consumers[p] == 1:
                name[p] = g  # its only gradient is this one, unchanged: share the variable
                shared.append(f"d/dv{p} = {g}")
            else:
                statements.append(f"g{p} = {term}" if sign == "+" else f"g{p} = -{_parenthesized(term)}")
            started[p] = True
        note = f"  # {shown}" if statements else f"# {shown}"
        lines.append("; ".join(statements) + note + (f": {', '.join(shared)}" if shared else ""))
    lines += [f"leaf{p}.grad = g{p}" for p in sorted(leaves)]
    return lines, sorted(saved)


def _render(
    fn: Callable,
    shape: Any,
    node_count: int,
    leaf_names: list[str],
    input_names: Iterator[str],
    forward: list[str],
    backward: list[str],
    saved: list[int],
) -> str:
    """The module text: forward(args, leaves) -> (value, saved values), backward(saved, leaves)."""
    targets = _pattern(shape, input_names)
    arguments = re.findall(r"\w+", targets)
    leaf_line = [f"[{', '.join(leaf_names)}] = leaves"] if leaf_names else []
    saved_names = ", ".join(f"v{i}" for i in saved)
    saved_tuple = f"({saved_names},)" if len(saved) == 1 else f"({saved_names})"
    name = _comment(getattr(fn, "__qualname__", type(fn).__name__))
    lines = [
        f"# chainrule.jit of {name}: {node_count} nodes, one line each in forward and in backward.",
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
    lines.append(f"    return v{node_count - 1}, {saved_tuple}")
    lines += ["", "", "def backward(saved, leaves):"]
    lines += [
        f"    {line}" for line in ([f"[{saved_names}] = saved"] if saved else []) + leaf_line + backward
    ]
    lines.append("    return None")
    return "\n".join(lines) + "\n"


def _compile(fn: Callable[..., Value], shape: Any, args: tuple, kwargs: dict) -> _Program:
    """Trace fn and generate its code, with the cyclic garbage collector paused.

    The engine's graph has no cycles to find, and collecting again and again while tens of thousands
    of nodes are alive would cost more than the trace itself (measured: about 10x on the moons graph)."""
    with collector.paused():
        root, inputs = _trace(fn, args, kwargs)
        return _Program(fn, shape, root, inputs, positional=not kwargs)


# --- the public face -------------------------------------------------------------------------------------


class JitResult:
    """What a compiled call returns: the output's `.data`, and `.backward()` as the engine's root has."""

    __slots__ = ("_program", "_saved", "data")

    def __init__(self, data: float, saved: tuple, program: _Program | None) -> None:
        self.data, self._saved, self._program = data, saved, program

    def backward(self) -> None:
        """Add d(output)/d(leaf) to the .grad of every leaf Value fn used, as Value.backward() does."""
        if self._program is not None:
            self._program.backward(self._saved, self._program.leaves)

    def __repr__(self) -> str:
        return f"JitResult(data={self.data!r})"


class Jitted:
    """fn, traced once per argument shape and run as generated Python. See `jit`."""

    def __init__(self, fn: Callable[..., Value]) -> None:
        self.fn = fn
        self._programs: dict[Any, _Program] = {}
        self._last: _Program | None = None
        functools.update_wrapper(self, fn)

    @property
    def source(self) -> str:
        """The generated code of the latest trace (empty before the first call)."""
        return self._last.source if self._last else ""

    def __call__(self, *args: Any, **kwargs: Any) -> JitResult | Value:
        program = self._last
        if program is not None and program.positional and not kwargs:
            try:
                data, saved = program.forward(args, program.leaves)
            except _Restructure:
                pass
            else:
                return JitResult(data, saved, program if grad_mode.enabled else None)
        names = sorted(kwargs)
        try:
            normalized, shape = _normalize((*args, *(kwargs[name] for name in names)))
        except _ValueArgument:  # Values as arguments (a jitted fn called while tracing): the engine's job
            return self.fn(*args, **kwargs)
        key = (len(args), tuple(names), shape)
        program = self._programs.get(key)
        if program is None:
            traced_args, traced_kwargs = normalized[: len(args)], dict(zip(names, normalized[len(args) :]))
            program = self._programs[key] = _compile(self.fn, shape, traced_args, traced_kwargs)
        self._last = program
        data, saved = program.forward(normalized, program.leaves)
        return JitResult(data, saved, program if grad_mode.enabled else None)


def jit(fn: Callable[..., Value]) -> Jitted:
    """Compile fn: trace it with the engine once per argument shape, then run its graph as plain Python.

    fn takes numbers or (nested) lists or tuples of numbers and returns one Value built from them and from
    Values it closes over (a model's parameters). The call returns a JitResult with `.data` and
    `.backward()`; after backward() every leaf Value fn used has the gradient the engine would give,
    added to its .grad as the engine adds it. Leaves are read at every call, so optimizers just work.

    Like torch.jit.trace, this records one path through fn: Python control flow that depends on data
    (`if x.data > 0:`) is frozen at trace time; a bool() of a Value while tracing warns
    (JitTraceWarning), an `if` on `.data` cannot be seen. A value computed under no_grad() inside fn
    is a constant, frozen at its traced value. Branches inside ops (relu, domain checks) run every
    call. A new argument shape (another list length) traces again. `.source` is the generated code.
    """
    return Jitted(fn)
