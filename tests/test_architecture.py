"""The map in docs/architecture.md, held to the code: imports point one way, and the core needs nothing."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "chainrule"

# Each module may import only from layers below its own (docs/architecture.md draws the same layers).
LAYERS = [
    {"floatmath", "grad_mode", "collector", "data", "extras"},
    {"engine"},
    {"nn", "losses", "optim", "check", "functional", "graph"},
    {"compiler", "expression", "checkpoint", "explaining", "drawing", "plotting"},
    {"xor", "moons"},
    {"cli"},
]
CORE = {"engine", "nn", "optim", "losses", "data", "floatmath", "grad_mode", "collector"}
LAYER_OF = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _imports(module: str) -> tuple[set[str], set[str]]:
    """(chainrule modules it imports, top-level names of everything else it imports)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    ours, theirs = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "chainrule":
                ours.update(alias.name for alias in node.names)
            elif node.module.startswith("chainrule."):
                ours.add(node.module.split(".")[1])
            else:
                theirs.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            theirs.update(alias.name.split(".")[0] for alias in node.names)
    return ours, theirs


def test_every_module_has_a_layer():
    modules = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    assert modules == set(LAYER_OF)


@pytest.mark.parametrize("module", sorted(LAYER_OF))
def test_imports_point_down(module):
    ours, _ = _imports(module)
    upward = sorted(name for name in ours if LAYER_OF[name] >= LAYER_OF[module])
    assert not upward, f"{module} (layer {LAYER_OF[module]}) imports {upward} from its own layer or above"


@pytest.mark.parametrize("module", sorted(CORE))
def test_the_core_imports_only_the_standard_library(module):
    _, theirs = _imports(module)
    assert theirs <= set(sys.stdlib_module_names) | {"__future__"}, theirs - set(sys.stdlib_module_names)


def test_the_engine_keeps_its_line_budget():
    assert len((PACKAGE / "engine.py").read_text().splitlines()) <= 200
