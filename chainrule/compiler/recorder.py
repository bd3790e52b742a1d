"""The recording trace: fn run on numbers that write the tape as they go, for the native backend.

Tracing fn on the engine's Values keeps every node alive (a Value, its closure, the closure's cells
and tuples: 373 bytes a node), then walks the graph into a tape, then frees it. Here fn runs on
`Recorded` numbers instead: a Value subclass (so `isinstance`, `.data` and the engine's reflected ops
work as before) whose ops append their row of the table (rules.py) and their parents' node numbers to
flat arrays, compute the forward value with the row's float function (the engine's, to the bit), and
keep nothing else: a node fn drops is gone. The engine's order (the depth-first post-order backward()
walks) is then found on the arrays by numba, and the tape is the one `tape.record` makes of the same
graph, field for field (a test holds the two equal).

Where the recording could differ from the engine's graph, it gives way, and jit traces fn again on
Values: an operand that is a Value with a graph behind it, a comparison fn branches on (a guard), an
op under no_grad(), another thread, a read of a node's parents (a walk of the graph inside fn: a
nested grad, a drawing), a backward() or a gradient written. GaveWay (a BaseException, which
`except Exception` in fn does not catch) stops fn there, and the recording is marked spoiled, so
that even a GaveWay fn swallows throws the tape away. fn's code before that point runs twice.
"""

from __future__ import annotations

import threading
from array import array
from typing import Any

from chainrule import floatmath, grad_mode
from chainrule.compiler.tape import Tape
from chainrule.engine import Value
from chainrule.rules import BY_NAME, FLOATS, Rule


class GaveWay(BaseException):
    """The recording cannot be sure of the graph from here: jit traces fn on Values instead."""


class Recording:
    """The tape as fn runs: per node, its row (None: a leaf) and its parents' nodes (-1: none)."""

    def __init__(self) -> None:
        self.rules: list[Rule | None] = []
        self.first, self.second = array("q"), array("q")
        self.exponents: dict[int, float] = {}  # node -> n of x ** n
        self.labels: dict[int, str] = {}  # node -> a label fn gave it
        self.leaves: dict[int, Value] = {}  # node -> a Value fn closed over (or made), kept alive here
        self.node_of: dict[int, int] = {}  # id of such a Value -> its node
        self.constants: dict[int, float] = {}  # node -> a number fn lifted to a Value
        self.spoiled = False
        self.thread = threading.get_ident()

    def made(self, rule: Rule | None, first: int, second: int, data: float, n: float | None = None) -> Any:
        """A node: appended, and its Recorded number returned (spoiled where the engine would keep no
        parents, or in a thread not the trace's)."""
        if not grad_mode.is_enabled() or threading.get_ident() != self.thread:
            self.spoil()
        node = len(self.rules)
        self.rules.append(rule)
        self.first.append(first)
        self.second.append(second)
        if n is not None:
            self.exponents[node] = n
        out = _new(Recorded)  # not Recorded(...): a Python call less a node, which cProfile's watch counts
        out.data, out.node, out.recording = data, node, self
        return out

    def operand(self, x: Any) -> tuple[int, float]:
        """(the node, the number) of an operand: a Recorded one's own; a leaf Value's (one node however
        often it is read); a number lifted to a constant, coerced as Value() coerces it."""
        if type(x) is Recorded:
            if x.recording is not self:
                self.spoil()
            return x.node, x.data
        if isinstance(x, Value):
            if x._prev:  # a graph of the engine's behind it: not on this tape
                self.spoil()
            node = self.node_of.get(id(x))
            if node is None:
                node = self.node_of[id(x)] = len(self.rules)
                self.rules.append(None)
                self.first.append(-1)
                self.second.append(-1)
                self.leaves[node] = x
            return node, x.data
        number = x if type(x) is float else floatmath.real(x)
        node = len(self.rules)
        self.rules.append(None)
        self.first.append(-1)
        self.second.append(-1)
        self.constants[node] = number
        return node, number

    def spoil(self, *unused: Any) -> Any:
        """Give way (also fn's guards' listener: a comparison it branches on)."""
        self.spoiled = True
        raise GaveWay

    def input(self, x: float) -> Recorded:
        """A leaf for one of the call's numbers."""
        return self.made(None, -1, -1, x)


_new = object.__new__


class Recorded(Value):
    """A number of a recording trace: its node on the tape, and the recording; no parents, no closure."""

    __slots__ = ("node", "recording")  # made by Recording.made only
    node: int
    recording: Recording

    def _spoiling(self) -> Any:
        return self.recording.spoil()

    # a walk of the graph inside fn finds no parents here: it spoils the recording
    _prev = property(_spoiling)
    _op = property(lambda self: self._spoiling() or "")
    _backward = property(lambda self: self._spoiling())
    _exponent = property(lambda self: self._spoiling() or None)

    @property
    def grad(self) -> float:
        return 0.0

    @grad.setter
    def grad(self, value: float) -> None:
        self.recording.spoil()

    @property
    def label(self) -> str:
        return self.recording.labels.get(self.node, "")

    @label.setter
    def label(self, text: str) -> None:
        self.recording.labels[self.node] = text

    def backward(self) -> None:
        self.recording.spoil()

    def __pow__(self, exponent: Any) -> Value:
        recording = self.recording
        if isinstance(exponent, Value):
            b, y = recording.operand(exponent)
            return recording.made(_POW, self.node, b, _POW.forward(FLOATS, self.data, y))
        n = floatmath.real(exponent, "the exponent of **")
        return recording.made(_POWER, self.node, -1, _POWER.forward(FLOATS, self.data, n), n)

    def __rpow__(self, other: Any) -> Value:
        recording = self.recording
        a, x = recording.operand(other)
        return recording.made(_POW, a, self.node, _POW.forward(FLOATS, x, self.data))


