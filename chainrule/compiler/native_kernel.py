"""The native backend's interpreter: generated from the table of local derivatives, compiled once per machine.

`source()` writes two loops over a tape's nodes, `forward` and `backward`, with one branch per row of
rules.RULES (an op's code is the index of its row), each row's expressions rendered with rules.template.
`load()` writes that text to `$XDG_CACHE_HOME/chainrule/native/kernel_<hash of the text>.py`, imports it,
and numba compiles it with cache=True: once per machine and per table, never per graph, so a new graph
costs only its trace and its tape. Any change to the table, to native_math.py or to numba's version
changes the text, hence the file, hence numba's cache.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numba

from chainrule.compiler import native_math
from chainrule.rules import FUNCTIONS, RULES, Rule, template

# A code no branch takes: backward passes over a node that leads to no leaf needing a gradient
SKIP = len(RULES)
PROGRAM_ROWS = ("CODE", "BACK_CODE", "FIRST", "SECOND", "TO_FIRST", "TO_SECOND")  # uint32, a column per node
STATE_ROWS = ("EXPONENT", "VALUES", "GRADS")  # float64, a column per node

_HEADER = '''\
"""chainrule's native tape interpreter, generated from chainrule/rules.py by compiler/native_kernel.py.

A tape is two arrays with a column per node, leaves first (start is the first op node).
`program` (uint32: unsigned, so numba indexes with it without checking for negative indices) has
the rows CODE (the op's row in rules.RULES), BACK_CODE (the same, or {skip}, a code no branch takes,
where nothing the node feeds needs a gradient), FIRST and SECOND (the parents; a unary op's second
is its first), TO_FIRST and TO_SECOND (where each parent's share of the gradient goes: the parent;
or, for a parent that needs none, the node's own entry, which nobody reads once the node has fired).
`state` (float64) has the rows EXPONENT (n of x ** n), VALUES and GRADS. Two arguments, not nine:
numba checks the type of each at every call, and that is most of what a small graph's call costs.
"""
# numba {numba}; native_math.py sha256 {math_hash}

from numba import njit

from chainrule.compiler.native_math import {imports}

{program_rows} = range({program_size})
{state_rows} = range({state_size})
SKIP = {skip}
_compiled = njit(cache=True, error_model="numpy", boundscheck=False, nogil=True)


# The rows that call functions (tanh, exp, …) live in two functions of their own, so that the loops
# below, where the arithmetic rows are inline, stay small: each libm call in a loop costs every other
# branch registers (measured: two more rows in the loop made the oscillator's forward pass 40% slower).


@_compiled
def forward_call(op, a, b, n):
    """(whether floatmath refuses the value, the value), for a row that calls functions."""
{forward_calls}
    return False, 0.0


@_compiled
def backward_call(op, a, b, n, out, grad):
    """(a's share, b's share), as added: a share written -(x) is added as -x (IEEE's x - y is x + -y)."""
{backward_calls}
    return 0.0, 0.0


@_compiled
def forward(program, state, start):
    """values[j] for every op node j from start on. -1, or the first node whose op floatmath
    refuses (log of 0, division by 0): Python recomputes that node, raising the engine's error."""
    code, first, second = program[CODE], program[FIRST], program[SECOND]
    exponent, values = state[EXPONENT], state[VALUES]
    for j in range(start, len(code)):
        op = code[j]
{forward}
        else:
            failed, out = forward_call(op, values[first[j]], values[second[j]], exponent[j])
            if failed:
                return j
            values[j] = out
    return -1


@_compiled
def backward(program, state, start):
    """The gradient of the root (the last node), added node by node as Value.backward() adds it:
    op nodes restart at 0, leaves keep what their grads hold (they accumulate)."""
    code, first, second = program[BACK_CODE], program[FIRST], program[SECOND]
    to_first, to_second = program[TO_FIRST], program[TO_SECOND]
    exponent, values, grads = state[EXPONENT], state[VALUES], state[GRADS]
    root = len(code) - 1
    grads[start:root] = 0.0
    grads[root] = 1.0
    for j in range(root, start - 1, -1):
        op = code[j]
        grad = grads[j]
{backward}
        elif op != SKIP:
            a, b, n, out = values[first[j]], values[second[j]], exponent[j], values[j]
            share_a, share_b = backward_call(op, a, b, n, out, grad)
            grads[to_first[j]] += share_a
            grads[to_second[j]] += share_b
'''
# How a branch reads the variables its row uses, and only those
LOADS = {"a": "values[first[j]]", "b": "values[second[j]]", "n": "exponent[j]", "out": "values[j]"}


def _names(expression: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(expression, mode="eval")) if isinstance(node, ast.Name)}


def _loads(expressions: tuple[str, ...]) -> list[str]:
    used = set().union(*map(_names, expressions))
    return [f"{name} = {where}" for name, where in LOADS.items() if name in used]


def _guards(expression: str) -> list[str]:
    """`if divide_fails(a, b): return j` for each call in the expression that floatmath may refuse."""
    lines = []
    for node in ast.walk(ast.parse(expression, mode="eval")):
        name = getattr(getattr(node, "func", None), "id", "")
        if hasattr(native_math, f"{name}_fails"):
            arguments = ", ".join(ast.unparse(argument) for argument in node.args)  # type: ignore[attr-defined]
            lines += [f"if {name}_fails({arguments}):  # floatmath raises: Python says why", "    return j"]
    return lines


def _share(target: str, expression: str) -> str:
    """`grads[target] += x`; a share written -(x) is the closure's `-= x`."""
    tree = ast.parse(expression, mode="eval").body
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.USub):
        return f"grads[{target}] -= {_rendered(ast.unparse(tree.operand))}"
    return f"grads[{target}] += {_rendered(expression)}"


def _rendered(expression: str) -> str:
    return template(expression).format(a="a", b="b", n="n", out="out", grad="grad")


def _plain(rule: Rule) -> bool:
    """Arithmetic only, no function call: inline in the loops."""
    trees = [ast.parse(e, mode="eval") for e in (rule.forward, *rule.partials)]
    return not any(isinstance(node, ast.Call) for tree in trees for node in ast.walk(tree))


def _branches(bodies: dict[int, list[str]], indent: str) -> str:
    """`if op == 0: …` / `elif op == 1: …`, a branch per row, under a comment naming it.
    (A chain of ifs on one integer: LLVM makes it a jump table.)"""
    lines = []
    for k, (code, body) in enumerate(bodies.items()):
        rule = RULES[code]
        lines.append(f"{'if' if k == 0 else 'elif'} op == {code}:  # {rule.name}: {rule.written}")
        lines += [f"    {line}" for line in body]
    return "\n".join(f"{indent}{line}" for line in lines)


def source() -> str:
    """The interpreter's text: the same for every graph, a branch per op of the table in each pass.

    Forward: the row's forward value, after a check where floatmath could refuse it. Backward: each
    parent's share, added into its grad as the closure adds it. Each branch reads what its row uses."""
    missing = [name for name in FUNCTIONS if not hasattr(native_math, name)]
    if missing:
        raise NotImplementedError(f"chainrule/compiler/native_math.py has no {', '.join(missing)}")
    names = sorted({*FUNCTIONS, *(f"{n}_fails" for n in FUNCTIONS if hasattr(native_math, f"{n}_fails"))})
    plain = {code: rule for code, rule in enumerate(RULES) if _plain(rule)}
    calls = {code: rule for code, rule in enumerate(RULES) if code not in plain}
    targets = ("to_first[j]", "to_second[j]")
    forward = {c: [*_loads((r.forward,)), f"values[j] = {_rendered(r.forward)}"] for c, r in plain.items()}
    backward = {c: [*_loads(r.partials), *map(_share, targets, r.partials)] for c, r in plain.items()}
    forward_calls = {
        c: [
            *(g.replace("return j", "return True, 0.0") for g in _guards(r.forward)),
            f"return False, {_rendered(r.forward)}",
        ]
        for c, r in calls.items()
    }
    backward_calls = {
        c: [f"return {', '.join(_rendered(p) for p in (*r.partials, '0.0')[:2])}"] for c, r in calls.items()
    }
    return _HEADER.format(
        numba=numba.__version__,
        math_hash=hashlib.sha256(Path(native_math.__file__).read_bytes()).hexdigest(),
        imports=", ".join(names),
        program_rows=", ".join(PROGRAM_ROWS),
        program_size=len(PROGRAM_ROWS),
        state_rows=", ".join(STATE_ROWS),
        state_size=len(STATE_ROWS),
        skip=SKIP,
        forward=_branches(forward, "        "),
        backward=_branches(backward, "        "),
        forward_calls=_branches(forward_calls, "    "),
        backward_calls=_branches(backward_calls, "    "),
    )


def cache_dir() -> Path:
    """Where the generated interpreter lives (numba caches its machine code beside it, in __pycache__)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "chainrule" / "native"


class Kernel(NamedTuple):
    forward: Callable[..., int]  # (program, state, start) -> -1, or the node floatmath would refuse
    backward: Callable[..., None]  # (program, state, start)
    source: str


_LOADED: dict[str, Kernel] = {}


def load() -> Kernel:
    """The interpreter: written once per table, imported once per process, compiled by numba on its
    first call only when its cache is cold."""
    text = source()
    key = hashlib.sha256(text.encode()).hexdigest()[:20]
    if key not in _LOADED:
        path = _write(text, f"kernel_{key}.py")
        spec = importlib.util.spec_from_file_location(f"_chainrule_native_{key}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        _LOADED[key] = Kernel(module.forward, module.backward, text)
    return _LOADED[key]


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
