"""What every demo trains: an objective, the loss of a model over a data set as one Value."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from chainrule.engine import Value

# loss(points, targets) -> one Value; chainrule.jit compiles one as it is, to the same numbers
Objective = Callable[[Sequence[Sequence[float]], Sequence[float]], Value]
