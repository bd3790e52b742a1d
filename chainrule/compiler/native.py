"""The native backend: a tape laid out as arrays and run by an interpreter numba compiled once.

`jit(fn, backend="native")` needs numba (`pip install "chainrule[native]"`). The interpreter
(native_kernel.py) is generated from the table of local derivatives and compiled once per machine;
a graph is only arrays: op codes, parents' indices, exponents, values and gradients, kept on the
program and reused by every call. A call writes the argument numbers and the closed-over leaves' .data
into the values, runs the forward loop, and returns the root's value; backward() reads the leaves'
.grad, runs the backward loop and writes them back: a few list operations in Python, whatever the graph.

Values and gradients are the engine's, to the bit, for every op of the table on Linux with glibc
(measured: every op at 600 points each, edges included, and the fuzzer's graphs): numba calls the
libm functions CPython's math module calls (exp, log, tanh, pow, sin, cos) and keeps IEEE arithmetic
(no fast-math, no fused multiply-adds). Elsewhere (another libm under numba than under CPython) the
transcendental ops may differ in the last place: at most 1 ulp, as tests/test_jit_native.py checks;
+ - * / neg and relu are exact everywhere. A NaN is a NaN: its sign bit is not kept, as IEEE does
not define it and LLVM may commute a * b. Values only the tape refers to (numbers fn lifted to
Values) are constants of the program (see tape.held_elsewhere). One program's arrays serve one call at a
time: do not call the same jitted function from several threads at once.

Where floatmath raises (log of 0, division by 0, 0 ** negative, a negative base to a non-integer
power), the interpreter stops at that node and Python recomputes it with floatmath, which raises the
engine's own error, message and all.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from chainrule.compiler.python_code import unpacker
from chainrule.compiler.tape import Tape, flat_outputs, held_elsewhere, nested
from chainrule.engine import Value
from chainrule.rules import FLOATS, Rule
from chainrule.runtime import collector
from chainrule.runtime.extras import require

np = require("numpy", "native", 'jit(fn, backend="native")')
require("numba", "native", 'jit(fn, backend="native")')

from chainrule.compiler import flat_walks, native_entry, native_kernel, native_loops  # noqa: E402 (after numba is known to be there)

_VALUES, _GRADS = map(native_kernel.STATE_ROWS.index, ("VALUES", "GRADS"))
# what a process makes for itself, never pickled (_values and _grads: views of _state's rows)
_MADE_HERE: tuple[str, ...] = ("kernel", "source", "unpack", "_calls", "_lock", "_runs", "_back_runs")
_MADE_HERE += ("_values", "_grads", "_entry")


def _codes() -> dict[str, int]:
    """Each op's code: its place among the rows the interpreter computes (others: PYTHON)."""
    return {rule.name: code for code, rule in enumerate(native_kernel.native_rows())}


