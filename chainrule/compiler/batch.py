"""vmap: a function applied to a batch of points, its results stacked, as JAX's vmap shapes it.

`vmap(f)(xs, ys)` is `[f(xs[0], ys[0]), f(xs[1], ys[1]), …]` with the results stacked: each argument has a
leading batch axis (a list, a tuple or a numpy array, one entry per point, each entry what f takes), and
each number of f's result becomes a list (a numpy array if any argument was one) of that number at every
point, nested as f nests its result. For `f = jit(g, backend="native")` the whole batch runs natively,
spread over the machine's cores (batch_native.py): the numbers are those of the calls one by one, to
the bit. Any other f, or a point the batched pass cannot take (another argument shape, an op Python
computes, a number where floatmath would raise), is called point by point: the same numbers and errors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule.compiler.python_code import Restructure
from chainrule.runtime import trees

__all__ = ["Batched", "vmap"]


def _length(arg: Any, position: int) -> int:
    if hasattr(arg, "shape") and hasattr(arg, "tolist"):  # a numpy array
        if not arg.shape:
            raise ValueError(f"vmap: argument {position} is a 0-d array: it has no batch axis to map over")
        return int(arg.shape[0])
    if isinstance(arg, list | tuple):
        return len(arg)
    raise TypeError(
        f"vmap: argument {position} has no batch axis: give a list, tuple or numpy array with one entry "
        f"per point (got {type(arg).__name__}); close over what every point shares instead"
    )


def _points(args: tuple) -> tuple[list[tuple], bool]:
    """The arguments of each point, and whether any argument was a numpy array."""
    if not args:
        raise TypeError("vmap: the mapped function needs at least one argument with a batch axis")
    lengths = [_length(arg, i) for i, arg in enumerate(args)]
    if len(set(lengths)) > 1:
        shown = ", ".join(f"argument {i}: {n}" for i, n in enumerate(lengths))
        raise ValueError(f"vmap: the arguments' batch axes differ in length ({shown}): give each point once")
    if lengths[0] == 0:
        raise ValueError("vmap: an empty batch (length 0): there is no point to call the function at")
    arrays = [hasattr(arg, "tolist") for arg in args]
    # an array's points: its rows as arrays (f sees the shape it is written for), or its numbers as floats
    columns = [_rows(arg) if array else list(arg) for arg, array in zip(args, arrays)]
    return list(zip(*columns)), any(arrays)


def _rows(array: Any) -> list[Any]:
    return list(array) if array.ndim > 1 else array.tolist()


def _stacked(results: Sequence[Any], as_array: bool) -> Any:
    """The points' results, stacked: each number becomes the list (array) of it over the points."""
    first = results[0]
    if isinstance(first, list | tuple):  # a namedtuple's fields too (jit returns f's own tree)
        items = [_stacked([r[i] for r in results], as_array) for i in range(len(first))]
        return type(first)(*items) if hasattr(first, "_fields") else type(first)(items)
    if isinstance(first, dict):
        return {key: _stacked([r[key] for r in results], as_array) for key in first}
    if trees.is_array(first):
        import numpy as np

        return np.stack(results)
    column = [float(r) for r in results]
    if as_array:
        import numpy as np

        return np.array(column)
    return column


class Batched:
    """fn mapped over a leading batch axis of every argument. See `vmap`."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        if not callable(fn):
            raise TypeError(f"vmap: expected a function to map, got {type(fn).__name__}")
        self.fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError(
                f"vmap: keyword arguments are not mapped (got {', '.join(sorted(kwargs))}): pass them "
                "positionally with a batch axis, or close over them"
            )
        points, as_array = _points(args)
        stacked = self._native(points, as_array, args)
        if stacked is None:
            return _stacked([self.fn(*point) for point in points], as_array)
        return stacked

    def _native(self, points: list[tuple], as_array: bool, args: tuple) -> Any:
        """The stacked results of every point by the native batch; None where it cannot take them."""
        from chainrule.compiler import Jitted, batch_native

        fn = self.fn
        if not isinstance(fn, Jitted) or fn.backend != "native":
            return None
        fn(*points[0])  # traces if need be, and makes the path of this shape the latest
        path = fn._last
        # guards (fn branches) would have to be checked point by point; a dict or an array out too
        if path is None or path.guards is not None or not _plain(path.outputs):
            return None
        program = path.program
        if program.shape == (float,) * len(args) and all(map(_float_column, args)):
            return batch_native.native_batch(
                program, _columns(args), as_array
            )  # each point's numbers, unpacked
        try:
            numbers = [program.unpack(point) for point in points]
        except Restructure:  # another shape, or numbers that are not floats: the calls one by one
            return None
        return batch_native.native_batch(program, numbers, as_array)


def _float_column(arg: Any) -> bool:
    """Whether an argument is a numpy array of floats, one number a point."""
    return trees.is_array(arg) and arg.ndim == 1 and arg.dtype.kind == "f"


def _columns(args: tuple) -> Any:
    """The points' numbers of arguments that are each a column of floats: a row per point."""
    from chainrule.compiler.native import np

    return np.column_stack([np.asarray(arg, np.float64) for arg in args])


def _plain(spec: Any) -> bool:
    """Whether a tree's spec is tuples and lists only (the columns then nest as it does)."""
    if spec is None or spec is trees.LEAF:
        return True
    return spec.kind in (list, tuple) and all(_plain(item) for item in spec)


def vmap(fn: Callable[..., Any]) -> Batched:
    """fn over a batch: every argument has a leading batch axis; the results are stacked the same way.

    `vmap(f)(xs, ys)[i]` is `f(xs[i], ys[i])` (for a result that is a tuple, each of its numbers is a
    list, or a numpy array if any argument was one). For `jit(f, backend="native")` the batch runs
    natively in chunks of points over all cores, with the numbers of the calls one by one, to the bit.
    """
    return Batched(fn)
