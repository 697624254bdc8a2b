"""Run every shipped recipe's test cases (`recipes/*.cases.yaml`) under pytest."""

from pathlib import Path

import pytest

from engine.cases import case_file_for, load_cases, run_case
from engine.registry import Registry
from engine.validate import load_recipe, recipe_files

RECIPES = Path(__file__).resolve().parents[1] / "recipes"


def shipped_cases():
    for recipe_path in recipe_files(RECIPES):
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
