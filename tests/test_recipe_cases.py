"""Run the test cases of every shipped recipe and documented example under pytest."""

from pathlib import Path

import pytest

from engine.cases import case_file_for, load_cases, run_case
from engine.registry import Registry
from engine.validate import load_recipe, recipe_files

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = [ROOT / "recipes", ROOT / "docs" / "examples"]


def shipped_cases():
    for recipe_path in (path for folder in FOLDERS for path in recipe_files(folder)):
        case_path = case_file_for(recipe_path)
        if case_path.exists():
            for case in load_cases(case_path):
                yield pytest.param(recipe_path, case, id=f"{recipe_path.stem}: {case['name']}")


@pytest.mark.parametrize(("recipe_path", "case"), list(shipped_cases()))
def test_shipped_recipe_case(recipe_path, case):
    registry = Registry()
    recipe = load_recipe(recipe_path, registry)

    result = run_case(recipe, registry, case, recipe_path.parent)

    assert result.passed, result.report()
