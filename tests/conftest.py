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


def pytest_configure(config):
    """Hypothesis profiles: "ci" runs the property tests at full strength (a few thousand examples in all),
    the default "dev" keeps local runs quick; CHAINRULE_HYPOTHESIS_PROFILE=ci selects the first (.ci/run
    does). No deadline: the machines are shared, and timing is noise, never a test."""
    from hypothesis import settings

    settings.register_profile("dev", max_examples=100, deadline=None)
    settings.register_profile("ci", max_examples=1000, deadline=None, print_blob=True)
    settings.load_profile(os.environ.get("CHAINRULE_HYPOTHESIS_PROFILE", "dev"))


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


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium driven by Playwright (tests/real_browser.py). Skips without one, unless
    CHAINRULE_REQUIRE_BROWSER=1 (as in CI): apt-get install chromium, pip install playwright."""
    import real_browser as helper

    executable = helper.chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        executable = None
    if executable is None:
        if os.environ.get("CHAINRULE_REQUIRE_BROWSER") == "1":
            pytest.fail(
                "CHAINRULE_REQUIRE_BROWSER=1 but no browser: apt-get install chromium; pip install playwright"
            )
        pytest.skip("no headless browser (apt-get install chromium; pip install playwright)")
    with sync_playwright() as playwright:
        launched = helper.launch(playwright, executable)
        yield launched
        launched.close()
