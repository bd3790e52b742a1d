"""The map in docs/architecture.md, held to the code: imports point one way, and the core needs nothing."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "chainrule"
MAP = (PACKAGE.parent / "docs" / "architecture.md").read_text()


def _layers_from_the_map() -> list[set[str]]:
    """The layer diagram of docs/architecture.md: lines `N  name, name, ...` (a name list may wrap)."""
    diagram = MAP.split("```", 2)[1]
    layers: dict[int, set[str]] = {}
    current = None
    for line in diagram.splitlines():
        match = re.match(r"^(\d)?\s+([a-z_, ]+?)(\s{2,}.*)?$", line)
        if not match:
            continue
        current = int(match.group(1)) if match.group(1) else current
        layers.setdefault(current, set()).update(n.strip() for n in match.group(2).split(",") if n.strip())
    return [layers[i] for i in sorted(layers)]


def _dependencies_from_the_map() -> dict[str, set[str]]:
    """The table's last column, `depends on`, for every chainrule module it lists."""
    table = {}
    for match in re.finditer(r"^\| `chainrule/(\w+)\.py` \|.*\| ([^|]*) \|$", MAP, flags=re.MULTILINE):
        table[match.group(1)] = set(re.findall(r"`(\w+)`", match.group(2)))
    return table


LAYERS = _layers_from_the_map()
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


MODULES = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__", "__main__"}


def test_every_module_has_a_layer_in_the_map():
    assert set(LAYER_OF) == MODULES
    assert len(LAYERS) >= 5


@pytest.mark.parametrize("module", sorted(MODULES))
def test_the_maps_depends_on_column_is_the_code(module):
    ours, _ = _imports(module)
    assert _dependencies_from_the_map().get(module) == ours


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
