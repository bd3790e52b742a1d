"""A loop's body for a chunk of points: `run_batch` and `run_back_batch`, the rows loop_text.py writes
for one point, each line applied to every point of the chunk before the next (so each point gets the
operations of its own call, in the same order: the same bits).

Two things decide how fast a chunk runs, both measured on the oscillator (11 nodes a pass, 64 points):
- The memory a pass touches. Writing every pass's carried values out for the backward pass kept both
  passes waiting on memory. Here the forward pass keeps the pass before's carried values in `hold`
  and writes them to the array every SEGMENT passes only (a checkpoint); `run_back_batch` takes the
  segments from the last, computes a segment's passes again from the checkpoint before it into
  `passes` (small enough to stay in the cache), then walks them back.
- Vector code. Every entry is written `array[row + p]`, `row` an unsigned number computed once a pass:
  numba then adds no test for a negative index, and LLVM runs the loop over the points with vector
  instructions. A read of a slot every point shares (a leaf that is not an argument: the data) is
  read once a pass, from `shared` (`Body.shared`).
The arrays come flat (a chunk's values, or gradients, one slot's row of `points` after another).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.compiler import loop_text
from chainrule.compiler.loop_text import Body
from chainrule.compiler.symbols import Symbols

SEGMENT = 32  # passes from one checkpoint to the next (`passes` holds a segment's carried values)

Lines = Callable[["_Rows"], list[str]]


class _Rows:
    """The rows one loop over the points reads and writes, each named once before the loop (`row3`), a
    value every point shares read there once (`same2`); a parameter's gradient in its row of sums."""

    def __init__(self, shared: frozenset[str], summed: dict[str, int]) -> None:
        self.shared, self.summed = shared, summed
        self.names: dict[tuple[str, str], str] = {}
        self.lines: list[str] = []

    def __call__(self, array: str, slot: str) -> str:
        if array == "grads" and slot in self.summed:
            array, slot = "sums", str(self.summed[slot])
        key = (array, slot)
        if key not in self.names:
            if array == "values" and slot in self.shared:
                self.names[key] = f"same{len(self.names)}"
                self.lines.append(f"{self.names[key]} = shared[{slot}]")
            else:
                self.names[key] = f"row{len(self.names)}"
                self.lines.append(f"{self.names[key]} = np.uint64({slot}) * width")
        name = self.names[key]
        return name if name.startswith("same") else f"{array}[{name} + p]"


