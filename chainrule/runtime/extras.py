"""Optional libraries, imported only when a feature needs them, with an error that says how to get them."""

from __future__ import annotations

import importlib
from types import ModuleType


class MissingExtraError(ImportError):
    """A feature needs a library from one of chainrule's extras, and it is not installed."""


class MissingProgramError(RuntimeError):
    """A feature needs a program (Graphviz's `dot`) that is not on PATH."""


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import `module`, or raise MissingExtraError naming the pip command that brings it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingExtraError(
            f"{purpose} needs the Python package {module!r}, which is not installed: "
            f'pip install "chainrule[{extra}]" (or pip install "chainrule[all]")'
        ) from error
