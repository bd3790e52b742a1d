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
from pathlib import Path
from types import ModuleType

import numba

from chainrule.compiler import native_math
from chainrule.rules import FUNCTIONS, RULES, Rule, template

SKIP = -1  # the code of a node backward passes over: nothing it feeds needs a gradient

_HEADER = '''\
"""chainrule's native tape interpreter, generated from chainrule/rules.py by compiler/native_kernel.py.

A tape is arrays indexed by node: code (the op's row in rules.RULES), first and second (the parents'
nodes; a unary op's second is its first), exponent (n of x ** n), and the nodes' values and grads.
Leaves come first; start is the first op node.
"""
# numba {numba}; native_math.py sha256 {math_hash}

from numba import njit

from chainrule.compiler.native_math import {imports}

_compiled = njit(cache=True, error_model="numpy", boundscheck=False, nogil=True)
'''


def _guards(expression: str) -> list[str]:
    """`if divide_fails(a, b): return j` for each call in the expression that floatmath may refuse."""
    lines = []
    for node in ast.walk(ast.parse(expression, mode="eval")):
        name = getattr(getattr(node, "func", None), "id", "")
        if hasattr(native_math, f"{name}_fails"):
            arguments = ", ".join(ast.unparse(argument) for argument in node.args)  # type: ignore[attr-defined]
            lines += [f"if {name}_fails({arguments}):  # floatmath raises: Python says why", "    return j"]
    return lines


def _partial(expression: str) -> tuple[bool, str]:
    """A partial as (subtracted?, term): `-(x)` is the closure's `-= x`, anything else `+= x`."""
    tree = ast.parse(expression, mode="eval").body
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.USub):
        return True, ast.unparse(tree.operand)
    return False, expression


def _rendered(expression: str) -> str:
    return template(expression).format(a="a", b="b", n="n", out="out", grad="grad")


def _plain(rule: Rule) -> bool:
    """Arithmetic only, no function call: cheap enough to compute at every node and select."""
    trees = [ast.parse(e, mode="eval") for e in (rule.forward, *rule.partials)]
    return not any(isinstance(node, ast.Call) for tree in trees for node in ast.walk(tree))


def _mask(codes: list[int]) -> int:
    return sum(1 << code for code in codes)


def _dispatch(rows: dict[int, list[str]], plain: dict[int, list[tuple[str, str]]]) -> list[str]:
    """The plain rows as selects (computed at every node; no branch for the CPU to mispredict), then
    one branch into the rows that call functions, one `if`/`elif` each."""
    lines = []
    for code, assignments in plain.items():
        for name, value in assignments:
            value = value if value.isidentifier() else f"({value})"
            lines.append(f"{name} = {value} if op == {code} else {name}  # {RULES[code].name}")
    lines.append(f"if ({_mask(list(rows))} >> op) & 1:  # {', '.join(RULES[c].name for c in rows)}")
    for k, (code, statements) in enumerate(rows.items()):
        lines.append(
            f"    {'if' if k == 0 else 'elif'} op == {code}:  # {RULES[code].name}: {RULES[code].written}"
        )
        lines += [f"        {statement}" for statement in statements]
    return lines


