"""A loop's body written as code: a line per node, for one point's forward and backward passes.

native_loops.py finds a loop and says how each node of its body reads its parents; this module writes
the body's functions from the table's rows (the interpreter's text on symbols, so the numbers are the
interpreter's to the bit): `run` keeps a pass's values in locals, `run_back` adds every node's shares
into its parents' gradients, pass after pass from the last, each pass's values computed again in
locals from what the pass before carried into it (so the forward pass stores only that and what
others read). loop_chunks.py writes the same lines for a chunk of points, from the helpers here
(node_values, backward_lines, pass_start), each entry written by an `Access`. The text depends on the
body alone (offsets and strides, not on where the loop sits or how often it runs), so one compile
serves every length of the loop.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.compiler import native_kernel
from chainrule.compiler.symbols import Symbol, Symbols, written

__all__ = ["Body", "text"]

Access = Callable[[str, str], str]  # (array, slot) -> the text of that entry for the function written


def point(array: str, slot: str) -> str:
    """A point's entry of an array: values[j + 2]."""
    return f"{array}[{slot}]"


@dataclass(frozen=True)
class Body:
    """What the text of a loop's body is written from (each list: one entry per node k of a pass)."""

    codes: Any  # the op codes from the loop's first slot on
    exponents: Any  # int64 views of the exponents, as codes
    begin: int  # the first slot of the first pass
    period: int
    count: int
    reads: tuple[list, list]  # per parent column: (way, number, slot at pass 0), as native_loops._how says
    stored: Any  # whether its value must be in the array after the forward pass
    sends: list[tuple[bool, ...]]  # per parent: whether that parent needs its gradient in some pass
    read_after: Any  # whether its gradient is read after the backward pass (a source's)
    received: Any  # whether a share reaches its gradient through the array in a pass but the last (a
    # reader outside the loop's locals: a later pass, a later stretch); if not, it starts at 0
    received_last: Any  # the same in the last pass (readers after the loop, the root's 1)
    # the reads (node, parent) that every point of a chunk shares (leaves that are not arguments, in every
    # pass), which a chunk's functions read once a pass (loop_chunks.py)
    shared: frozenset[tuple[int, int]] = frozenset()
    stored_before_last: Any = None  # whether its value must be in the array after some pass but the last

    def ways(self, k: int) -> list[tuple[str, int, int]]:
        """How node k reads each of its parents: (way, number, slot at pass 0), as native_loops._how says."""
        arity = native_kernel.native_rows()[self.codes[k]].arity
        return [self.reads[c][k] for c in range(arity)]

    def slots(self) -> list[list[str]]:
        """Per node, per parent: the index of its slot at pass t of the pass whose first slot is j
        (`j + -3`, `f2 + t * 3`, the fixed reads numbered f0, f1, … in node order)."""
        fixed = itertools.count()
        named = []
        for k in range(self.period):
            reads = []
            for way, number, _ in self.ways(k):
                if way == "fixed":
                    reads.append(f"f{next(fixed)}" + (f" + t * {number}" if number else ""))
                else:
                    reads.append(f"j + {number - self.period if way == 'carried' else number}")
            named.append(reads)
        return named

    def reached(self, way: str, number: int, slot: str | int) -> Any:
        """The slots a read (a `ways` entry) reaches over the passes: a fixed or behind read's as it
        moves, the one before the loop that the first pass reads (carried); none for `own`."""
        if way == "own":
            return np.zeros(0, np.int64)
        if way == "carried":
            return np.array([slot], np.int64)
        return int(slot) + (number if way == "fixed" else self.period) * np.arange(self.count)

    def fixed_reads(self) -> list[tuple[int, int]]:
        """(stride, slot at pass 0) of each fixed read, in the order slots() numbers them."""
        ways = [way for k in range(self.period) for way in self.ways(k)]
        return [(stride, slot) for way, stride, slot in ways if way == "fixed"]

    def fixed(self) -> Any:
        """The slot at pass 0 of each fixed read, in the order slots() numbers them (int64)."""
        return np.array([slot for _, slot in self.fixed_reads()], np.int64)

    @functools.cached_property
    def in_array(self) -> bool:
        """Whether run_back keeps every pass's gradients in the array: a read that moves by another
        stride than the period lands on a node of the loop itself (a pass reading the first pass's
        node), so its shares would reach the array while a pass's gradients are in locals."""
        last, stop = self.count - 1, self.begin + self.period * self.count
        for reads in self.reads:
            for way, stride, parent in reads:
                low, high = sorted((parent, parent + stride * last))
                if way == "fixed" and low < stop and high >= self.begin:
                    return True
        return False

    @functools.cached_property
    def carried(self) -> list[int]:
        """The nodes the next pass reads (kept in locals from pass to pass), in order."""
        ways = [way for k in range(self.period) for way in self.ways(k)]
        return sorted({number for way, number, _ in ways if way == "carried"})

    def from_array(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The nodes whose gradients run_back reads from the array before adding to them, in the
        passes between the first and the last, and in the last (pass 0 reads every one)."""
        if self.in_array:
            return tuple(range(self.period)), tuple(range(self.period))
        either = [a or b for a, b in zip(self.received, self.received_last)]
        carried = set(self.carried)
        middle = [k for k in range(self.period) if (self.received[k] if k in carried else either[k])]
        last = [k for k in range(self.period) if (self.received_last[k] if k in carried else either[k])]
        return tuple(middle), tuple(last)

    def exponent(self, k: int) -> Symbol | None:
        """Node k's exponent, written as the number it is (None: its row has none)."""
        if not native_kernel.native_rows()[self.codes[k]].exponent:
            return None
        return written(float(self.exponents[k : k + 1].view(np.float64)[0]))


def backward_lines(body: Body, symbols: Symbols, in_locals: bool, access: Access = point) -> list[str]:
    """A pass's backward body: its nodes from the last, each adding its row's shares (the interpreter's
    text) into its parents' gradients, at `grads[j + k]` for node k of the pass whose first slot is j.

    in_locals: the gradients of this pass's nodes are locals `g{k}`, those of the pass before's nodes
    that this pass reads are `c{k}`; `run_back` loads each from the array once every share from a
    higher slot is in, so the sums add in the interpreter's order. Either way a parent moving by any
    other stride is at its first slot plus t times its stride (`access(array, slot)` writes the entry,
    a point's or a chunk's), and the pass's values are the locals `v{k}` (the pass before's `p{k}`). A
    share goes to its parent where that parent needs its gradient in some pass (a parameter's, not the
    data's), and a node's gradient is kept in the array only where someone reads it after the pass (a
    source's); the sums that matter are the interpreter's."""
    rows = native_kernel.native_rows()
    period = body.period
    slots: list[list[tuple[str, str]]] = []  # per node, per parent: (its value, its gradient)
    for k, reads in enumerate(body.slots()):
        parents = []
        for (way, number, _), slot in zip(body.ways(k), reads):
            local = {"own": f"g{number}", "carried": f"c{number}"}.get(way) if in_locals else None
            value = reader(access)(way, number, slot)
            parents.append((value, local or access("grads", slot)))
        slots.append(parents)
    lines = []
    for k in reversed(range(period)):
        rule, own = rows[body.codes[k]], f"j + {k}"
        _, shares = native_kernel.written_row(rule, symbols, body.exponent(k))
        sent = [
            (target, share) for (_, target), share, sends in zip(slots[k], shares, body.sends[k]) if sends
        ]
        if in_locals and body.read_after[k]:  # a source's gradient, complete at its turn
            lines.append(f"{access('grads', own)} = g{k}")
        if not sent:
            continue
        variables = {"a": slots[k][0][0], "b": slots[k][-1][0], "out": f"v{k}"}
        if in_locals:
            lines.append(f"grad = g{k}  # {rule.name}")
        else:
            lines.append(f"grad = {access('grads', own)}  # {rule.name}")
        lines += native_kernel.loads([share for _, share in sent], variables)
        lines += [native_kernel.added(target, share) for target, share in sent]
    return lines


def node_values(body: Body, symbols: Symbols, operand: Callable[[str, int, str], str]) -> list[str]:
    """Each node's value as the text of its row, a parent read as operand(way, number, slot) writes it
    (`v2` a node of the pass, `p4` the pass before's, an array's entry for a fixed or behind read)."""
    rows = native_kernel.native_rows()
    values = []
    for k, reads in enumerate(body.slots()):
        parents = [Symbol(operand(way, number, slot)) for (way, number, _), slot in zip(body.ways(k), reads)]
        values.append(written(rows[body.codes[k]].value(symbols, parents, body.exponent(k))).text)
    return values


def reader(access: Access = point) -> Callable[[str, int, str], str]:
    """How a pass reads a parent's value: a local for a node of the pass (`v2`) or of the pass before
    (`p4`), else its entry of values, as access writes it."""
    return lambda way, number, slot: (
        {"own": f"v{number}", "carried": f"p{number}"}.get(way) or access("values", slot)
    )


def text(body: Body) -> tuple[str, Any]:
    """The point's functions of the loop as the text of a module, and its fixed reads' slots (int64);
    loop_chunks.text(body) writes the chunk's functions, which go on at the module's end."""
    symbols = Symbols()
    carried = body.carried
    period = body.period
    names = [native_kernel.native_rows()[code].name for code in body.codes[:period]]
    values = node_values(body, symbols, reader())
    one = []
    for k, (value, name) in enumerate(zip(values, names)):
        one.append(f"v{k} = {value}  # {name}")
        if body.stored[k] or k in carried:  # run_back starts a pass again from the pass before's
            one.append(f"values[{f'j + {k}' if k else 'j'}] = v{k}")
    one += [f"p{k} = v{k}" for k in carried]
    again = [f"p{k} = values[j - {period - k}]" for k in carried]
    again += [f"v{k} = {value}" for k, value in enumerate(values)]
    in_array = backward_lines(body, symbols, False)
    kept_in_locals = [] if body.in_array else backward_lines(body, symbols, True)
    fixed = body.fixed()
    # the text holds slots, strides, repr()ed exponents and the table's own names: no user text reaches it
    module = _TEXT.format(
        functions="\n".join(f"{name} = COMPILED[{name!r}]" for name in sorted(symbols.used)),
        before=before(len(fixed)),
        carried_in="".join(f"    p{k} = values[start - {period - k}]\n" for k in carried),
        period=period,
        body="\n".join(f"        {line}" for line in one),
        back=_back_text(body, again, kept_in_locals, in_array),
    )
    return module, fixed


def before(fixed: int) -> str:
    """The lines that name a function's fixed reads' first slots (f0, f1, …)."""
    return "".join(f"    f{i} = fixed[{i}]\n" for i in range(fixed))


_TEXT = '''\
"""A loop's body, generated by chainrule/compiler/loop_text.py and loop_chunks.py: a line per node of a
pass; `run` for one point, `run_back` for a point's backward pass, `run_batch` for a chunk of points
(values with a column per point), `run_back_batch` for a chunk's backward pass."""

import numpy as np
from numba import njit

from chainrule.compiler.native_math import COMPILED

{functions}


@njit(cache=True, error_model="numpy", boundscheck=False, nogil=True)
def run(values, start, count, fixed):
{before}{carried_in}    for t in range(count):
        j = start + t * {period}
{body}


@njit(cache=True, error_model="numpy", boundscheck=False, nogil=True)
def run_back(values, grads, start, count, fixed):
{before}{back}'''


def _back_text(body: Body, again: list[str], kept_in_locals: list[str], in_array: list[str]) -> str:
    """run_back's body, each pass first computing its values again (`again`): the passes from the
    last down to 1 with their gradients in locals, then pass 0 (whose reads of the pass before reach
    slots outside the loop) in the array; or, when a read lands inside the loop (`Body.in_array`),
    every pass in the array."""
    period, carried = body.period, body.carried
    if body.in_array:
        lines = ["for t in range(count - 1, -1, -1):", f"    j = start + t * {period}"]
        lines += [f"    {line}" for line in [*again, *in_array]]
        return "".join(f"    {line}\n" for line in lines)
    lines = [
        f"j = start + (count - 1) * {period}",
        *last_pass_start(body),
        "for t in range(count - 1, 0, -1):",
        f"    j = start + t * {period}",
        *(f"    {line}" for line in [*pass_start(body), *again, *kept_in_locals]),
        *(f"grads[start + {k}] = c{k}" for k in carried),
        "t = 0",
        "j = start",
        *again,
        *in_array,
    ]
    return "".join(f"    {line}\n" for line in lines)


def _entry(k: int, slot: str, read: tuple[int, ...], access: Access) -> str:
    return access("grads", slot) if k in read else "0.0"


def last_pass_start(body: Body, access: Access = point) -> list[str]:
    """The carried gradients as the last pass starts (`c{k}`): those its readers after the loop sent."""
    last = body.from_array()[1]
    return [f"c{k} = {_entry(k, f'j + {k}', last, access)}" for k in body.carried]


def pass_start(body: Body, access: Access = point) -> list[str]:
    """A pass's gradients as its backward pass starts, between the last pass and the first: its own
    (`g{k}`: the carried ones handed on by the pass after, the others from the array or 0) and those of
    the pass before's nodes it reads (`c{k}`)."""
    period, carried = body.period, body.carried
    middle, last = body.from_array()
    either = (*middle, *last)
    lines = [f"g{k} = {_entry(k, f'j + {k}', either, access)}" for k in range(period) if k not in carried]
    lines += [f"g{k} = c{k}" for k in carried]
    return lines + [f"c{k} = {_entry(k, f'j - {period - k}', middle, access)}" for k in carried]