class _Chunk:
    """The text of one body's chunk functions, which keep in their own arrays `hold` (the forward pass:
    the pass before's carried values), `carry` (the backward pass: the gradients a pass hands the pass
    before), a segment's `passes` and the `sums`: a row of the chunk's points each."""

    def __init__(self, body: Body) -> None:
        self.body, self.symbols = body, Symbols()
        slots = body.slots()  # f2 + t * 3, j + -6
        self.shared = frozenset(slots[k][c] for k, c in body.shared)
        self.summed = {} if body.in_array else _summed(body)
        self.fixed_names = "".join(f", f{i}" for i in range(len(body.fixed())))  # f0, f1, … as arguments
        self.held = {k: str(i) for i, k in enumerate(body.carried)}  # a carried node's row of hold, carry

    def loop(self, lines_of: Lines, depth: int) -> list[str]:
        """A loop over the points, at depth levels of indentation: its rows first."""
        rows = _Rows(self.shared, self.summed)
        lines = lines_of(rows)
        if not lines:
            return []
        head = [f"{'    ' * depth}{line}" for line in [*rows.lines, "for p in range(width):"]]
        return head + [f"{'    ' * (depth + 1)}{line}" for line in lines]

    def values(self, rows: _Rows) -> list[str]:
        """The pass's values `v{k}`, from the pass before's `p{k}`."""

        values = loop_text.node_values(self.body, self.symbols, loop_text.reader(rows))
        return [f"v{k} = {value}" for k, value in enumerate(values)]

    def carried(self, array: str, row: Callable[[int], str]) -> Lines:
        """The pass before's carried values `p{k}`, each from its row of array."""
        return lambda rows: [f"p{k} = {rows(array, row(k))}" for k in self.body.carried]

    def copied(self, to: tuple[str, Callable[[int], str]], source: tuple[str, Callable[[int], str]]) -> Lines:
        """Each carried node's row of one array set to its row of another."""
        return lambda rows: [
            f"{rows(to[0], to[1](k))} = {rows(source[0], source[1](k))}" for k in self.body.carried
        ]

    def before(self, k: int) -> str:
        """The slot of carried node k in the pass before the pass at j."""
        return f"j - {self.body.period - k}"

    def forward_pass(self, keep: bool) -> Lines:
        """A pass from hold to hold, writing what others read, and when keep its carried values too."""
        body = self.body

        def lines(rows: _Rows) -> list[str]:
            out = self.carried("hold", self.held.__getitem__)(rows)
            for k, value in enumerate(self.values(rows)):
                out.append(value)
                if (body.stored[k] or k in self.held) if keep else body.stored_before_last[k]:
                    out.append(f"{rows('values', f'j + {k}')} = v{k}")
            return out + [f"{rows('hold', self.held[k])} = v{k}" for k in body.carried]

        return lines

    def forward(self) -> list[str]:
        body = self.body
        lines = [
            "j = start",
            *self.loop(self.copied(("hold", self.held.__getitem__), ("values", self.before)), 0),
            "for t in range(count):",
            f"    j = start + t * {body.period}",
        ]
        if body.in_array or not body.carried:  # every pass's values in the array, or none to keep
            return lines + self.loop(self.forward_pass(True), 1)
        return [
            *lines,
            f"    if t % {SEGMENT} == {SEGMENT - 1} or t == count - 1:  # a checkpoint, or the last pass",
            *self.loop(self.forward_pass(True), 2),
            "    else:",
            *self.loop(self.forward_pass(False), 2),
        ]

    def in_array(self, rows: _Rows) -> list[str]:
        """A pass's backward lines with its gradients in the array, its values computed again from the
        pass before's in the array."""
        again = [*self.carried("values", self.before)(rows), *self.values(rows)]
        return again + loop_text.backward_lines(self.body, self.symbols, False, rows)

    def in_passes(self, offset: int) -> Callable[[int], str]:
        """Carried node k's row of passes at the segment's pass u + offset."""
        return lambda k: f"(u + {offset}) * {len(self.body.carried)} + {self.held[k]}"

    def recomputed(self, rows: _Rows) -> list[str]:
        """A pass of a segment computed again, from the pass before's carried values in passes."""
        out = [*self.carried("passes", self.in_passes(0))(rows), *self.values(rows)]
        return out + [f"{rows('passes', self.in_passes(1)(k))} = v{k}" for k in self.body.carried]

    def walked(self, rows: _Rows) -> list[str]:
        """A pass walked back, its gradients in locals, its values computed again from passes."""
        body, held = self.body, self.held
        out = [f"c{k} = {rows('carry', held[k])}" for k in body.carried]
        out += loop_text.pass_start(body, rows)
        out += [*self.carried("passes", self.in_passes(0))(rows), *self.values(rows)]
        out += loop_text.backward_lines(body, self.symbols, True, rows)
        return out + [f"{rows('carry', held[k])} = c{k}" for k in body.carried]

    def backward(self) -> list[str]:
        body = self.body
        period, carried, held = body.period, body.carried, self.held
        if body.in_array:
            return [
                "for t in range(count - 1, -1, -1):",
                f"    j = start + t * {period}",
                *self.loop(self.in_array, 1),
            ]

        def started(rows: _Rows) -> list[str]:
            return [
                *loop_text.last_pass_start(body, rows),
                *(f"{rows('carry', held[k])} = c{k}" for k in carried),
            ]

        sums: dict[int, str] = {}  # each row of sums, and a fixed read (f3) whose gradient it is
        for slot, row in self.summed.items():
            sums.setdefault(row, slot)
        summed_in = [
            f"sums[np.uint64({row}) * width + p] = grads[np.uint64({f}) * width + p]"
            for row, f in sums.items()
        ]
        summed_out = [
            f"grads[np.uint64({f}) * width + p] = sums[np.uint64({row}) * width + p]"
            for row, f in sums.items()
        ]
        called = f"(values, grads, width, carry, passes, sums, shared, start, t, first{self.fixed_names})"
        again = ["    for t in range(first, end - 1):", f"        _recomputed{called}"]  # from its checkpoint
        return [
            f"j = start + (count - 1) * {period}",
            *self.loop(started, 0),
            *_plain_loop(summed_in),
            f"for first in range((count - 1) // {SEGMENT} * {SEGMENT}, -1, -{SEGMENT}):  # from the last",
            f"    end = min(first + {SEGMENT}, count)",
            f"    j = start + first * {period}",
            *self.loop(self.copied(("passes", held.__getitem__), ("values", self.before)), 1),
            *(again if carried else []),
            "    for t in range(end - 1, max(first, 1) - 1, -1):",
            f"        _walked{called}",
            *self.loop(self.copied(("grads", lambda k: f"start + {k}"), ("carry", held.__getitem__)), 0),
            "t = 0",
            "j = start",
            *self.loop(self.in_array, 0),
            *_plain_loop(summed_out),
        ]

    def pass_functions(self) -> str:
        """The functions of a pass of the backward pass (none for a body run in the array): as a loop
        of run_back_batch, LLVM did not vectorise the loop over the points that walks a pass back
        (measured: 4.4 ns a point and pass of the oscillator so, 2.8 in a function of its own)."""
        if self.body.in_array:
            return ""
        texts = []
        for name, lines_of in (("_recomputed", self.recomputed), ("_walked", self.walked)):
            loop = "".join(f"{line}\n" for line in self.loop(lines_of, 1))
            texts.append(_PASS.format(name=name, fixed=self.fixed_names, period=self.body.period, loop=loop))
        return "".join(texts)


