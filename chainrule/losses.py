"""Losses over lists of Values: each returns one Value, the root to call backward() on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from chainrule.engine import Value

Scores = Sequence["Value | float"]


def _paired(predictions: Scores, targets: Scores) -> list[tuple[Value | float, Value | float]]:
    if len(predictions) != len(targets):
        raise ValueError(f"{len(predictions)} predictions but {len(targets)} targets: they must pair up")
    if not predictions:
        raise ValueError("a loss needs at least one prediction")
    return list(zip(predictions, targets))


def _total(terms: Iterable[Value | float]) -> Value:
    """Value(0.0) + t1 + t2 + …, as sum(terms, Value(0.0)) adds them, typed as the Value it is."""
    total = Value(0.0)
    for term in terms:
        total = total + term
    return total


def sum_squared_error(predictions: Scores, targets: Scores) -> Value:
    """Σ (p - y)²: what the reference XOR run prints."""
    return _total((p - y) ** 2 for p, y in _paired(predictions, targets))


def mse(predictions: Scores, targets: Scores) -> Value:
    """(1/n) Σ (p - y)²."""
    return sum_squared_error(predictions, targets) / len(predictions)


def hinge(scores: Sequence[Value], labels: Scores) -> Value:
    """(1/n) Σ max(0, 1 - y·s), for labels y in {-1, +1} (an SVM's max-margin loss)."""
    pairs = _paired(scores, labels)
    return _total((1 - y * s).relu() for s, y in zip(scores, labels)) / len(pairs)
