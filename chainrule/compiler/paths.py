"""Paths: a compiled program is one path through fn's branches, and its guards say when a call takes it.

Every comparison of Values whose bool() fn branched on while traced (`if x > 0:`, `while err > tol:`,
`max(a, b)`) is a guard: the same comparison, compiled as a node of a second, forward-only program of
the same backend, with the outcome it had. A call first runs the guards' program; if every outcome is
the traced one, fn would take the traced path, so the path's program computes it, to the engine's bits.
If one differs the call is another path's (GuardFailed): jit tries the other paths it holds for this
argument shape and traces a new one when none fits. Past `max_paths` paths for a shape, its calls run
on the engine itself (a function whose path changes at every call would otherwise trace at every call).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chainrule.compiler import data_reads, recorder, recording_tape
from chainrule.compiler.python_code import Restructure, shaper
from chainrule.compiler.tape import Tape, record
from chainrule.compiler.trace import JitTraceWarning, holds_packed, run_traced, trace, unpacked, values_like
from chainrule.derivatives.gradients import Grad, ValueAndGrad
from chainrule.derivatives.graph_backward import gradient_graphs
from chainrule.engine import Value
from chainrule.grad_mode import enable_grad
from chainrule.runtime import collector, tracing, trees


class GuardFailed(Restructure):
    """A guard came out otherwise at this call: fn takes another path."""


class Path:
    """A traced path: the program of fn's output, and the guards' program with the outcomes traced."""

    positional = True  # traced without keyword or packed arguments: a call's args can go straight in

    def __init__(self, program: Any, guards: Any, expected: tuple[float, ...]) -> None:
        self.program, self.guards, self.expected = program, guards, expected
        self.leaves, self.several, self.source = program.leaves, program.several, program.source
        self.outputs = program.outputs  # the spec of the tree of Values fn returned, or None
        self.shaped = None if self.outputs is None else shaper(self.outputs)  # flat outputs to that tree
        self.backward = program.backward
        self.siblings: list[Path] = [self]  # the paths jit keeps for this shape (this one among them)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "shaped": None}  # generated here, made again where it is unpickled

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.shaped = None if self.outputs is None else shaper(self.outputs)

    def forward(self, args: Any, leaves: tuple) -> tuple[Any, tuple]:
        """The program's forward pass, once the guards hold; GuardFailed if one does not."""
        if self.guards is not None:
            try:
                outcomes = self.guards.forward(args, self.guards.leaves)[0]
            except Restructure:
                raise
            except (ArithmeticError, ValueError):  # the guards cannot be computed here: not this path
                raise GuardFailed from None
            if outcomes != self.expected:
                raise GuardFailed
        return self.program.forward(args, leaves)


def compile_path(make: Callable[..., Any], fn: Callable, shape: Any, args: tuple, kwargs: dict) -> Path:
    """Trace fn and hand its tape, and its guards' tape, to the backend, with the cyclic garbage collector
    paused (runtime/collector.py says why: tens of thousands of nodes are alive while tracing)."""
    outputs: list[Any] = []  # the spec of the tree of Values fn returned (the tape gets a flat tuple)
    alone: list[list[Value]] = []  # f's differentiated leaves, if the tape is of f alone
    differentiates = getattr(make, "differentiates", False)  # the backend takes f's gradients itself
    with collector.paused():
        recorded = None
        if isinstance(fn, ValueAndGrad) and differentiates:
            recorded = _recorded(fn, outputs, args, kwargs)
        if isinstance(recorded, Tape):
            tape, root, inputs, taken = recorded, None, list[Value](), list[Any]()
        elif recorded is not None:  # a small f's gradient graphs, made of Values
            root, inputs = recorded
            tape, taken = record(root, inputs), []
        elif isinstance(fn, ValueAndGrad) and differentiates:
            root, inputs, taken = trace(functools.partial(_f_alone, fn, outputs, alone), args, kwargs)
            tape = (
                record(root, inputs, alone[0], with_value=not isinstance(fn, Grad))
                if alone
                else record(root, inputs)
            )
        else:
            root, inputs, taken = trace(functools.partial(_flat_outputs, fn, outputs), args, kwargs)
            if not isinstance(root, Value) and not getattr(make, "several_outputs", False):
                raise TypeError("jit: this backend compiles functions that return one Value")
            tape = record(root, inputs)
        expected = tuple(float(c.outcome) for c in taken)
        with enable_grad():
            guards_tape = record(tuple(c.node() for c in taken), inputs) if taken else None
        # the traced graph, five objects a node, is freed here while the collector is off: alive when it
        # comes back on, its first young collection would walk every one of them (1 s at 700,000 nodes)
        del root, inputs, taken, alone
        program = make(fn, shape, tape)
        program.outputs = outputs[0] if outputs else None
        guards = None
        if guards_tape is not None:
            with enable_grad():
                guards = make(fn, shape, guards_tape)
    path = Path(program, guards, expected)
    path.positional = not kwargs and not holds_packed(args)
    return path


def _flat_outputs(fn: Callable[..., Any], outputs: list[Any], *args: Any, **kwargs: Any) -> Any:
    """fn's result; a tree of Values (gradients) as the flat tuple of its leaves, its spec kept in outputs."""
    return _flattened(fn(*args, **kwargs), outputs)