def source() -> str:
    """The interpreter's text: the same for every graph, one branch per op of the table."""
    assert len(RULES) < 63, "op codes are bits of a 64-bit mask"
    missing = [name for name in FUNCTIONS if not hasattr(native_math, name)]
    if missing:
        raise NotImplementedError(f"chainrule/compiler/native_math.py has no {', '.join(missing)}")
    names = sorted({*FUNCTIONS, *(f"{n}_fails" for n in FUNCTIONS if hasattr(native_math, f"{n}_fails"))})
    math_hash = hashlib.sha256(Path(native_math.__file__).read_bytes()).hexdigest()
    plain = [code for code, rule in enumerate(RULES) if _plain(rule)]
    calls = [code for code in range(len(RULES)) if code not in plain]
    forward_plain = {code: [("out", _rendered(RULES[code].forward))] for code in plain}
    forward_calls = {c: [*_guards(RULES[c].forward), f"out = {_rendered(RULES[c].forward)}"] for c in calls}
    partials = [[_partial(p) for p in rule.partials] for rule in RULES]
    backward_plain = {c: [(d, _rendered(t)) for d, (_, t) in zip(("da", "db"), partials[c])] for c in plain}
    backward_calls = {
        c: [f"{d} = {_rendered(t)}" for d, (_, t) in zip(("da", "db"), partials[c])] for c in calls
    }
    # per parent: the ops whose share is subtracted (the closure's -=)
    minus = [_mask([c for c, terms in enumerate(partials) if terms[k:] and terms[k][0]]) for k in (0, 1)]
    lines = [
        _HEADER.format(numba=numba.__version__, math_hash=math_hash, imports=", ".join(names)),
        "",
        "@_compiled",
        "def forward(code, first, second, exponent, values, start):",
        '    """values[j] for every op node j from start on. -1, or the first node whose op floatmath',
        '    refuses (log of 0, division by 0): Python recomputes that node, raising the engine\'s error."""',
        "    for j in range(start, len(code)):",
        "        op = code[j]",
        "        a = values[first[j]]",
        "        b = values[second[j]]",
        "        n = exponent[j]",
        "        out = 0.0",
        *(f"        {line}" for line in _dispatch(forward_calls, forward_plain)),
        "        values[j] = out",
        "    return -1",
        "",
        "",
        "@_compiled",
        "def backward(code, first, second, to_first, to_second, exponent, values, grads, start):",
        '    """The gradient of the root (the last node), added node by node as Value.backward() adds it.',
        "    Op nodes restart at 0; the leaves' grads are what they hold (they accumulate). A parent that",
        "    needs no gradient (and a unary op's second) has its share sent to the sink, the extra last",
        '    entry of grads. A share written -(x) is subtracted, as the closure\'s -= does."""',
        "    root = len(code) - 1",
        "    grads[start:root] = 0.0",
        "    grads[root] = 1.0",
        "    for j in range(root, start - 1, -1):",
        "        op = code[j]",
        f"        if op == {SKIP}:",
        "            continue",
        "        grad = grads[j]",
        "        a = values[first[j]]",
        "        b = values[second[j]]",
        "        n = exponent[j]",
        "        out = values[j]",
        "        da = db = 0.0",
        *(f"        {line}" for line in _dispatch(backward_calls, backward_plain)),
        "        g = grads[to_first[j]]",
        f"        grads[to_first[j]] = g - da if ({minus[0]} >> op) & 1 else g + da",
        "        g = grads[to_second[j]]",
        f"        grads[to_second[j]] = g - db if ({minus[1]} >> op) & 1 else g + db",
        "",
    ]
    return "\n".join(lines)


def cache_dir() -> Path:
    """Where the generated interpreter lives (numba caches its machine code beside it, in __pycache__)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "chainrule" / "native"


_LOADED: dict[str, ModuleType] = {}


def load() -> ModuleType:
    """The interpreter module: written once per table, imported once per process, compiled by numba
    on its first call only when its cache is cold."""
    text = source()
    key = hashlib.sha256(text.encode()).hexdigest()[:20]
    if key not in _LOADED:
        path = _write(text, f"kernel_{key}.py")
        spec = importlib.util.spec_from_file_location(f"_chainrule_native_{key}", path)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules[spec.name] = module  # type: ignore[union-attr]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        module.SOURCE = text
        _LOADED[key] = module
    return _LOADED[key]


def _write(text: str, name: str) -> Path:
    """The file holding text, written atomically if absent (rewriting it would void numba's cache);
    in a temporary folder when the cache folder is not writable."""
    for folder in (cache_dir(), Path(tempfile.gettempdir()) / f"chainrule-native-{os.getuid()}"):
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
