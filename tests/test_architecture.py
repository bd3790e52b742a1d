"""The house's layers, held to the code: each room (a folder of chainrule/, or a module on the learner's
flat path) imports only from rooms of lower layers, and the core needs nothing outside the standard library.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "chainrule"

# room -> layer; the same table, with what each room holds, is the map in docs/architecture.md
LAYER_OF = {
    "floatmath": 0,
    "grad_mode": 0,
    "runtime": 0,
    "rules": 1,
    "engine": 1,
    "nn": 2,
    "losses": 2,
    "optim": 2,
    "math": 2,
    "derivatives": 3,
    "compiler": 4,
    "show": 4,
    "storage": 4,
    "demos": 5,
    "cli": 6,
}
# what a learner or a practitioner without extras runs: the standard library only
CORE = (
    *("floatmath", "grad_mode", "rules", "engine", "nn", "losses", "optim", "math", "derivatives"),
    "demos/data.py",
)
BUDGETS = {"engine.py": 250}  # the learner's one-sitting read: the ops the specification teaches
MODULE_BUDGET = 300


def _room(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


SOURCES = sorted(
    p for p in PACKAGE.rglob("*.py") if p.name not in {"__main__.py"} and p != PACKAGE / "__init__.py"
)


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """(chainrule rooms it imports from, top-level names of everything else it imports)."""
    ours, theirs = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "chainrule":
                ours.update(alias.name for alias in node.names)
            elif node.module.startswith("chainrule."):
                ours.add(node.module.split(".")[1])
            else:
                theirs.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name.split(".")
                (ours.add(name[1]) if name[0] == "chainrule" and len(name) > 1 else theirs.add(name[0]))
    return ours, theirs


def _name(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


def test_every_module_lives_in_a_room_with_a_layer():
    assert {_room(path) for path in SOURCES} == set(LAYER_OF)


@pytest.mark.parametrize("path", SOURCES, ids=_name)
def test_imports_point_down(path):
    room = _room(path)
    ours, _ = _imports(path)
    upward = sorted(name for name in ours - {room} if LAYER_OF[name] >= LAYER_OF[room])
    assert not upward, f"{_name(path)} (layer {LAYER_OF[room]}) imports {upward}: same layer or above"


@pytest.mark.parametrize("path", [p for p in SOURCES if _name(p).startswith(CORE)], ids=_name)
def test_the_core_imports_only_the_standard_library(path):
    _, theirs = _imports(path)
    assert theirs <= set(sys.stdlib_module_names) | {"__future__"}, theirs - set(sys.stdlib_module_names)


@pytest.mark.parametrize("path", SOURCES, ids=_name)
def test_modules_keep_their_line_budget(path):
    budget = BUDGETS.get(_name(path), MODULE_BUDGET)
    assert len(path.read_text().splitlines()) <= budget, f"{_name(path)} is over {budget} lines"


def test_the_map_names_every_room():
    the_map = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    missing = [room for room in LAYER_OF if f"`{room}" not in the_map]
    assert not missing, f"docs/architecture.md does not place {missing}"
