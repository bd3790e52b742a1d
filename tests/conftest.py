"""Shared fixtures. `torch` skips when PyTorch is missing, unless CHAINRULE_REQUIRE_TORCH=1 (as in CI)."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def torch():
    """PyTorch, for float64 reference gradients."""
    try:
        import torch as torch_module
    except ImportError:
        if os.environ.get("CHAINRULE_REQUIRE_TORCH") == "1":
            pytest.fail("CHAINRULE_REQUIRE_TORCH=1 but torch is not installed: pip install torch")
        pytest.skip("torch is not installed (pip install torch to compare gradients with PyTorch)")
    torch_module.set_default_dtype(torch_module.float64)
    return torch_module


@pytest.fixture(scope="session")
def dot():
    """The path of Graphviz's `dot`. Skips without it, unless CHAINRULE_REQUIRE_DOT=1 (as in CI)."""
    import shutil

    path = shutil.which("dot")
    if path is None:
        if os.environ.get("CHAINRULE_REQUIRE_DOT") == "1":
            pytest.fail("CHAINRULE_REQUIRE_DOT=1 but Graphviz's dot is not on PATH: apt-get install graphviz")
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz to render drawings)")
    return path
