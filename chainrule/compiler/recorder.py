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

import functools
import operator
from array import array
from threading import get_ident
from typing import Any

from chainrule import floatmath
from chainrule.engine import Value
from chainrule.grad_mode import is_enabled
from chainrule.rules import BY_NAME, FLOATS, RULES, Rule


class GaveWay(BaseException):
    """The recording cannot be sure of the graph from here: jit traces fn on Values instead."""


class Recording:
    """The tape as fn runs: per node, its row's code (-1: a leaf) and its parents' nodes (-1: none)."""

    def __init__(self) -> None:
        # per node: its row's place in rules.RULES (-1: a leaf), its parents' nodes; made longer ahead of
        # the nodes (size of them so far), so that a node is written, not appended: a method call less
        # (under cProfile's watch a C call costs 0.06 µs, see _method)
        self.codes, self.first, self.second = (array("q", bytes(8 * _ROOM)) for _ in range(3))
        self.size, self.room = 0, _ROOM
        self.exponents: dict[int, float] = {}  # node -> n of x ** n
        self.labels: dict[int, str] = {}  # node -> a label fn gave it
        self.leaves: dict[int, Value] = {}  # node -> a Value fn closed over (or made), kept alive here
        self.node_of: dict[int, int] = {}  # id of such a Value -> its node
        self.numbers = array("d")  # the numbers fn lifted to Values, in turn: number k is operand -2 - k
        self.spoiled = self.closed = False
        self.thread = get_ident()

    def operand(self, x: Any) -> tuple[int, float]:
        """(the node, the number) of an operand: a Recorded one's own; a leaf Value's (one node however
        often it is read); for a number, coerced as Value() coerces it, its place among the constants
        (-2 - k: a constant is a node of its own only on the tape, recording_tape.py)."""
        if type(x) is float:
            self.numbers.append(x)
            return -1 - len(self.numbers), x
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
        return self.operand(floatmath.real(x))

    def _leaf(self) -> int:
        """A leaf's row written: no op, no parents; its node."""
        node = self.size
        if node == self.room:
            self.grow()
        self.size = node + 1
        self.codes[node] = self.first[node] = self.second[node] = -1
        return node

    def grow(self) -> None:
        """Room for as many nodes again (each array doubled in place)."""
        for column in (self.codes, self.first, self.second):
            column *= 2
        self.room *= 2

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
        out = Recorded()
        out.data, out.node, out.recording = x, self._leaf(), self
        return out


class Recorded(Value):
    """A number of a recording trace: its node on the tape, and the recording; no parents, no closure."""

    __slots__ = ("node", "recording")
    node: int
    recording: Recording
    # made bare, by Recording.input and the ops below, which set data, node and recording
    __init__ = object.__init__

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
        """x ** n for a number n (the row "**", carrying n), x ** y for a Value y (the row "pow")."""
        return (_VALUE_POWER if isinstance(exponent, Value) else _NUMBER_POWER)(self, exponent)


_UNARY = object()  # the operand a unary op does not have
_ROOM = 1 << 12  # nodes a recording has room for at first
_OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "neg": operator.neg}


def _on_floats(rule: Rule) -> Any:
    """The row's forward on floats as one callable: Python's operator (+ - * and negation), the floatmath
    function the row calls, else the row's forward on FLOATS (tests/test_recorder.py holds them equal)."""
    if rule.name in _OPERATORS:
        return _OPERATORS[rule.name]
    if rule.calls is not None:
        return getattr(FLOATS, rule.function or rule.name)
    return functools.partial(rule.forward, FLOATS)


def _method(rule: Rule, reflected: bool = False) -> Any:
    """Recorded's method for an op: its operands' nodes (a reflected op's number is lifted first, as the
    engine lifts it), its value by the row's forward on floats, its row written, its number made.

    One function for every op, with the row written in it once: under cProfile's watch before
    Python 3.12 (data_reads.py) each Python call costs a node 0.23 µs, and each C call 0.06."""
    compute, exponent, code = _on_floats(rule), rule.exponent, RULES.index(rule)

    def op(self: Recorded, other: Any = _UNARY) -> Value:
        recording = self.recording
        first, second = self.node, -1
        if other is _UNARY:
            data = compute(self.data)
        elif exponent:
            n = floatmath.real(other, "the exponent of **")
            data = compute(self.data, n)
            recording.exponents[recording.size] = n
        else:
            if type(other) is Recorded and other.recording is recording:
                second, y = other.node, other.data
            else:
                second, y = recording.operand(other)
            if reflected:
                first, second, data = second, first, compute(y, self.data)
            else:
                data = compute(self.data, y)
        # the engine keeps no parents under no_grad(); another thread's node is not this trace's
        if not is_enabled() or get_ident() != recording.thread or recording.closed:
            recording.spoil()
        node = recording.size
        if node == recording.room:
            recording.grow()
        recording.size = node + 1
        recording.codes[node], recording.first[node], recording.second[node] = code, first, second
        out = Recorded()
        out.data, out.node, out.recording = data, node, recording
        return out

    return op


for _symbol, _name in (("+", "add"), ("-", "sub"), ("*", "mul"), ("/", "truediv")):
    setattr(Recorded, f"__{_name}__", _method(BY_NAME[_symbol]))
    setattr(Recorded, f"__r{_name}__", _method(BY_NAME[_symbol], reflected=True))
_VALUE_POWER, _NUMBER_POWER = _method(BY_NAME["pow"]), _method(BY_NAME["**"])
Recorded.__rpow__ = _method(BY_NAME["pow"], reflected=True)
Recorded.__neg__ = _method(BY_NAME["neg"])
for _name in ("tanh", "exp", "log", "sin", "cos", "relu", "sigmoid"):
    setattr(Recorded, _name, _method(BY_NAME[_name]))
