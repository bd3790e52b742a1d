"""Reads of `.data` in the code a jit trace ran: the one branch no guard can see, made loud.

A comparison of Values is a guard of the compiled program; `if x.data > 0:` compares floats, which the
trace never sees, and `x * x.data` multiplies by a number frozen at its traced value. So while fn is
traced, every Python function that starts in this thread is noted (from Python 3.12 with
sys.monitoring, each code object once and then no more calls from it; before, with cProfile's
profiler, this thread only, removed after); afterwards each one's source is read with
`ast` (a file once, then cached) for `.data` on the lines it ran, and jit warns naming each file and
line: as deciding control flow where the read sits in an `if`, `while` or conditional expression's
test, a comparison, `and`/`or`, an `assert` or a comprehension's `if`, and as a constant elsewhere.
chainrule's own modules, the standard library and installed packages are not read (they read `.data`
on purpose, or have a `.data` of their own). Code whose source cannot be read (`python -c`, `exec`, a
plain REPL) is read from its bytecode: its loads of an attribute `data`, by line. Before 3.12, a
profiler already running (cProfile) is left alone, and nothing is watched; chainrule's own walks
inside a trace (a gradient's graph) turn that profiler off (runtime/tracing.unwatched).
"""

from __future__ import annotations

import ast
import cProfile
import dis
import linecache
import os
import sys
import sysconfig
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import CodeType
from typing import Any

from chainrule.runtime import tracing

_OWN = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # the chainrule package
_SKIPPED = (_OWN, *{sysconfig.get_paths()[key] + os.sep for key in ("stdlib", "purelib", "platlib")})
_SHOWN = 5  # lines named in one warning

Read = tuple[int, int, int, int, bool]  # (line, end line, column, end column, decides control flow)
_READS: dict[str, tuple[Read, ...]] = {}  # per file: every `.data` read


_MONITORING: Any = getattr(sys, "monitoring", None)  # Python 3.12 on (PEP 669)
_WATCHERS: dict[int, set[CodeType]] = {}  # thread -> the code its watch has seen (sys.monitoring's way)
_WATCHERS_LOCK = threading.Lock()
_TOOL: list[int] = []  # the sys.monitoring tool id the watch holds while any thread watches


def _started(code: CodeType, offset: int) -> Any:
    """sys.monitoring's PY_START: note the code for this thread's watch; then, if no other thread is
    watching, ask for no more calls from this code (the next watch re-arms them)."""
    ran = _WATCHERS.get(threading.get_ident())
    if ran is None:
        return None
    ran.add(code)
    return _MONITORING.DISABLE if len(_WATCHERS) == 1 else None


def _monitored(ran: set[CodeType]) -> bool:
    """Start this thread's watch with sys.monitoring (once a code object has started, it costs nothing
    more); False where it cannot: no sys.monitoring, no free tool id, or a watch already running here."""
    if _MONITORING is None or threading.get_ident() in _WATCHERS:
        return False
    with _WATCHERS_LOCK:
        if not _TOOL:
            free = [tool for tool in (3, 4) if _MONITORING.get_tool(tool) is None]
            if not free:
                return False
            _MONITORING.use_tool_id(free[0], "chainrule jit's .data watch")
            _MONITORING.register_callback(free[0], _MONITORING.events.PY_START, _started)
            _MONITORING.set_events(free[0], _MONITORING.events.PY_START)
            _TOOL.append(free[0])
        _WATCHERS[threading.get_ident()] = ran
        _MONITORING.restart_events()  # what an earlier watch disabled starts to be seen again
    return True


def _unmonitored() -> None:
    with _WATCHERS_LOCK:
        del _WATCHERS[threading.get_ident()]
        if not _WATCHERS:
            tool = _TOOL.pop()
            _MONITORING.set_events(tool, 0)
            _MONITORING.register_callback(tool, _MONITORING.events.PY_START, None)
            _MONITORING.free_tool_id(tool)


@contextmanager
def watching() -> Iterator[set[CodeType]]:
    """Inside: the code objects of the Python functions that start in this thread are collected."""
    ran: set[CodeType] = set()
    if _monitored(ran):
        try:
            yield ran
        finally:
            _unmonitored()
        return
    if sys.getprofile() is not None:  # someone is profiling: theirs, not ours
        yield ran
        return

    # cProfile's profiler counts the calls in C: a third cheaper than a Python profile function
    # (measured, the oscillator's 700,000 nodes traced on 3.11: 1.5 s against 2.0, 0.8 unwatched)
    watch = cProfile.Profile(subcalls=False, builtins=False)
    tracing.WATCHES.add(watch)
    watch.enable()
    try:
        yield ran
    finally:
        watch.disable()
        tracing.WATCHES.discard(watch)
        ran.update(entry.code for entry in watch.getstats() if not isinstance(entry.code, str))


