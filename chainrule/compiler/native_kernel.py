"""The native backend's interpreter: generated from the table of local derivatives, compiled once per machine.

`source()` writes two loops over a tape's nodes, `forward` and `backward`, with one branch per row of
the table the interpreter computes (an op's code is its place in `native_rows()`), each row written
by running it on symbols (compiler/symbols.py) with the variables a, b, n, out and grad.
`load()` writes that text to `$XDG_CACHE_HOME/chainrule/native/kernel_<hash of the text>.py`, imports it,
and numba compiles it with cache=True: once per machine and per table, never per graph, so a new graph
costs only its trace and its tape. Any change to the table, to native_math.py or to numba's version
changes the text, hence the file, hence numba's cache.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numba

from chainrule import rules
from chainrule.compiler import native_math
from chainrule.compiler.symbols import Negated, Symbol, Symbols, written
from chainrule.rules import Rule

# Codes no branch takes: SKIP, a node that leads to no leaf needing a gradient; PYTHON, a node Python
# computes (a user's op, or a row numba does not compute as CPython does)
SKIP, PYTHON = 2**32 - 1, 2**32 - 2
PROGRAM_ROWS = ("CODE", "BACK_CODE", "FIRST", "SECOND", "TO_FIRST", "TO_SECOND")  # uint32, a column per node
STATE_ROWS = ("EXPONENT", "VALUES", "GRADS")  # float64, a column per node

_HEADER = '''\
"""chainrule's native tape interpreter, generated from the table of local derivatives by
chainrule/compiler/native_kernel.py.

