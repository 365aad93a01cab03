"""build.py imports the recipes, so no recipe may import build.py (issue 15): they read runs through
training.checkpoints and own their export specs. Parsed with ast, so imports inside functions count too."""

import ast
import importlib
from pathlib import Path

import pytest

from training import build
from training.paths import TRAINING

RECIPES = sorted(p for p in (TRAINING / "recipes").glob("*.py") if p.name != "__init__.py")


def _imported_modules(path: Path) -> set[str]:
    """Absolute names of every module a recipe file imports, at any depth of the file."""
    package = "training.recipes"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0]  # level 1: training.recipes, 2: training
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module or ""
            found.add(mod)
            found.update(f"{mod}.{a.name}" for a in node.names)  # `from .. import build` names the module too
    return found


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_recipe_does_not_import_build(path):
    bad = {m for m in _imported_modules(path) if m == "training.build" or m.startswith("training.build.")}
    assert not bad, f"{path.name} imports {sorted(bad)}; use training.checkpoints (load_trained, run_summary) instead"


def test_parser_resolves_relative_imports():
    """The check above would pass vacuously if relative imports were resolved wrongly."""
    mods = _imported_modules(TRAINING / "recipes" / "mini_sd.py")
    assert "training.checkpoints" in mods and "training.export" in mods


def test_pipeline_reference_does_not_import_build():
    mods = {node.module for node in ast.walk(ast.parse((TRAINING / "pipeline_reference.py").read_text()))
            if isinstance(node, ast.ImportFrom)}
    assert "build" not in mods and "checkpoints" in mods


@pytest.mark.parametrize("name", [n for n, ids in build.MODEL_IDS.items() if ids])
def test_every_exporting_recipe_owns_its_spec(name):
    """Each recipe that ships a graph defines export_spec (one graph) or export_specs (several)."""
    r = importlib.import_module(f"training.recipes.{name}")
    assert callable(getattr(r, "export_spec", None)) or callable(getattr(r, "export_specs", None)), name
    assert name in build.BUILDERS
