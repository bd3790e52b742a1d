"""Continuing a demo from a checkpoint: each demo checks that a saved run is one of its own first."""

from __future__ import annotations

from chainrule.storage.checkpoint import Checkpoint


class ContinuationError(ValueError):
    """A checkpoint that a demo cannot continue; the message names the file and says why."""


def saved_step(saved: Checkpoint, source: str) -> int:
    """The number of updates the saved model has had (its info's "step", 0 if absent): where a run goes on."""
    step = saved.info.get("step", 0)
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ContinuationError(f"{source}: its step count must be a whole number >= 0, got {step!r}")
    return step