_POW, _POWER = BY_NAME["pow"], BY_NAME["**"]


def _binary(name: str) -> tuple[Any, Any]:
    rule = BY_NAME[name]
    forward = rule.forward

    def op(self: Recorded, other: Any) -> Value:
        recording = self.recording
        if type(other) is Recorded and other.recording is recording:
            b, y = other.node, other.data
        else:
            b, y = recording.operand(other)
        return recording.made(rule, self.node, b, forward(FLOATS, self.data, y))

    def reflected(self: Recorded, other: Any) -> Value:  # the engine lifts the number first, then self
        recording = self.recording
        a, x = recording.operand(other)
        return recording.made(rule, a, self.node, forward(FLOATS, x, self.data))

    return op, reflected


def _unary(name: str) -> Any:
    rule = BY_NAME[name]
    forward = rule.forward

    def op(self: Recorded) -> Value:
        return self.recording.made(rule, self.node, -1, forward(FLOATS, self.data))

    return op


for _symbol, _name in (("+", "add"), ("-", "sub"), ("*", "mul"), ("/", "truediv")):
    _op, _reflected = _binary(_symbol)
    setattr(Recorded, f"__{_name}__", _op)
    setattr(Recorded, f"__r{_name}__", _reflected)
Recorded.__neg__ = _unary("neg")  # type: ignore[method-assign]
for _name in ("tanh", "exp", "log", "sin", "cos", "relu", "sigmoid"):
    setattr(Recorded, _name, _unary(_name))


def _engine_order(first: Any, second: Any, arity: Any, root: int, work: Any, order: Any) -> int:
    """topological_order's walk (engine.py) on the arrays: parents in operand order, a node after all
    of its parents, each node once. The nodes in that order go to order, and their count is returned;
    work holds three zeroed rows: the stack, the parents each node has tried, whether it was seen."""
    stack, tried, seen = work[0], work[1], work[2]
    top, done = 0, 0
    stack[0], seen[root] = root, 1
    while top >= 0:
        node = stack[top]
        pushed = False
        while tried[node] < arity[node]:
            parent = first[node] if tried[node] == 0 else second[node]
            tried[node] += 1
            if not seen[parent]:
                seen[parent] = 1
                top += 1
                stack[top] = parent
                pushed = True
                break
        if not pushed:
            order[done] = node
            done += 1
            top -= 1
    return done


_COMPILED: list[Any] = []


def engine_order(first: Any, second: Any, arity: Any, root: int) -> Any:
    """The nodes behind root in the engine's order, by _engine_order compiled by numba (once per machine):
    10 ms at 700,000 nodes."""
    from chainrule.compiler.native import np

    if not _COMPILED:
        from numba import njit

        _COMPILED.append(njit(cache=True, nogil=True)(_engine_order))
    order = np.empty(len(first), np.int64)
    done = _COMPILED[0](first, second, arity, root, np.zeros((3, len(first)), np.int64), order)
    return order[:done]


def taped(
    recording: Recording, root: Recorded, inputs: list[Any], sources: list[Any], with_value: bool
) -> Tape:
    """The tape `tape.record(root, inputs, sources, with_value)` makes of the same graph."""
    from chainrule.compiler.native import np

    first, second = np.frombuffer(recording.first, np.int64), np.frombuffer(recording.second, np.int64)
    arity_made = (first >= 0).astype(np.int8) + (second >= 0)
    order = engine_order(first, second, arity_made, root.node)
    at = np.full(len(first), -1, np.int64)
    at[order] = np.arange(len(order))
    arities = arity_made[order].astype(np.int64)
    pairs = np.stack((at[first[order]], at[second[order]]), axis=1)
    parents = pairs[np.stack((arities >= 1, arities == 2), axis=1)]
    rules = tuple(map(recording.rules.__getitem__, order.tolist()))
    exponents: list[float | None] = [None] * len(order)
    labels = [""] * len(order)
    for made, n in recording.exponents.items():
        if at[made] >= 0:
            exponents[at[made]] = n
    for made, text in recording.labels.items():
        if at[made] >= 0:
            labels[at[made]] = text
    is_input = {x.node for x in inputs}
    leaf_made = [made for made in order[arities == 0].tolist() if made not in is_input]
    leaves = tuple(
        recording.leaves[made] if made in recording.leaves else Value(recording.constants[made])
        for made in leaf_made
    )
    for made, leaf in recording.leaves.items():
        if at[made] >= 0:
            labels[at[made]] = leaf.label

    def node_of(x: Any) -> int | None:
        return int(at[x.node]) if at[x.node] >= 0 else None

    return Tape(
        rules=rules,
        arities=array("q", arities.tobytes()),
        parent_nodes=array("q", parents.tobytes()),
        exponents=tuple(exponents),
        labels=tuple(labels),
        inputs=tuple(map(node_of, inputs)),
        leaves=leaves,
        leaf_nodes=tuple(at[leaf_made].tolist()),
        gradients_of=tuple(map(node_of, sources)),
        with_value=with_value,
    )