def _decisions(node: ast.AST) -> list[ast.AST]:
    """The parts of node whose value decides which way the program goes."""
    if isinstance(node, ast.If | ast.While | ast.IfExp | ast.Assert):
        return [node.test]
    if isinstance(node, ast.comprehension):
        return list(node.ifs)
    if isinstance(node, ast.Compare | ast.BoolOp):
        return [node]
    return []


def _is_read(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "data" and isinstance(node.ctx, ast.Load)


def _file_reads(filename: str) -> tuple[Read, ...]:
    """Every `.data` read in a file, with whether it decides control flow (read once per file)."""
    if filename not in _READS:
        try:
            tree = ast.parse("".join(linecache.getlines(filename)), filename)
        except (SyntaxError, ValueError):
            tree = ast.Module(body=[], type_ignores=[])
        deciding = {
            id(read) for node in ast.walk(tree) for part in _decisions(node) for read in ast.walk(part)
        }
        reads = [node for node in ast.walk(tree) if isinstance(node, ast.Attribute) and _is_read(node)]
        _READS[filename] = tuple(sorted({(*_position(read), id(read) in deciding) for read in reads}))
    return _READS[filename]


def _position(node: ast.Attribute) -> tuple[int, int, int, int]:
    """Where a node is, as a code object's co_positions() gives its instructions' places."""
    return node.lineno, node.end_lineno or node.lineno, node.col_offset, node.end_col_offset or 0


def _ran(code: CodeType, read: Read) -> bool:
    """Whether the code object holds this read: its LOAD_ATTR has the Attribute's exact place
    (co_positions, Python 3.11+; on 3.10, its line: a lambda then owns the line it is written on)."""
    positions = getattr(code, "co_positions", None)
    if positions is not None:
        return read[:4] in set(positions())
    return read[0] in {line for *_, line in code.co_lines() if line is not None}


def _unread(code: CodeType) -> set[tuple[str, int, bool | None]]:
    """Code whose source cannot be read (python -c, exec, a REPL line): its `.data` loads, from the
    bytecode, by line; whether one decides control flow is unknown (None)."""
    if "data" not in code.co_names:
        return set()
    hits: set[tuple[str, int, bool | None]] = set()
    line = code.co_firstlineno
    for instruction in dis.get_instructions(code):
        line = instruction.starts_line or line  # (3.13: a line number or None at every instruction)
        if instruction.opname in ("LOAD_ATTR", "LOAD_METHOD") and instruction.argval == "data":
            hits.add((code.co_filename, line, None))
    return hits


def found(ran: set[CodeType]) -> list[tuple[str, int, bool | None]]:
    """(file, line, decides control flow) of each `.data` read on a line the collected code ran."""
    hits: set[tuple[str, int, bool | None]] = set()
    for code in ran:
        name = code.co_filename
        if not name.startswith("<") and os.path.abspath(name).startswith(_SKIPPED):
            continue
        if not linecache.getlines(name):
            hits |= _unread(code)
            continue
        hits |= {(name, read[0], read[4]) for read in _file_reads(name) if _ran(code, read)}
    return sorted(hits, key=lambda hit: (hit[0], hit[1]))


_KINDS = {
    True: "decides control flow",
    False: "a number frozen as a constant",
    None: "its source cannot be read: it may decide control flow",
}


def warn(ran: set[CodeType], category: type[Warning], stacklevel: int) -> None:
    """One warning naming the lines (up to five) where the traced code read `.data`, if it did."""
    hits = found(ran)
    if not hits:
        return
    shown = "; ".join(f"{name}:{line} ({_KINDS[decides]})" for name, line, decides in hits[:_SHOWN])
    more = f" and {len(hits) - _SHOWN} more" if len(hits) > _SHOWN else ""
    warnings.warn(
        f"jit: the traced function reads .data at {shown}{more}. A compiled call cannot see a branch on "
        ".data (no guard checks it) and keeps the number it read: compare the Values themselves "
        "(`if x > 0:` is guarded, `chainrule.where(x > 0, a, b)` compiles both sides), or call the "
        "function without jit.",
        category,
        stacklevel=stacklevel + 1,
    )
