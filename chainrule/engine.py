"""A scalar reverse-mode autodiff engine: one float per node, one closure per operation.

Every op has the same beats: coerce the operand; define the closure that knows the op's local
derivative; return the output node, made of the forward value, the parents, the op and that closure.

These closures are written for people. `chainrule/rules.py` states the same rules once more, as a
table for the machines (compiled code, explain, derivatives of derivatives); a test holds the two
equal, to the bit. The rest of the math library (sqrt, atan2, erf, ...: chainrule.math) is stated
once, in that table, and its nodes get their closures from it."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import SupportsFloat as Real  # for type checkers: float, int, numpy scalars, Fraction

from chainrule import floatmath, grad_mode
from chainrule.floatmath import divide, exp, exponent_slope, log, power, power_slope, sigmoid, value_power
from chainrule.runtime.collector import built, look_now, paused


def _no_backward(grad: float) -> None: ...  # a leaf has no parents to pass anything on to


def _reflected(op: Callable[[Value, Value], Value]) -> Callable[[Value, float], Value]:
    return lambda self, other: op(Value(other), self)


class Value:
    """One scalar in the graph: its value `data`, and `grad` = d(root)/d(self) after backward()."""

    # no __dict__: a third the size
    __slots__ = ("_backward", "_exponent", "_op", "_prev", "data", "grad", "label")
    _prev: tuple[Value, ...]  # the parents, in operand order
    _backward: Callable[[float], None]  # the op's closure: adds each parent's share of grad

    def __init__(
        self, data: Real, _prev=(), _op="", _backward=_no_backward, *, label: str = "", _exponent=None
    ) -> None:
        if type(data) is not float:  # the hot path: a float goes straight in; any other real number
            data = floatmath.real(data)  # (int, numpy scalar, Fraction) becomes one, others TypeError
        self.data, self.grad = data, 0.0
        self.label, self._op, self._exponent = label, _op, _exponent  # _exponent: n of x**n, for readers
        # tuple, not set: a set orders by memory address, so the gradient sums would differ run to run
        if grad_mode.is_enabled():
            self._prev, self._backward = _prev, _backward
        else:  # under no_grad(): no parents, no closure
            self._prev, self._backward = (), _no_backward
        if look_now():  # every 32nd node: the cyclic collector and big graphs, see runtime/collector.py
            built()

    def __float__(self) -> float:
        """Refused: a plain float would drop the gradient (math.sin(v) asks for one)."""
        raise TypeError(
            "a Value is not converted to a float, which would drop its gradient: use chainrule.math's "
            "functions (chainrule.math.sin(v)) for math's, or v.data for the plain number"
        )

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # Locality: each op knows only its own derivative. Its closure gets the gradient that arrived
    # at the output and adds (+=, never =: accumulation) its share to each parent. Taking that
    # gradient as an argument, not reading out.grad, keeps the closure from referring to its own
    # output: no reference cycle, so reference counting frees a step's graph as soon as it is dropped.

    def __add__(self, other: Value | float) -> Value:
        """a + b: d/da = 1, d/db = 1."""
        other = other if isinstance(other, Value) else Value(other)

        def _backward(grad: float) -> None:
            self.grad += grad  # d(a+b)/da = 1
            other.grad += grad  # d(a+b)/db = 1

        return Value(self.data + other.data, (self, other), "+", _backward)

    def __mul__(self, other: Value | float) -> Value:
        """a * b: d/da = b, d/db = a."""
        other = other if isinstance(other, Value) else Value(other)

        def _backward(grad: float) -> None:
            self.grad += other.data * grad  # d(a*b)/da = b
            other.grad += self.data * grad  # d(a*b)/db = a

        return Value(self.data * other.data, (self, other), "*", _backward)

    def __sub__(self, other: Value | float) -> Value:
        """a - b: d/da = 1, d/db = -1."""
        other = other if isinstance(other, Value) else Value(other)

        def _backward(grad: float) -> None:
            self.grad += grad  # d(a-b)/da = 1
            other.grad -= grad  # d(a-b)/db = -1

        return Value(self.data - other.data, (self, other), "-", _backward)

    def __truediv__(self, other: Value | float) -> Value:
        """a / b: d/da = 1/b, d/db = -a/b²."""
        other = other if isinstance(other, Value) else Value(other)

        def _backward(grad: float) -> None:
            self.grad += grad / other.data  # d(a/b)/da = 1/b
            # d(a/b)/db = -a/b², as a/b/b: b*b would underflow to a zero divisor for |b| < 1.5e-154
            other.grad -= grad * (self.data / other.data / other.data)

        return Value(divide(self.data, other.data), (self, other), "/", _backward)

    def __pow__(self, exponent: Value | float) -> Value:
        """x**n for a number n: d/dx = n·x^(n-1). With a Value exponent see _pow_value."""
        if isinstance(exponent, Value):
            return self._pow_value(exponent)
        x, n = self.data, floatmath.real(exponent, "the exponent of **")  # refuses what is not a real number

        def _backward(grad: float) -> None:
            self.grad += power_slope(x, n) * grad  # d(x^n)/dx = n·x^(n-1)

        return Value(power(x, n), (self,), "**", _backward, _exponent=n)

    def _pow_value(self, exponent: Value) -> Value:
        """a**b for a Value b: d/da = b·a^(b-1), d/db = a^b·ln a (taken as 0 at a = 0)."""
        a, b = self.data, exponent.data
        out_data = value_power(a, b)

        def _backward(grad: float) -> None:
            self.grad += power_slope(a, b) * grad  # d(a^b)/da = b·a^(b-1)
            exponent.grad += exponent_slope(a, out_data) * grad  # d(a^b)/db = a^b·ln a

        return Value(out_data, (self, exponent), "pow", _backward)

    def __neg__(self) -> Value:
        """-x: d/dx = -1."""

        def _backward(grad: float) -> None:
            self.grad -= grad  # d(-x)/dx = -1

        return Value(-self.data, (self,), "neg", _backward)

    def tanh(self) -> Value:
        """tanh: f' = 1 - f²."""
        t = math.tanh(self.data)

        def _backward(grad: float) -> None:
            self.grad += (1 - t * t) * grad  # d/dx tanh = 1 - tanh²

        return Value(t, (self,), "tanh", _backward)

    def exp(self) -> Value:
        """exp: f' = f. Overflows to inf, as IEEE arithmetic does."""
        e = exp(self.data)

        def _backward(grad: float) -> None:
            self.grad += e * grad  # d/dx exp = exp

        return Value(e, (self,), "exp", _backward)

    def log(self) -> Value:
        """log (natural): f' = 1/x, for x > 0."""
        x = self.data

        def _backward(grad: float) -> None:
            self.grad += grad / x  # d/dx ln x = 1/x

        return Value(log(x), (self,), "log", _backward)

    def sin(self) -> Value:
        """sin: f' = cos x. NaN at ±inf (floatmath's sin and cos; math's raise there)."""
        x = self.data

        def _backward(grad: float) -> None:
            self.grad += floatmath.cos(x) * grad  # d/dx sin x = cos x

        return Value(floatmath.sin(x), (self,), "sin", _backward)

    def cos(self) -> Value:
        """cos: f' = -sin x."""
        x = self.data

        def _backward(grad: float) -> None:
            self.grad -= floatmath.sin(x) * grad  # d/dx cos x = -sin x

        return Value(floatmath.cos(x), (self,), "cos", _backward)

    def relu(self) -> Value:
        """relu: f' = 1 if x > 0 else 0 (0 at the kink, as in PyTorch)."""
        x = self.data

        def _backward(grad: float) -> None:
            self.grad += grad if x > 0 else 0.0  # d/dx max(0, x) = [x > 0]

        return Value(0.0 if x <= 0 else x, (self,), "relu", _backward)

    def sigmoid(self) -> Value:
        """sigmoid: f' = f·(1 - f)."""
        s = sigmoid(self.data)

        def _backward(grad: float) -> None:
            self.grad += s * (1 - s) * grad  # d/dx σ = σ(1-σ)

        return Value(s, (self,), "sigmoid", _backward)

    # Reflected forms (2 + x): lift the number first, so that _prev keeps the operand order.
    __radd__ = _reflected(operator.add)
    __rsub__ = _reflected(operator.sub)
    __rmul__ = _reflected(operator.mul)
    __rtruediv__ = _reflected(operator.truediv)
    __rpow__ = _reflected(operator.pow)

    def backward(self) -> None:
        """Fill .grad of every node behind self with d(self)/d(node): the chain rule, node by node."""
        with paused():  # no cyclic collector while walking a big graph: see runtime/collector.py
            topo = topological_order(self)
            for node in topo:  # interior nodes restart at zero, so a second backward() is not doubled;
                if node._prev:  # leaves accumulate: zeroing them between steps is the caller's job
                    node.grad = 0.0
            self.grad += 1.0  # d(root)/d(root) = 1
            # Reversed, a node fires only after every node downstream of it has: its gradient is complete.
            for node in reversed(topo):
                node._backward(node.grad)


def topological_order(root: Value) -> list[Value]:
    """Topological order: every node behind root, each after all of its parents (depth-first post-order).

    An explicit stack of parent iterators instead of recursion, so a graph's depth has no limit."""
    order, visited, stack = [], {root}, [(root, iter(root._prev))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in visited:
                visited.add(parent)
                stack.append((parent, iter(parent._prev)))
                break
        else:
            stack.pop()
            order.append(node)
    return order
