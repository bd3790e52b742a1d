"""A loop's body written as code: a line per node, for one point, a chunk of points and the backward pass.

native_loops.py finds a loop and says how each node of its body reads its parents; this module writes
the body's functions from the table's rows (the interpreter's text on symbols, so the numbers are the
interpreter's to the bit): `run` keeps a pass's values in locals, `run_batch` runs a chunk of points
with a column each, `run_back` adds every node's shares into its parents' gradients, pass after pass
from the last, each pass's values computed again in locals from what the pass before carried into it
(so the forward pass stores only that and what others read), and `run_back_batch` does so for a
chunk. The text depends on the body alone (offsets and strides, not on where the loop sits or how
often it runs), so one compile serves every length of the loop.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.compiler import native_kernel
from chainrule.compiler.symbols import Symbol, Symbols, written

__all__ = ["Body", "text"]


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

    def fixed(self) -> Any:
        """The slot at pass 0 of each fixed read, in the order slots() numbers them (int64)."""
        ways = [way for k in range(self.period) for way in self.ways(k)]
        return np.array([slot for way, _, slot in ways if way == "fixed"], np.int64)

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


def _backward_lines(body: Body, symbols: Symbols, in_locals: bool, at: str) -> list[str]:
    """A pass's backward body: its nodes from the last, each adding its row's shares (the interpreter's
    text) into its parents' gradients, at `grads[j + k]` for node k of the pass whose first slot is j.

    in_locals: the gradients of this pass's nodes are locals `g{k}`, those of the pass before's nodes
    that this pass reads are `c{k}`; `run_back` loads each from the array once every share from a
    higher slot is in, so the sums add in the interpreter's order. Either way a parent moving by any
    other stride is at its first slot plus t times its stride (`at`: ", p" for a chunk's point p, or
    ""), and the pass's values are the locals `v{k}` (the pass before's `p{k}`). A share goes to its
    parent where that parent needs its gradient in some pass (a parameter's, not the data's), and a
    node's gradient is kept in the array only where someone reads it after the pass (a source's);
    the sums that matter are the interpreter's."""
    rows = native_kernel.native_rows()
    period = body.period
    slots: list[list[tuple[str, str]]] = []  # per node, per parent: (its value, its gradient)
    for k, reads in enumerate(body.slots()):
        parents = []
        for (way, number, _), slot in zip(body.ways(k), reads):
            local = {"own": f"g{number}", "carried": f"c{number}"}.get(way) if in_locals else None
            value = {"own": f"v{number}", "carried": f"p{number}"}.get(way, f"values[{slot}{at}]")
            parents.append((value, local or f"grads[{slot}{at}]"))
        slots.append(parents)
    lines = []
    for k in reversed(range(period)):
        rule, own = rows[body.codes[k]], f"j + {k}"
        _, shares = native_kernel.written_row(rule, symbols, body.exponent(k))
        sent = [
            (target, share) for (_, target), share, sends in zip(slots[k], shares, body.sends[k]) if sends
        ]
        if in_locals and body.read_after[k]:  # a source's gradient, complete at its turn
            lines.append(f"grads[{own}{at}] = g{k}")
        if not sent:
            continue
        variables = {"a": slots[k][0][0], "b": slots[k][-1][0], "out": f"v{k}"}
        if in_locals:
            lines.append(f"grad = g{k}  # {rule.name}")
        else:
            lines.append(f"grad = grads[{own}{at}]  # {rule.name}")
        lines += native_kernel.loads([share for _, share in sent], variables)
        lines += [native_kernel.added(target, share) for target, share in sent]
    return lines


