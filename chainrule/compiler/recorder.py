"""The recording trace: fn run on numbers that write the tape as they go, for the native backend.

Tracing fn on the engine's Values keeps every node alive (a Value, its closure, the closure's cells
and tuples: 373 bytes a node), then walks the graph into a tape, then frees it. Here fn runs on
`Recorded` numbers instead: a Value subclass (so `isinstance`, `.data` and the engine's reflected ops
work as before; `type(x) is Value` does not hold) whose ops append their row of the table (rules.py)
and their parents' node numbers to flat arrays, compute the forward value with the row's float
function (the engine's, to the bit), and keep nothing else: a node fn drops is gone.
recording_tape.py makes the tape of them.

Where the recording could differ from the engine's graph, it gives way, and jit traces fn again on
Values: an operand that is a Value with a graph behind it or of a user's Value subclass, a comparison
fn branches on (a guard), an op under no_grad(), another thread, a read of a node's parents (a walk of
the graph inside fn: a nested grad, a drawing), a backward() or a gradient written. GaveWay (a
BaseException, which `except Exception` in fn does not catch) stops fn there, and the recording is
marked spoiled, so that even a GaveWay fn swallows throws the tape away. fn's code before that point
runs twice. After the trace, a Recorded fn kept is refused (TypeError) where it would need a graph.
"""

from __future__ import annotations

import threading
from array import array
from typing import Any

from chainrule import floatmath, grad_mode
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
        self.spoiled = self.closed = False
        self.thread = threading.get_ident()

    def made(self, rule: Rule | None, first: int, second: int, data: float, n: float | None = None) -> Any:
        """A node: appended, and its Recorded number returned (spoiled where the engine would keep no
        parents, or in a thread not the trace's)."""
        if not grad_mode.is_enabled() or threading.get_ident() != self.thread or self.closed:
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
            # a graph of the engine's behind it, or a user's subclass (whose reflected op Python would
            # have called first, beside a plain Value): not for this tape
            if x._prev or type(x) is not Value:
                self.spoil()
            node = self.node_of.get(id(x))
            if node is None:
                node = self.node_of[id(x)] = self._leaf()
                self.leaves[node] = x
            return node, x.data
        number = x if type(x) is float else floatmath.real(x)
        node = self._leaf()
        self.constants[node] = number
        return node, number

    def _leaf(self) -> int:
        """A leaf's row appended: no op, no parents; its node."""
        self.rules.append(None)
        self.first.append(-1)
        self.second.append(-1)
        return len(self.rules) - 1

    def spoil(self, *unused: Any) -> Any:
        """Give way (also fn's guards' listener: a comparison it branches on); after the trace, refuse."""
        if self.closed:
            raise TypeError(
                "a number of a jit trace was used after the trace (fn kept it, or returned it inside "
                "something else): it has no graph; keep its .data, or compute it outside the jitted function"
            )
        self.spoiled = True
        raise GaveWay("the recording trace gives way: jit traces fn on Values")

    def input(self, x: float) -> Recorded:
        """A leaf for one of the call's numbers (made before fn runs, whatever the grad mode outside)."""
        out = _new(Recorded)
        out.data, out.node, out.recording = x, self._leaf(), self
        return out


_new = object.__new__


class Recorded(Value):
    """A number of a recording trace: its node on the tape, and the recording; no parents, no closure."""

    __slots__ = ("node", "recording")  # made by Recording.made only
    node: int
    recording: Recording

    def _spoiling(self) -> Any:
        return self.recording.spoil()

    # a walk of the graph inside fn would find no parents here: the recording gives way
    _prev = _op = _backward = _exponent = property(_spoiling)

    @property
    def grad(self) -> float:
        if self.recording.closed:  # a Recorded fn kept: it has no gradient to give
            self.recording.spoil()
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