A tape is two arrays with a column per node, leaves first (start is the first op node).
`program` (uint32: unsigned, so numba indexes with it without checking for negative indices) has
the rows CODE (the op's row in the interpreter's list, or {python}: Python computes the node),
BACK_CODE (the same, or {skip}, a code no branch takes, where nothing the node feeds needs a
gradient), FIRST and SECOND (the parents; a unary op's second is its first), TO_FIRST and TO_SECOND
(where each parent's share of the gradient goes: the parent; or, for a parent that needs none, the
node's own entry, which nobody reads once the node has fired).
`state` (float64) has the rows EXPONENT (n of x ** n), VALUES and GRADS. Two arguments, not nine:
numba checks the type of each at every call, and that is most of what a small graph's call costs.
The float functions are floatmath's own, compiled (native_math.py): they raise the engine's errors.
"""
# numba {numba}; floatmath sha256 {math_hash}

from numba import njit

from chainrule.compiler.native_math import COMPILED

{functions}
{program_rows} = range({program_size})
{state_rows} = range({state_size})
SKIP, PYTHON = {skip}, {python}
_compiled = njit(cache=True, error_model="numpy", boundscheck=False, nogil=True)


# The rows that call functions (tanh, exp, …) live in two functions of their own, so that the loops
# below, where the arithmetic rows are inline, stay small: each libm call in a loop costs every other
# branch registers (measured: two more rows in the loop made the oscillator's forward pass 40% slower).


@_compiled
def forward_call(op, a, b, n):
    """The value of a row that calls functions."""
{forward_calls}
    return 0.0


@_compiled
def backward_call(op, a, b, n, out, grad):
    """(a's share, b's share) of a row that calls functions, as the closure adds them."""
{backward_calls}
    return 0.0, 0.0


@_compiled
def forward(program, state, start, stop):
    """values[j] for every op node j from start to stop. -1, or the first node Python computes (an
    op the interpreter has no branch for): Python computes it and calls again from the next node."""
    code, first, second = program[CODE], program[FIRST], program[SECOND]
    exponent, values = state[EXPONENT], state[VALUES]
    for j in range(start, stop):
        op = code[j]
{forward}
        elif op == PYTHON:
            return j
        else:
            values[j] = forward_call(op, values[first[j]], values[second[j]], exponent[j])
    return -1


@_compiled
def backward(program, state, start, top):
    """The gradient of the root (the last node), added node by node as Value.backward() adds it,
    from node top down: op nodes restart at 0, leaves keep what their grads hold (they accumulate).
    -1, or the node Python fires (it then calls again from the node below)."""
    code, first, second = program[BACK_CODE], program[FIRST], program[SECOND]
    to_first, to_second = program[TO_FIRST], program[TO_SECOND]
    exponent, values, grads = state[EXPONENT], state[VALUES], state[GRADS]
    root = len(code) - 1
    if top == root:
        grads[start:root] = 0.0
        grads[root] = 1.0
    for j in range(top, start - 1, -1):
        op = code[j]
        grad = grads[j]
{backward}
        elif op == PYTHON:
            return j
        elif op != SKIP:
            a, b, n, out = values[first[j]], values[second[j]], exponent[j], values[j]
            share_a, share_b = backward_call(op, a, b, n, out, grad)
            grads[to_first[j]] += share_a
            grads[to_second[j]] += share_b
    return -1
'''
_VARIABLES = {"a": "values[first[j]]", "b": "values[second[j]]", "n": "exponent[j]", "out": "values[j]"}


def native_rows() -> list[Rule]:
    """The rows the interpreter has a branch for: the built-in ones numba computes as CPython does."""
    return [rule for rule in rules.RULES if rule.native and rule.python is None]


def written_row(rule: Rule, symbols: Symbols, n: Symbol | None = None) -> tuple[Symbol, list[Symbol]]:
    """The row's forward value and its shares, as symbols over a, b, n (or the exponent given), out and
    grad."""
    parents = [Symbol("a"), Symbol("b")][: rule.arity]
    exponent = (Symbol("n") if n is None else n) if rule.exponent else None
    out, grad = Symbol("out"), Symbol("grad")
    forward = written(rule.value(symbols, parents, exponent))
    shares = [written(rule.share(i, symbols, parents, exponent, out, grad)) for i in range(rule.arity)]
    return forward, shares


def loads(expressions: list[Symbol], variables: dict[str, str] = _VARIABLES) -> list[str]:
    """How a branch reads the variables its row uses, and only those (`variables`: where each is)."""
    used = frozenset().union(*(e.reads for e in expressions))
    return [f"{name} = {where}" for name, where in variables.items() if name in used]


def added(target: str, share: Symbol) -> str:
    """`target += x` (target: where the parent's gradient is); a share written -(x) is the closure's
    `-= x`."""
    if isinstance(share, Negated):
        return f"{target} -= {share.operand.text}"
    return f"{target} += {share.text}"


def _branches(bodies: dict[int, list[str]], rows: list[Rule], indent: str) -> str:
    """`if op == 0: …` / `elif op == 1: …`, a branch per row, under a comment naming it.
    (A chain of ifs on one integer: LLVM makes it a jump table.)"""
    lines = []
    for k, (code, body) in enumerate(bodies.items()):
        rule = rows[code]
        lines.append(f"{'if' if k == 0 else 'elif'} op == {code}:  # {rule.name}: {rule.written}")
        lines += [f"    {line}" for line in body]
    return "\n".join(f"{indent}{line}" for line in lines)


def source() -> str:
    """The interpreter's text: the same for every graph, a branch per row in each pass.

    Forward: the row's forward value. Backward: each parent's share, added into its grad as the
    closure adds it. Each branch reads what its row uses."""
    rows = native_rows()
    written_rows = {}
    functions: set[str] = set()
    plain: dict[int, Rule] = {}
    calls: dict[int, Rule] = {}
    for code, rule in enumerate(rows):
        symbols = Symbols()
        written_rows[code] = written_row(rule, symbols)
        functions |= symbols.used
        (calls if symbols.used else plain)[code] = rule
    targets = ("grads[to_first[j]]", "grads[to_second[j]]")
    forward = {}
    backward = {}
    for code in plain:
        value, shares = written_rows[code]
        forward[code] = [*loads([value]), f"values[j] = {value.text}"]
        backward[code] = [*loads(shares), *map(added, targets, shares)]
    forward_calls = {code: [f"return {written_rows[code][0].text}"] for code in calls}
    backward_calls = {}
    for code in calls:
        texts = [share.text for share in written_rows[code][1]]
        backward_calls[code] = [f"return {', '.join([*texts, '0.0'][:2])}"]
    return _HEADER.format(
        numba=numba.__version__,
        math_hash=native_math.source_hash(),
        functions="\n".join(f"{name} = COMPILED[{name!r}]" for name in sorted(functions)),
        program_rows=", ".join(PROGRAM_ROWS),
        program_size=len(PROGRAM_ROWS),
        state_rows=", ".join(STATE_ROWS),
        state_size=len(STATE_ROWS),
        skip=SKIP,
        python=PYTHON,
        forward=_branches(forward, rows, "        "),
        backward=_branches(backward, rows, "        "),
        forward_calls=_branches(forward_calls, rows, "    "),
        backward_calls=_branches(backward_calls, rows, "    "),
    )


def cache_dir() -> Path:
    """Where the generated interpreter lives (numba caches its machine code beside it, in __pycache__)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "chainrule" / "native"


class Kernel(NamedTuple):
    forward: Callable[..., int]  # (program, state, start, stop) -> -1, or the node Python computes
    backward: Callable[..., int]  # (program, state, start, top) -> -1, or the node Python fires
    source: str


_LOADED: dict[str, Kernel] = {}


def load() -> Kernel:
    """The interpreter: written once per table, imported once per process, compiled by numba on its
    first call only when its cache is cold."""
    text = source()
    key = hashlib.sha256(text.encode()).hexdigest()[:20]
    if key not in _LOADED:
        module = imported(text, f"kernel_{key}")
        _LOADED[key] = Kernel(module.forward, module.backward, text)
    return _LOADED[key]


def imported(text: str, name: str) -> Any:
    """The module of generated text, written to the cache folder as name.py (numba caches its machine
    code beside it) and imported."""
    path = _write(text, f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_chainrule_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _write(text: str, name: str) -> Path:
    """The file holding text, written atomically if absent (rewriting it would void numba's cache);
    in a temporary folder when the cache folder is not writable."""
    user = getattr(os, "getuid", lambda: "")()
    for folder in (cache_dir(), Path(tempfile.gettempdir()) / f"chainrule-native-{user}"):
        path = folder / name
        try:
            if not path.exists() or path.read_text() != text:
                folder.mkdir(parents=True, exist_ok=True)
                with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".tmp", delete=False) as file:
                    file.write(text)
                os.replace(file.name, path)
            return path
        except OSError:
            continue
    raise OSError(f"chainrule: cannot write the native interpreter to {cache_dir()} or a temporary folder")
