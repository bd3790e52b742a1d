"""Loops in a native program: a stretch of the tape that repeats one body, run by code written for it.

A Python loop (`for d in data: ...`) traces into op nodes that repeat with a period P: the same rows,
each reading its parents from slots that move by a fixed stride from one pass to the next (P for the
pass before, 0 for a parameter, another stride for the loop's data or, in a gradient's graph, for the
forward pass walked backwards). `find` finds such stretches in a laid-out program (numpy on its arrays:
half a second for 1.5 million nodes); each is run by the functions loop_text.py writes for its body
(a line per node, the interpreter's text, so the numbers are the interpreter's to the bit), compiled
by numba once per body and machine and cached on disk like the interpreter: no dispatch on an op
code, no parents' indices read, a pass's values and gradients kept in locals. The backward pass walks
the same stretches the other way, each loop by its `run_back`.

Which stretches are tried is a guess (each node's kind, periods sampled: `_kinds`, `_candidates`);
what is rolled is checked: every pass has the first pass's codes and exponents, no node Python
computes, and parents that move by the same strides from each pass to the next (`_passes`). A
stretch the guess misses runs on the interpreter, with the same numbers.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.compiler import loop_chunks, loop_text, native_kernel

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
    text: str  # the body's functions, as loop_text.py and loop_chunks.py write them
    in_array: bool  # run_back keeps every pass's gradients in the array (loop_text.Body.in_array)
    read_middle: tuple[int, ...]  # the body's nodes whose gradients run_back reads from the array in the
    read_last: tuple[int, ...]  # passes between the first and the last, and in the last (the others: locals
    # from 0, their entries never read, so a backward pass need not zero them)
    scratch: tuple[int, int] = (0, 0)  # rows of points the chunk functions' arrays need (loop_chunks.text)
    leaves_read: Any = None  # int64: the leaves a chunk's functions read at every point (loop_chunks)

    @property
    def stop(self) -> int:
        return self.start + self.period * self.count


def _runs(flags: Any, shortest: int = 1) -> list[tuple[int, int]]:
    """The (begin, end) of each run of True in a boolean array, at least `shortest` long."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags.astype(np.int8), [0]))))
    begins, ends = edges[0::2], edges[1::2]
    kept = ends - begins >= shortest
    return list(zip(begins[kept].tolist(), ends[kept].tolist()))


