"""Trees of numbers, the arguments and results of grad, jvp, hessian, jacobian and jit, flattened and rebuilt.

A tree is a leaf, or a list, a tuple (a namedtuple too), a dict with string keys or a numpy array of any
shape holding trees (an array holds leaves only). `flatten(tree, leaf)` gives `leaf(x)` for each leaf x in
order (a list or tuple item by item, a dict in its keys' order, an array in C order) and the tree's `Spec`;
`unflatten(spec, leaves)` builds the same structure around other leaves: an array comes back float64 when
they are floats, of dtype object otherwise (Values). What a leaf may be is the caller's to say (`leaf`
raises); the structure's refusals are here. numpy is never imported: an array exists only once its caller
imported numpy, so `sys.modules` has it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

LEAF = float  # the spec of a leaf (the jit's shapes use float for a number too)
_BRANCHES = (list, tuple, dict)


class Spec(tuple):
    """A tree's structure: a tuple of its items' specs, and `kind`, what holds them: list, tuple, a
    namedtuple's class, ("dict", keys) or ("array", shape). Equal only to a Spec of the same kind."""

    kind: Any

    def __new__(cls, kind: Any, items: Sequence[Any]) -> Spec:
        spec = super().__new__(cls, items)
        spec.kind = kind
        return spec

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Spec) and self.kind == other.kind and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((self.kind, tuple(self)))

    def __reduce__(self) -> tuple[Any, ...]:  # a shipped program (pickle) keeps its key's structure
        return Spec, (self.kind, tuple(self))

    def __repr__(self) -> str:
        return f"Spec({self.kind!r}, {tuple(self)!r})"


def is_array(x: object) -> bool:
    """Whether x is a numpy array (never importing numpy: without it there is none)."""
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(x, numpy.ndarray)


def is_branch(x: object) -> bool:
    """Whether x holds other trees (a list, tuple, dict or array) rather than being a leaf."""
    return isinstance(x, _BRANCHES) or is_array(x)


def _array_items(array: Any) -> list[Any]:
    """An array's numbers as Python floats (its items, for an array of objects); refusals name the dtype."""
    kind = array.dtype.kind
    if kind in "fiu":
        return array.astype("float64").ravel().tolist()
    if kind == "O":
        items = array.ravel().tolist()
        if any(is_branch(item) for item in items):
            raise TypeError(
                f"an array of dtype object holding lists or arrays (a ragged array, shape {array.shape}) is "
                "not a tree of numbers: give every row the same length, or pass a (nested) list"
            )
        return items
    if kind == "c":
        raise TypeError(
            f"an array of complex numbers ({array.dtype}): chainrule differentiates real functions; "
            "pass the real and imaginary parts as two real arrays"
        )
    raise TypeError(
        f"an array of dtype {array.dtype} is not an array of real numbers: give floats or ints "
        "(a bool array is refused as a bool is)"
    )


def flatten(tree: Any, leaf: Callable[[Any], Any]) -> tuple[list[Any], Any]:
    """(leaf(x) for every leaf x of tree, in order; the tree's spec: LEAF, or a Spec)."""
    out: list[Any] = []
    return out, _flatten(tree, leaf, out)


def _flatten(tree: Any, leaf: Callable[[Any], Any], out: list[Any]) -> Any:
    if type(tree) is float or not is_branch(tree):
        out.append(leaf(tree))
        return LEAF
    if is_array(tree):
        items = _array_items(tree)
        out.extend(leaf(x) for x in items)
        return Spec(("array", tree.shape), (LEAF,) * len(items))
    if isinstance(tree, dict):
        keys = tuple(tree)
        wrong = [key for key in keys if not isinstance(key, str)]
        if wrong:
            raise TypeError(
                f"a dict of arguments needs string keys (names), got the key {wrong[0]!r} "
                f"({type(wrong[0]).__name__}): name the entries, or pass a list"
            )
        return Spec(("dict", keys), [_flatten(tree[key], leaf, out) for key in keys])
    kind = type(tree) if hasattr(tree, "_fields") else tuple if isinstance(tree, tuple) else list
    return Spec(kind, [_flatten(item, leaf, out) for item in tree])


def unflatten(spec: Any, leaves: Sequence[Any]) -> Any:
    """The tree of this spec around these leaves (as many as the spec has)."""
    position = iter(leaves)
    return _build(spec, position)


def _build(spec: Any, position: Any) -> Any:
    if spec is LEAF:
        return next(position)
    kind = spec.kind
    if isinstance(kind, tuple) and kind[0] == "array":
        return array_of([next(position) for _ in spec], kind[1])
    items = [_build(item, position) for item in spec]
    if isinstance(kind, tuple):  # a dict
        return dict(zip(kind[1], items))
    return kind(*items) if hasattr(kind, "_fields") else kind(items)


def array_of(items: list[Any], shape: tuple[int, ...]) -> Any:
    """A numpy array of this shape: float64 when every item is a float, else of objects (Values)."""
    numpy = sys.modules["numpy"]
    if all(type(x) is float for x in items):
        return numpy.array(items, dtype=numpy.float64).reshape(shape)
    array = numpy.empty(len(items), dtype=object)
    array[:] = items
    return array.reshape(shape)


def split(specs: Sequence[Any], leaves: Sequence[Any]) -> list[Any]:
    """Several trees from one run of leaves: the first spec's leaves, then the next one's, ..."""
    shaped, position = [], iter(leaves)
    for spec in specs:
        shaped.append(_build(spec, position))
    return shaped


def size(spec: Any) -> int:
    """How many leaves a tree of this spec has."""
    return 1 if spec is LEAF else sum(size(item) for item in spec)


def _shape(spec: Any) -> tuple[int, ...] | None:
    """An array's shape, (n,) for a flat list or tuple of n leaves, () for a leaf; None for other trees."""
    if spec is LEAF:
        return ()
    if isinstance(spec.kind, tuple) and spec.kind[0] == "array":
        return tuple(spec.kind[1])
    return (len(spec),) if spec.kind in (list, tuple) and all(item is LEAF for item in spec) else None


def nested(outer: Any, inner: Any, rows: Sequence[Sequence[Any]]) -> Any:
    """A tree of trees: outer's structure, its leaf i replaced by inner's around rows[i] (a Jacobian's
    rows, a Hessian's). Where either is an array and both are arrays, flat lists or leaves, it is one
    array of both shapes, outer's then inner's, as JAX's jacobian and hessian give."""
    shapes = _shape(outer), _shape(inner)
    arrays = [spec for spec in (outer, inner) if spec is not LEAF and isinstance(spec.kind, tuple)]
    if shapes[0] is not None and shapes[1] is not None and any(spec.kind[0] == "array" for spec in arrays):
        return array_of([x for row in rows for x in row], shapes[0] + shapes[1])
    return unflatten(outer, [unflatten(inner, row) for row in rows])


def any_leaf(tree: Any, test: Callable[[Any], bool]) -> bool:
    """Whether test holds for some leaf of tree; never raises on what flatten would refuse."""
    if isinstance(tree, dict):
        return any(any_leaf(item, test) for item in tree.values())
    if isinstance(tree, list | tuple):
        return any(any_leaf(item, test) for item in tree)
    if is_array(tree):
        return tree.dtype.kind == "O" and any(any_leaf(item, test) for item in tree.ravel().tolist())
    return test(tree)