def _flattened(out: Any, outputs: list[Any]) -> Any:
    if trees.is_branch(out):
        leaves, spec = trees.flatten(out, lambda leaf: leaf)
        outputs.append(spec)
        return tuple(leaves)
    return out


# Nodes of f below which a native jit of its gradient compiles the gradient's graph instead: a forward
# program, one pass and fewer calls into numba. Measured side by side: a 10-node f's call 7 us that
# way, 11 us by its own backward pass (vmap of 1,000 points 0.9 ms, 1.0 ms); the oscillator at 200
# and 500 steps (2,800 and 7,000 nodes) already faster by its own backward pass (vmap 3.1 and 5.4
# ms, not 4.0 and 8.0; a call about the same)
SMALL_GRAPH = 1_000


def _fewer_nodes(root: Value, limit: int) -> bool:
    """Whether root's graph has fewer than limit nodes (counted until limit, not further)."""
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            if len(seen) >= limit:
                return False
            stack.extend(node._prev)
    return True


def _f_alone(
    fn: ValueAndGrad, outputs: list[Any], alone: list[list[Value]], *args: Any, **kwargs: Any
) -> Any:
    """For a backend that takes gradients by its own backward pass: the root of fn's f (fn a grad or a
    value_and_grad), the leaves fn differentiates by put in alone, the spec of fn's result in outputs
    (the root's value first if fn gives it, then each source's gradient, as they flatten). A small f:
    fn's result with its gradients as graphs, flattened as _flat_outputs does."""
    root, leaves, specs = fn.traced(args, kwargs)
    if _fewer_nodes(root, SMALL_GRAPH):  # the gradient's graph then (SMALL_GRAPH says why)
        return _with_gradient_graphs(fn, outputs, root, leaves, specs)
    return _kept_alone(fn, outputs, alone, root, leaves, specs)


def _with_gradient_graphs(fn: ValueAndGrad, outputs: list, root: Value, leaves: list, specs: list) -> Any:
    """fn's result with its gradients as graphs, flattened as _flat_outputs does (a small f)."""
    return _flattened(fn.shaped(root, gradient_graphs(root, leaves), specs), outputs)


def _kept_alone(fn: ValueAndGrad, outputs: list, alone: list, root: Any, leaves: list, specs: list) -> Any:
    alone.append(leaves)
    outputs.append(trees.flatten(fn.shaped(root, leaves, specs), lambda leaf: leaf)[1])
    return root


def _recorded(fn: ValueAndGrad, outputs: list[Any], args: tuple, kwargs: dict) -> Any:
    """fn's f by a recording trace (compiler/recorder.py): its tape; for a small f, (the flat outputs of
    fn's result with its gradients as graphs, the inputs), made of Values rebuilt from the recording,
    as _f_alone gives them; None where jit must trace it on Values: the recording gave way, or fn
    raised (on Values it raises the same)."""
    recording, alone, spec, specs = recorder.Recording(), list[Any](), list[Any](), list[Any]()

    def f_alone(*args: Any, **kwargs: Any) -> Any:
        with tracing.listening(recording.spoil):  # a guard: give way
            traced = fn.traced(args, kwargs)
        specs.append(traced[2])
        return _kept_alone(fn, spec, alone, *traced)

    try:
        root, inputs, taken, ran = run_traced(f_alone, args, kwargs, recording.input)
    except (Exception, recorder.GaveWay):
        return None
    finally:
        recording.closed = True  # a Recorded fn kept is refused from here on
    if recording.spoiled or taken or type(root) is not recorder.Recorded or root.recording is not recording:
        return None
    data_reads.warn(ran, JitTraceWarning, stacklevel=4)  # the call of the jitted function, as trace's
    tape = None
    if recording.size + len(recording.numbers) >= SMALL_GRAPH:
        tape = recording_tape.taped(recording, root, inputs, alone[0], with_value=not isinstance(fn, Grad))
    if tape is not None and len(tape) >= SMALL_GRAPH:
        outputs.extend(spec)
        return tape
    with enable_grad(), tracing.graphs():  # the gradient's graph then (SMALL_GRAPH says why)
        made = recording_tape.rebuilt(recording, inputs)
        sources = [made[x.node] for x in alone[0]]
        flat = _with_gradient_graphs(fn, outputs, made[root.node], sources, specs[0])
    recorded_inputs: list[Any] = inputs
    return flat, [made[x.node] for x in recorded_inputs]


class Engine:
    """Calls run on the engine, unjitted: what a JitResult's backward() runs for them."""

    leaves: tuple = ()
    several = False

    @staticmethod
    def backward(saved: tuple, leaves: tuple) -> None:
        saved[0].backward()


def run_eagerly(fn: Callable, args: tuple, kwargs: dict, several: bool) -> tuple[Any, tuple]:
    """fn run by the engine, as a call without jit: (its value, what Engine.backward needs). A function of
    several outputs (a gradient) is called with the numbers themselves, so grad runs on floats, and gives
    what it gives without jit."""
    if several:
        return fn(*map(unpacked, args), **{name: unpacked(arg) for name, arg in kwargs.items()}), ()
    with enable_grad():
        root = fn(*values_like(args), **{name: values_like(arg) for name, arg in kwargs.items()})
    return root.data, (root,)