class NativeProgram:
    """A tape as arrays for the native interpreter; `source` is the interpreter's generated text."""

    several_outputs = True  # runs a tape whose fn returned a tuple of Values: forward only
    differentiates = True  # runs a gradient's tape (the graph of f alone) by its own backward pass

    def __init__(self, fn: Callable, shape: Any, tape: Tape) -> None:
        self.kernel = native_kernel.load()
        self.source: str = self.kernel.source
        self.leaves, self.several = tape.leaves, tape.outputs is not None or tape.gradients_of is not None
        self.gradients = tape.gradients_of is not None  # a grad's or value_and_grad's program
        self.shape, self.unpack = shape, unpacker(shape)
        self._tape: Tape | None = tape  # laid out at the first call, once the traced graph is freed
        self._calls = itertools.count(1)
        self._current = 0  # the call whose values the arrays hold (0: none)
        self._lock = threading.RLock()  # one call at a time: every call writes the same arrays
        self._entry: native_entry.Entry | None = None  # the whole call as one function, once compiled

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (for Dask, multiprocessing) without what this process made: the interpreter, which the
        other loads from its own cache, the generated unpacker and the call counter."""
        state = {**self.__dict__, "_current": 0}
        for name in _MADE_HERE:
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self._tape is None:  # laid out: the rows of the state it reads and writes
            rows = dict(zip(native_kernel.STATE_ROWS, self._state))
            self._values, self._grads = rows["VALUES"], rows["GRADS"]
            self._load_loops()
        self.kernel = native_kernel.load()
        self.source, self.unpack, self._calls = self.kernel.source, unpacker(self.shape), itertools.count(1)
        self._lock, self._entry = threading.RLock(), None

    def _layout(self, tape: Tape) -> None:
        """Slots: the argument numbers, the live leaves, the constants, then the op nodes in tape order
        (the engine's order, so each sum adds its terms as the engine does)."""
        held = np.array(held_elsewhere(tape.leaves), bool)  # a live leaf's True, a constant's False
        inputs, leaf_nodes = len(tape.inputs), np.array(tape.leaf_nodes, np.int64)
        # (a held leaf is a Value, a float never is)
        self._live: list[Value] = list(itertools.compress(tape.leaves, held.tolist()))  # type: ignore[arg-type]
        constants = list(itertools.compress(tape.leaves, (~held).tolist()))
        arities = np.frombuffer(tape.arities, np.int64)
        op_nodes = np.flatnonzero(arities)
        size = inputs + len(tape.leaves) + len(op_nodes)
        used = [(k, node) for k, node in enumerate(tape.inputs) if node is not None]
        at = np.zeros(len(tape), np.int64)  # each node's slot
        at[[node for _, node in used]] = [k for k, _ in used]
        at[np.concatenate((leaf_nodes[held], leaf_nodes[~held], op_nodes))] = np.arange(inputs, size)
        slot = at.item  # a node's slot, as an int (a list of them all was 36 bytes a node)
        self._inputs, self._live_end, self._start = inputs, inputs + len(self._live), size - len(op_nodes)
        self._root = slot(len(tape) - 1)
        # fn returned a leaf it closed over (not one of its arguments, whose gradient nobody keeps)
        self._root_live = self._inputs <= self._root < self._live_end and tape.rules[-1] is None
        needs = np.zeros(size, bool)
        sources = set()  # a gradient's program: the nodes whose gradients it returns
        if tape.gradients_of is not None:
            self._sources = [None if i is None else slot(i) for i in tape.gradients_of]
            sources = {s for s in self._sources if s is not None}
            needs[list(sources)] = True
        else:
            needs[inputs : self._live_end] = True
        # the op nodes in tape order take the last slots in turn; their parents are earlier slots
        start, count = self._start, len(op_nodes)
        # (the op nodes' rows: no None)
        rules: list[Rule] = list(itertools.compress(tape.rules, tape.rules))  # type: ignore[arg-type]
        flat, arity = np.frombuffer(tape.parent_nodes, np.int64), arities[op_nodes]
        ends = np.cumsum(arities)[op_nodes]  # past each op node's parents in flat
        begins = ends - arity
        a, b = at[flat[begins]], at[flat[ends - 1]]  # a unary op's second is its first
        flat_walks.mark_needing(needs, a, b, at, flat, begins, ends, start)  # a source's stays True
        # a user's primitive of three or more arguments (Python fires it): its parents between
        many = np.flatnonzero(arity > 2).tolist()
        between = {start + k: at[flat[begins[k] + 1 : ends[k] - 1]].tolist() for k in many}
        codes = _codes()
        code_of = {rule: codes.get(rule.name, native_kernel.PYTHON) for rule in set(rules)}
        code = np.fromiter(map(code_of.__getitem__, rules), np.int64, count)
        own = np.arange(start, size)
        fires_between = np.zeros(count, bool)
        fires_between[[s - start for s, others in between.items() if needs[others].any()]] = True
        columns = {  # the op nodes' columns (a leaf's are 0), each made as its row is written
            "CODE": lambda: code,
            # a node fires when a parent needs its share (a source, whose gradient is read after the
            # pass, must not send its parents' unneeded shares to its own entry)
            "BACK_CODE": lambda: np.where(needs[a] | needs[b] | fires_between, code, native_kernel.SKIP),
            "FIRST": lambda: a,
            "SECOND": lambda: b,
            "TO_FIRST": lambda: np.where(needs[a], a, own),  # its own entry: nobody reads it again
            "TO_SECOND": lambda: np.where(needs[b] & (arity == 2), b, own),
        }
        self._program = np.zeros((len(native_kernel.PROGRAM_ROWS), size), np.uint32)
        for row, name in zip(self._program, native_kernel.PROGRAM_ROWS):
            row[start:] = columns[name]()
        self._state = np.zeros((len(native_kernel.STATE_ROWS), size))
        state_rows = dict(zip(native_kernel.STATE_ROWS, self._state))
        self._values, self._grads = state_rows["VALUES"], state_rows["GRADS"]
        exponents = list(itertools.compress(tape.exponents, tape.rules))
        state_rows["EXPONENT"][start:] = [0.0 if n is None else n for n in exponents]
        self._values[at[leaf_nodes[~held]]] = [x if isinstance(x, float) else x.data for x in constants]
        self._backward_runs = bool(needs[self._root]) and self._root >= start
        self._needs, in_python = needs, np.flatnonzero(code == native_kernel.PYTHON).tolist()
        self._in_python = {start + k: (rules[k], at[flat[begins[k] : ends[k]]].tolist()) for k in in_python}
        self._exponents = {start + k: exponents[k] for k in in_python}  # theirs, exact, for the fallback
        self._with_value = tape.with_value
        if tape.outputs is not None:
            self._outputs = nested(tape.outputs, slot)
        self._output_slots = flat_outputs(self._outputs) if tape.outputs is not None else [self._root]
        kept = [self._root, *self._output_slots]  # (a loop's backward pass computes its values again)
        program, state, read_after = self._program, self._state, sorted(sources)
        self._loops = native_loops.find(program, state, self._start, kept, needs, read_after, self._inputs)
        self._zeroed = native_loops.zeroed(self._start, self._loops)
        self._load_loops()

    def _load_loops(self) -> None:
        self._runs = [native_loops.function(loop) for loop in self._loops]
        self._back_runs = [native_loops.function(loop, "run_back") for loop in self._loops]

    def _run(self, numbers: list[float], data: list[float], entry: Any = None) -> float:
        self._values[: self._live_end] = numbers + data
        if entry is None:
            self._forward(self._state)
        else:  # the whole call, its backward pass too for a gradient's program
            entry()
        return self._values.item(self._root)

    # The passes take the state they run in: the program's own, or a copy for a thread of a batch.

    def _forward(self, state: Any) -> None:
        def interpret(start: int, stop: int) -> None:
            values, forward = state[_VALUES], self.kernel.forward
            while start < stop and (node := forward(self._program, state, start, stop)) >= 0:
                rule, parents = self._in_python[node]  # Python computes it: a user's op, Γ, …
                values[node] = rule.value(FLOATS, [values.item(p) for p in parents], self._exponents[node])
                start = node + 1

        arrays = (state[_VALUES],)
        native_loops.run_stretches(self._loops, self._runs, self._start, len(state[0]), interpret, arrays)

    def _back(self, state: Any) -> None:
        """d(root)/d(node) for every node that needs it, added as Value.backward() adds it: the op
        nodes' from 0, the leaves' onto what their entries hold."""

        def interpret(low: int, stop: int) -> None:
            top, backward = stop - 1, self.kernel.backward
            while top >= low and (node := backward(self._program, state, low, top)) >= 0:
                self._fire_in_python(state, node)
                top = node - 1

        grads = state[_GRADS]
        self._seeded(grads)
        if self._backward_runs:
            arrays, size = (state[_VALUES], grads), len(grads)
            native_loops.run_stretches(
                self._loops, self._back_runs, self._start, size, interpret, arrays, True
            )

    def outputs_at(self, state: Any) -> list[float]:
        """The flat outputs of the point whose inputs are in state's values (a gradient's program: the
        value if asked for, then each source's gradient), computed in state."""
        self._forward(state)
        return self._results(state)

    def _results(self, state: Any) -> list[float]:
        if not self.gradients:
            return state[_VALUES][self._output_slots].tolist()
        self._back(state)
        return [float(x) for x in self._gathered(state[_VALUES], state[_GRADS], 0.0)]

    # A point's arrays (values and gradients a number per node) or a chunk's (a row of points per node)

    def _seeded(self, grads: Any) -> None:
        """grads made ready for a backward pass: the entries it reads zeroed, the root's 1 in."""
        for entries in self._zeroed:
            grads[entries] = 0.0
        grads[self._root] += 1.0

    def _gathered(self, values: Any, grads: Any, unused: Any) -> list[Any]:
        """A gradient's program's flat outputs: the root's value if asked for, then each source's
        gradient (unused: a source f never used)."""
        found = [unused if s is None else grads[s] for s in self._sources]
        return [values[self._root], *found] if self._with_value else found

    def _fire_in_python(self, state: Any, node: int) -> None:
        """A node the interpreter has no branch for fires in Python: its row's shares, on floats."""
        rule, parents = self._in_python[node]
        values, grads = state[_VALUES], state[_GRADS]
        data, out, grad = [values.item(p) for p in parents], values.item(node), grads.item(node)
        for i, parent in enumerate(parents):
            if self._needs[parent]:
                grads[parent] += rule.share(i, FLOATS, data, self._exponents[node], out, grad)

    def forward(self, args: tuple, leaves: tuple) -> tuple[Any, tuple]:
        """(the root's value, what backward needs): the call's numbers and the leaves' data, kept so
        that an older result's backward() can recompute its values if a later call overwrote them.
        (A gradient's program: its flat outputs, and (); several outputs: them nested, and ().)"""
        numbers = self.unpack(args)
        with self._lock:
            if self._tape is not None:
                with collector.paused():  # (runtime/collector.py: the tape's tuples are many objects,
                    self._layout(self._tape)  # freed before the collector is back)
                    self._tape = None
            data = [leaf.data for leaf in self._live]
            call, self._current = next(self._calls), 0
            entry = native_entry.for_call(self, call)  # the whole call as one, once compiled
            value = self._run(numbers, data, entry)
            self._current = call
            if self.gradients:
                return tuple(self._results(self._state) if entry is None else entry.out.tolist()), ()
            if self.several:
                return nested(self._outputs, self._values.item), ()
        return value, (call, numbers, data)

    def backward(self, saved: tuple, leaves: tuple) -> None:
        """Add d(root)/d(leaf) to every live leaf's .grad, in the engine's order."""
        call, numbers, data = saved
        with self._lock:
            if self._root_live:  # fn returned a leaf it closed over
                self._live[self._root - self._inputs].grad += 1.0
            if not self._backward_runs:
                return
            if call != self._current:  # a later call overwrote this one's values: recompute them
                self._current = 0
                self._run(numbers, data)
                self._current = call
            live, grads, end = self._live, self._grads, self._live_end
            grads[self._inputs : end] = [leaf.grad for leaf in live]
            self._back(self._state)
            for leaf, grad in zip(live, grads[self._inputs : end].tolist()):
                leaf.grad = grad
