"""What every demo trains: an objective, the loss of a model over a data set as one Value."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from chainrule.engine import Value


class Root(Protocol):
    """A loss or a score as a demo reads it: a Value, or the JitResult of a compiled one."""

    data: float

    def backward(self) -> None: ...


# loss(points, targets) -> one Value; chainrule.jit compiles one as it is, to the same numbers
Objective = Callable[[Sequence[Sequence[float]], Sequence[float]], Value]
# what a demo trains with: an Objective, or the jit of one (its calls give JitResults)
Trainable = Callable[[Sequence[Sequence[float]], Sequence[float]], Root]


def one(output: Value | list[Value]) -> Value:
    """The output of a one-output network as the Value it is (an MLP gives a list for several outputs)."""
    if isinstance(output, Value):
        return output
    raise ValueError(f"the demos score with one output, this network gives {len(output)}")