def _shortest(period: int) -> int:
    """The shortest run of nodes that holds MIN_PASSES passes of period nodes and MIN_NODES nodes."""
    return (max(MIN_PASSES, -(-MIN_NODES // period)) - 1) * period


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
        if len(codes) - np.count_nonzero(claimed) < MIN_NODES:
            break  # too few nodes left for a loop (on the oscillator, after its first period)
        if any(period % p == 0 and rate[p - 1] >= rate[period - 1] - _RATE for p in found_with):
            continue  # a multiple of a period that found its loops: the same loops seen twice
        same = (kinds[period:] == kinds[:-period]) & (exponents[period:] == exponents[:-period])
        same &= codes[period:] == codes[:-period]  # said again: a kind is a guide, the codes are the rule
        same &= native[period:] & native[:-period] & ~claimed[period:] & ~claimed[:-period]
        for low, high in _runs(same, _shortest(period)):
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


def find(
    program: Any,
    state: Any,
    start: int,
    kept: Any,
    needs: Any = None,
    read_after: Any = (),
    arguments: int = 0,
) -> list[Loop]:
    """The loops among a laid-out program's op nodes (slots start on), in slot order. kept: the slots
    whose values must be in the array after a call besides those other nodes read (the outputs), or
    None for every slot (the interpreter's backward pass reads them all); needs: whether each slot's
    gradient is needed (None: all); read_after: the slots whose gradients are read after a backward
    pass; arguments: the slots of the call's numbers, first (the others below start are the same at
    every point of a batch)."""
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
    needs = np.ones(len(needed), bool) if needs is None else np.asarray(needs, bool)
    read = np.zeros(len(needed), bool)
    read[list(read_after)] = True
    received = np.zeros(len(needed), bool)  # whose gradients a backward pass adds to in the array
    received[-1] = True  # the root's 1
    for c, column in enumerate(columns):
        received[column[start:][~local[c, start:]]] = True
    loops = []
    for begin, period, count in stretches:
        passes = slice(begin, begin + count * period)

        def in_some_pass(flags: Any, count: int = count, period: int = period) -> Any:
            return flags.reshape(count, period).any(axis=0)  # per node of the body

        last = slice(begin + (count - 1) * period, begin + count * period)

        sends = zip(*(in_some_pass(needs[column[passes]]).tolist() for column in columns))
        at = begin - start
        body = loop_text.Body(
            codes[at:],
            exponents[at:],
            begin,
            period,
            count,
            (reads[begin, 0], reads[begin, 1]),
            stored=in_some_pass(needed[passes]),
            stored_before_last=in_some_pass(needed[begin : last.start], count - 1),
            sends=list(sends),
            read_after=in_some_pass(read[passes]),
            received=in_some_pass(received[begin : last.start], count - 1),
            received_last=received[last],
        )
        shared, leaves = loop_chunks.leaf_reads(body, arguments, start)
        body = dataclasses.replace(body, shared=shared)
        (module, fixed), (chunks, scratch) = loop_text.text(body), loop_chunks.text(body)
        in_array = body.in_array
        loops.append(
            Loop(begin, period, count, fixed, module + chunks, in_array, *body.from_array(), scratch, leaves)
        )
    return loops


def zeroed(start: int, loops: list[Loop]) -> list[slice]:
    """The gradient entries a backward pass reads before it adds to them: every op node's but those of
    the loops' nodes kept in locals from 0 (a loop's first pass runs in the array)."""
    entries, at = [], start
    for loop in loops:
        entries.append(slice(at, loop.start + loop.period))
        middle, last = loop.start + loop.period, loop.stop - loop.period
        if len(loop.read_middle) == loop.period:
            entries.append(slice(middle, last))
        else:
            entries += [slice(middle + k, last, loop.period) for k in loop.read_middle]
        if loop.read_last:  # the whole pass: a slice or two instead of one per node
            entries.append(slice(last + min(loop.read_last), loop.stop))
        at = loop.stop
    entries.append(slice(at, None))
    joined = [entries[0]]
    for entry in entries[1:]:  # a slice that goes on where the one before stops: one slice
        before = joined[-1]
        if before.step is None and entry.step is None and before.stop == entry.start:
            joined[-1] = slice(before.start, entry.stop)
        else:
            joined.append(entry)
    return joined


def run_stretches(
    loops: list[Loop],
    runs: list[Callable[..., None]],
    start: int,
    stop: int,
    interpret: Callable[[int, int], Any],
    arrays: tuple,
    backward: bool = False,
) -> None:
    """Slots start to stop of a program: each loop by its code (runs[i](*arrays, …) for loops[i]),
    interpret(a, b) for the stretches between them; from the last slot down when backward."""
    if backward:
        at = stop
        for loop, run in zip(reversed(loops), reversed(runs)):
            interpret(loop.stop, at)
            run(*arrays, loop.start, loop.count, loop.fixed)
            at = loop.start
        interpret(start, at)
        return
    at = start
    for loop, run in zip(loops, runs):
        interpret(at, loop.start)
        run(*arrays, loop.start, loop.count, loop.fixed)
        at = loop.stop
    interpret(at, stop)


_LOADED: dict[str, Any] = {}  # the loops' modules, by the hash of their text


def function(loop: Loop, name: str = "run") -> Callable[..., None]:
    """A compiled function of a loop's body: "run" (a point's forward pass), "run_batch" (a chunk of
    points') or "run_back" (a point's backward pass); compiled once per body and machine, imported once
    per process."""
    key = hashlib.sha256(loop.text.encode()).hexdigest()[:20]
    if key not in _LOADED:
        _LOADED[key] = native_kernel.imported(loop.text, f"loop_{key}")
    return getattr(_LOADED[key], name)