def _plain_loop(lines: list[str]) -> list[str]:
    return ["for p in range(width):", *(f"    {line}" for line in lines)] if lines else []


def _summed(body: Body) -> dict[str, int]:
    """The fixed reads that stay put (a parameter's) whose gradients the backward pass adds up in
    `sums` (a row per slot, copied in before the passes and out after them: the same additions in the
    same order): each written f{i}, with its row. Summed into the array, every pass's share went
    back to memory (measured: 6.2 ns a point and pass for the oscillator's backward, 3.6 so). A slot
    that any other read reaches in some pass (a fixed read as it moves, a read of a pass behind, the
    first pass's read of the pass before) stays in the array: its shares would go there too."""
    reached: set[int] = set()
    for k in range(body.period):
        for way, number, slot in body.ways(k):
            if way != "fixed" or number:  # (a read that stays put is the one summed, or another like it)
                reached.update(body.reached(way, number, slot).tolist())
    rows: dict[int, int] = {}
    summed = {}
    for i, (stride, slot) in enumerate(body.fixed_reads()):
        if not stride and slot not in reached:
            summed[f"f{i}"] = rows.setdefault(slot, len(rows))
    return summed


def leaf_reads(body: Body, arguments: int, start: int) -> tuple[frozenset[tuple[int, int]], Any]:
    """A batch's view of the leaves (slots arguments to start, the same at every point) a loop reads:
    the reads (node, parent) that reach leaves only, in every pass, which a chunk reads once a pass;
    and the leaves a chunk reads at every point (the other reads that reach one, the pass before's
    values the first pass reads), whose values a chunk writes to every point."""
    shared, leaves = set(), []
    for k in range(body.period):
        for c, (way, number, slot) in enumerate(body.ways(k)):
            slots = body.reached(way, number, slot)
            if way in ("fixed", "behind") and arguments <= slots.min() and slots.max() < start:
                shared.add((k, c))
            else:  # (own: none; carried: at pass 0, what comes before the loop)
                leaves += slots.tolist()
    found = np.array(leaves, np.int64)
    return frozenset(shared), np.unique(found[(found >= arguments) & (found < start)])


def text(body: Body) -> tuple[str, tuple[int, int]]:
    """The chunk's functions of the loop, to follow loop_text.text(body)'s in its module (the same rows,
    so the same functions of the table, which that text names), and the rows of points they need in
    their arrays: (carried, summed); `passes` has SEGMENT rows for each carried."""
    chunk = _Chunk(body)
    module = _TEXT.format(
        before=loop_text.before(len(body.fixed())),
        forward="".join(f"    {line}\n" for line in chunk.forward()),
        back="".join(f"    {line}\n" for line in chunk.backward()),
    )
    return module + chunk.pass_functions(), (len(body.carried), len(set(chunk.summed.values())))


# hold, carry, passes and sums are arrays the caller made, one argument each: arrays numba makes inside
# the function, or views of one array, kept LLVM from vectorising the loops over the points that use them
_TEXT = """

@njit(cache=True, error_model="numpy", boundscheck=False, nogil=True)
def run_batch(values, points, hold, shared, start, count, fixed):
    width = np.uint64(points)
{before}{forward}

@njit(cache=True, error_model="numpy", boundscheck=False, nogil=True)
def run_back_batch(values, grads, points, carry, passes, sums, shared, start, count, fixed):
    width = np.uint64(points)
{before}{back}"""

_PASS = """

@njit(cache=True, error_model="numpy", boundscheck=False, nogil=True)
def {name}(values, grads, width, carry, passes, sums, shared, start, t, first{fixed}):
    j = start + t * {period}
    u = t - first
{loop}"""
