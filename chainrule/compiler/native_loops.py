"""Loops in a native program: a stretch of the tape that repeats one body, run by code written for it.

A Python loop (`for d in data: ...`) traces into op nodes that repeat with a period P: the same rows,
each reading its parents from slots that move by a fixed stride from one pass to the next (P for the
pass before, 0 for a parameter, another stride for the loop's data or, in a gradient's graph, for the
forward pass walked backwards). `find` finds such stretches in a laid-out program (numpy on its arrays:
half a second for 1.5 million nodes); each is run by a function written for its body, a line per
node with the row's text on symbols (the interpreter's text, so the numbers are the interpreter's to
the bit), and compiled by numba: no dispatch on an op code, no parents' indices read, a pass's own
values kept in locals. The text depends on the body alone (offsets and strides, not on where the loop
sits or how often it runs), so one compile serves every length of the loop, cached on disk like the
interpreter. Forward only: the backward pass of a jitted function's result is the interpreter's.

Which stretches are tried is a guess (each node's kind, periods sampled: `_kinds`, `_candidates`);
what is rolled is checked: every pass has the first pass's codes and exponents, no node Python
computes, and parents that move by the same strides from each pass to the next (`_passes`). A
stretch the guess misses runs on the interpreter, with the same numbers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.compiler import native_kernel
from chainrule.compiler.symbols import Symbol, Symbols, written

MAX_BODY = 256  # nodes of a body: a longer one compiles slowly (numba's time grows with the text)
MIN_NODES = 512  # a loop smaller than this runs in the interpreter: its compile would not pay
MIN_PASSES = 4
_SAMPLES = 4096  # positions where each period is tried, to choose the candidates
_RATE = 0.02  # a candidate period repeats at 2% of the sampled positions at least
_TRIED = 64  # candidate periods tried at most (each costs a pass over the arrays: 5 ms a million nodes)
_NEAR = 16  # a parent's distance back is part of a node's kind up to this


@dataclass(frozen=True)
class Loop:
    start: int  # the first slot of the first pass
    period: int
    count: int  # passes
    fixed: Any  # int64: the slot at pass 0 of each parent read that is not the pass's own or an earlier one's
    text: str  # the body's function, `run(values, start, count, fixed)`

    @property
    def stop(self) -> int:
        return self.start + self.period * self.count


def _runs(flags: Any) -> list[tuple[int, int]]:
    """The (begin, end) of each run of True in a boolean array."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags.astype(np.int8), [0]))))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