def text(body: Body) -> tuple[str, Any]:
    """The loop's functions as the text of a module, and its fixed reads' slots (int64)."""
    rows = native_kernel.native_rows()
    symbols = Symbols()
    carried = body.carried
    period = body.period
    nodes = []  # per node: its row's text, with {at} where a read of values[slot] gives its point
    for k, reads in enumerate(body.slots()):
        parents = []
        for (way, number, _), slot in zip(body.ways(k), reads):
            if way == "own":
                read = f"v{number}"
            elif way == "carried":
                read = f"{{p{number}}}"  # a local for one point, the array for a batch
            else:
                read = f"values[{slot}{{at}}]"
            parents.append(Symbol(read))
        rule = rows[body.codes[k]]
        nodes.append((written(rule.value(symbols, parents, body.exponent(k))).text, rule.name))
    one, batch = [], []
    locals_ = {"at": "", **{f"p{k}": f"p{k}" for k in carried}}
    arrays = {"at": ", p", **{f"p{k}": f"values[j - {period - k}, p]" for k in carried}}
    for k, (value, name) in enumerate(nodes):
        one.append(f"v{k} = {value.format_map(locals_)}  # {name}")
        batch.append(f"v{k} = {value.format_map(arrays)}  # {name}")
        slot = f"j + {k}" if k else "j"
        if body.stored[k] or k in carried:  # run_back starts a pass again from the pass before's
            one.append(f"values[{slot}] = v{k}")
            batch.append(f"values[{slot}, p] = v{k}")
    one += [f"p{k} = v{k}" for k in carried]
    backs = {}
    for at in ("", ", p"):  # a point's backward pass, a chunk's
        again = [f"p{k} = values[j - {period - k}{at}]" for k in carried]
        again += [f"v{k} = {value.format_map({**locals_, 'at': at})}" for k, (value, _) in enumerate(nodes)]
        in_array = _backward_lines(body, symbols, False, at)
        in_locals = [] if body.in_array else _backward_lines(body, symbols, True, at)
        backs[at] = _back_text(body, again, in_locals, in_array, at)
    fixed = body.fixed()
    before = [f"f{i} = fixed[{i}]" for i in range(len(fixed))]
    # the text holds slots, strides, repr()ed exponents and the table's own names: no user text reaches it
    module = _TEXT.format(
        functions="\n".join(f"{name} = COMPILED[{name!r}]" for name in sorted(symbols.used)),
        before="".join(f"    {line}\n" for line in before),
        carried_in="".join(f"    p{k} = values[start - {period - k}]\n" for k in carried),
        period=period,
        body="\n".join(f"        {line}" for line in one),
        batch_body="\n".join(f"            {line}" for line in batch),
        back=backs[""],
        back_batch=backs[", p"],
    )
    return module, fixed


_TEXT = '''\
"""A loop's body, generated by chainrule/compiler/loop_text.py: a line per node of a pass; `run` for
one point, `run_batch` for a chunk of points (values with a column per point), `run_back` for a
point's backward pass, `run_back_batch` for a chunk's."""

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
def run_batch(values, start, count, fixed):
{before}    for t in range(count):
        j = start + t * {period}
        for p in range(values.shape[1]):
{batch_body}


@njit(cache=True, error_model="numpy", boundscheck=False, nogil=True)
def run_back(values, grads, start, count, fixed):
{before}{back}

@njit(cache=True, error_model="numpy", boundscheck=False, nogil=True)
def run_back_batch(values, grads, start, count, fixed):
{before}{back_batch}'''


def _back_text(body: Body, again: list[str], in_locals: list[str], in_array: list[str], at: str) -> str:
    """run_back's body, each pass first computing its values again (`again`): the passes from the
    last down to 1 with their gradients in locals, then pass 0 (whose reads of the pass before reach
    slots outside the loop) in the array; or, when a read lands inside the loop (`Body.in_array`),
    every pass in the array. For a chunk (`at` ", p") each pass runs point after point, and the
    gradients a pass hands the pass before wait in `carry`, a row each."""
    period, carried = body.period, body.carried

    def per_point(lines: list[str]) -> list[str]:
        if not at or not lines:
            return lines
        return ["for p in range(values.shape[1]):", *(f"    {line}" for line in lines)]

    if body.in_array:
        lines = ["for t in range(count - 1, -1, -1):", f"    j = start + t * {period}"]
        lines += [f"    {line}" for line in per_point([*again, *in_array])]
        return "".join(f"    {line}\n" for line in lines)
    middle, last = body.from_array()

    def entry(k: int, slot: str, read: tuple[int, ...]) -> str:
        return f"grads[{slot}{at}]" if k in read else "0.0"

    either = (*middle, *last)
    at_pass = [f"g{k} = {entry(k, f'j + {k}', either)}" for k in range(period) if k not in carried]
    at_pass += [f"g{k} = c{k}" for k in carried]
    # a point's carried gradients are locals through its passes; a chunk's, rows of carry
    handed_in = [f"c{k} = carry[{i}, p]" for i, k in enumerate(carried)] if at else []
    handed_on = [f"carry[{i}, p] = c{k}" for i, k in enumerate(carried)] if at else []
    pass_lines = [
        *handed_in,
        *at_pass,
        *(f"c{k} = {entry(k, f'j - {period - k}', middle)}" for k in carried),
        *again,
        *in_locals,
        *handed_on,
    ]
    lines = [
        *([f"carry = np.empty(({len(carried)}, values.shape[1]))"] if at else []),
        f"j = start + (count - 1) * {period}",
        *per_point([*(f"c{k} = {entry(k, f'j + {k}', last)}" for k in carried), *handed_on]),
        "for t in range(count - 1, 0, -1):",
        f"    j = start + t * {period}",
        *(f"    {line}" for line in per_point(pass_lines)),
        *per_point([*handed_in, *(f"grads[start + {k}{at}] = c{k}" for k in carried)]),
        "t = 0",
        "j = start",
        *per_point([*again, *in_array]),
    ]
    return "".join(f"    {line}\n" for line in lines)