def _candidates(kinds: Any) -> tuple[list[int], Any]:
    """Periods worth trying, shortest first: those the nodes' kinds repeat with at enough sampled
    positions; and each period's rate (rate[p - 1])."""
    top = min(MAX_BODY, len(kinds) // MIN_PASSES)
    if top < 1:
        return [], np.zeros(0)
    where = np.unique(np.linspace(top, len(kinds) - 1, _SAMPLES).astype(np.int64))
    periods = np.arange(1, top + 1)
    rate = (kinds[where][:, None] == kinds[where[:, None] - periods]).mean(axis=0)
    return periods[rate >= _RATE].tolist(), rate


def _kinds(codes: Any, first: Any, second: Any, start: int) -> Any:
    """Each op node's kind: its code, its parents' codes (a leaf's is one more than any op's) and how
    far back each parent is when it is an op node within _NEAR, so that two nodes of one kind are
    rarely alike by chance, as two codes often are. (A parent that stays put, read by every pass, is
    near in the first passes only: _NEAR is kept small so that they are few.)"""
    leaf = len(native_kernel.native_rows())
    code = np.concatenate((np.full(start, leaf, np.int64), codes.astype(np.int64)))
    size = int(code.max()) + 1
    kind = ((code * size + code[first]) * size + code[second])[start:]
    slots = np.arange(start, len(code))
    for column in (first, second):
        back = slots - column[start:]
        near = (back <= _NEAR) & (column[start:] >= start)  # an op node's, not a leaf's
        kind = kind * (_NEAR + 1) + np.where(near, back, 0)
    return kind


def _passes(first: Any, second: Any, begin: int, period: int, count: int) -> tuple[int, int]:
    """The longest run of passes (first pass, how many) within count passes from begin whose parents
    move by the same strides from each pass to the next."""
    slots = begin + np.arange(count * period).reshape(count, period)
    steps = np.concatenate((np.diff(first[slots], axis=0), np.diff(second[slots], axis=0)), axis=1)
    reference = steps[(count - 1) // 2]
    runs = _runs((steps == reference).all(axis=1))
    if not runs:
        return begin, 1
    low, high = max(runs, key=lambda run: run[1] - run[0])
    return begin + low * period, high - low + 1


def _stretches(codes: Any, exponents: Any, first: Any, second: Any, start: int) -> list[tuple[int, int, int]]:
    """(first slot, period, passes) of each repeating stretch of op nodes, in slot order."""
    native = codes < len(native_kernel.native_rows())  # not a node Python computes
    claimed = np.zeros(len(codes), bool)
    found = []
    kinds = _kinds(codes, first, second, start)
    candidates, rate = _candidates(kinds)
    found_with: list[int] = []
    for period in candidates[:_TRIED]:
        if any(period % p == 0 and rate[p - 1] >= rate[period - 1] - _RATE for p in found_with):
            continue  # a multiple of a period that found its loops: the same loops seen twice
        same = (kinds[period:] == kinds[:-period]) & (exponents[period:] == exponents[:-period])
        same &= codes[period:] == codes[:-period]  # said again: a kind is a guide, the codes are the rule
        same &= native[period:] & native[:-period] & ~claimed[period:] & ~claimed[:-period]
        for low, high in _runs(same):
            count = (high - low + period) // period
            if count * period < MIN_NODES or count < MIN_PASSES:
                continue
            begin, count = _passes(first, second, start + low, period, count)
            if count * period >= MIN_NODES and count >= MIN_PASSES:
                found.append((begin, period, count))
                found_with.append(period)
                claimed[begin - start : begin - start + count * period] = True
    return sorted(found)


def _how(parent: int, stride: int, begin: int, k: int, period: int) -> tuple[str, int]:
    """How node k of a pass reads a parent that is at slot `parent` in the first pass (whose first slot
    is begin) and moves by stride from pass to pass: ("own", k') a node of the same pass, ("carried",
    k') node k' of the pass before, both kept in locals; ("behind", offset) an earlier pass's slot at
    that offset from the pass's first; ("fixed", stride) a slot that moves by stride, or stays."""
    offset = parent - begin
    if stride == period and 0 <= offset < k:
        return "own", offset
    if stride == period and -period <= offset < 0:
        return "carried", offset + period
    if stride == period:
        return "behind", offset
    return "fixed", stride


def find(program: Any, state: Any, start: int, kept: Any) -> list[Loop]:
    """The loops among a laid-out program's op nodes (slots start on), in slot order. kept: the slots
    whose values must be in the array after a call besides those other nodes read (the outputs), or
    None for every slot (the interpreter's backward pass reads them all)."""
    rows = dict(zip(native_kernel.PROGRAM_ROWS, program))
    codes = rows["CODE"][start:]
    if len(codes) < MIN_NODES:
        return []
    columns = tuple(rows[name].astype(np.int64) for name in ("FIRST", "SECOND"))
    exponents = state[native_kernel.STATE_ROWS.index("EXPONENT")][start:].view(np.int64)
    stretches = _stretches(codes, exponents, columns[0], columns[1], start)
    reads = {}  # (stretch's first slot, column) -> how each body node reads that parent
    local = np.zeros((2, len(codes) + start), bool)  # the reads a local serves
    for begin, period, count in stretches:
        for c, column in enumerate(columns):
            body = column[begin : begin + period]
            strides = column[begin + period : begin + 2 * period] - body
            ways = [_how(int(body[k]), int(strides[k]), begin, k, period) for k in range(period)]
            reads[begin, c] = [(way, number, int(body[k])) for k, (way, number) in enumerate(ways)]
            served = np.tile([way in ("own", "carried") for way, _ in ways], (count, 1))
            served[0] = [way == "own" for way, _ in ways]  # pass 0 reads the pass before from the array
            local[c, begin : begin + count * period] = served.ravel()
    needed = np.ones(len(codes) + start, bool)
    if kept is not None:
        needed[:] = False
        needed[kept] = True
        for c, column in enumerate(columns):
            needed[column[start:][~local[c, start:]]] = True
    loops = []
    for begin, period, count in stretches:
        stored = needed[begin : begin + count * period].reshape(count, period).any(axis=0)
        at = begin - start
        loops.append(_loop(codes[at:], exponents[at:], begin, period, count, reads, stored))
    return loops


def _loop(codes: Any, exponents: Any, begin: int, period: int, count: int, reads: dict, stored: Any) -> Loop:
    """The loop's body as text (codes and exponents from its first slot on), and its fixed reads' slots."""
    rows = native_kernel.native_rows()
    symbols = Symbols()
    fixed: list[int] = []
    carried: set[int] = set()
    nodes = []  # per node: its row's text, with {at} where a read of values[slot] gives its point
    for k in range(period):
        rule = rows[codes[k]]
        parents = []
        for c in range(rule.arity):
            way, number, parent = reads[begin, c][k]
            if way == "own":
                text = f"v{number}"
            elif way == "carried":
                carried.add(number)
                text = f"{{p{number}}}"  # a local for one point, the array for a batch
            elif way == "behind":
                text = f"values[j - {-number}{{at}}]"
            else:
                fixed.append(parent)
                text = f"values[f{len(fixed) - 1}" + (f" + t * {number}" if number else "") + "{at}]"
            parents.append(Symbol(text))
        n = written(float(exponents[k : k + 1].view(np.float64)[0])) if rule.exponent else None
        nodes.append((written(rule.value(symbols, parents, n)).text, rule.name))
    one, batch = [], []
    locals_ = {"at": "", **{f"p{k}": f"p{k}" for k in carried}}
    arrays = {"at": ", p", **{f"p{k}": f"values[j - {period - k}, p]" for k in carried}}
    for k, (text, name) in enumerate(nodes):
        one.append(f"v{k} = {text.format_map(locals_)}  # {name}")
        batch.append(f"v{k} = {text.format_map(arrays)}  # {name}")
        slot = f"j + {k}" if k else "j"
        if stored[k]:
            one.append(f"values[{slot}] = v{k}")
        if stored[k] or k in carried:  # a point's pass before is read from the array
            batch.append(f"values[{slot}, p] = v{k}")
    one += [f"p{k} = v{k}" for k in sorted(carried)]
    before = [f"f{i} = fixed[{i}]" for i in range(len(fixed))]
    # the text holds slots, strides, repr()ed exponents and the table's own names: no user text reaches it
    text = _TEXT.format(
        functions="\n".join(f"{name} = COMPILED[{name!r}]" for name in sorted(symbols.used)),
        before="".join(f"    {line}\n" for line in before),
        carried_in="".join(f"    p{k} = values[start - {period - k}]\n" for k in sorted(carried)),
        period=period,
        body="\n".join(f"        {line}" for line in one),
        batch_body="\n".join(f"            {line}" for line in batch),
    )
    return Loop(begin, period, count, np.array(fixed, np.int64), text)


_TEXT = '''\
"""A loop's body, generated by chainrule/compiler/native_loops.py: a line per node of a pass; `run` for
one point, `run_batch` for a chunk of points (values with a column per point)."""

from numba import njit

from chainrule.compiler.native_math import COMPILED

{functions}


@njit(cache=True, error_model="numpy", boundscheck=False, nogil=True)
def run(values, start, count, fixed):
{before}{carried_in}    for t in range(count):
        j = start + t * {period}
{body}


@njit(cache=True, error_model="numpy", boundscheck=False, nogil=True)
def run_batch(values, start, count, fixed):
{before}    for t in range(count):
        j = start + t * {period}
        for p in range(values.shape[1]):
{batch_body}
'''


def run_stretches(
    loops: list[Loop],
    runs: list[Callable[..., None]],
    start: int,
    stop: int,
    interpret: Callable[[int, int], Any],
    values: Any,
) -> None:
    """Slots start to stop of a program: each loop by its code (runs[i] for loops[i]), interpret(a, b)
    for the stretches between them."""
    at = start
    for loop, run in zip(loops, runs):
        interpret(at, loop.start)
        run(values, loop.start, loop.count, loop.fixed)
        at = loop.stop
    interpret(at, stop)


_LOADED: dict[str, Any] = {}  # the loops' modules, by the hash of their text


def function(loop: Loop, batch: bool = False) -> Callable[..., None]:
    """The compiled body of a loop, for a point or (batch) a chunk of points: compiled once per body and
    machine, imported once per process."""
    key = hashlib.sha256(loop.text.encode()).hexdigest()[:20]
    if key not in _LOADED:
        _LOADED[key] = native_kernel.imported(loop.text, f"loop_{key}")
    return _LOADED[key].run_batch if batch else _LOADED[key].run
