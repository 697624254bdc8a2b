"""Builders shared by the engine tests: a recipe written to a temporary folder, and a memory world."""

from __future__ import annotations

import textwrap
from pathlib import Path

from connectors.testing.memory import MemoryConnector, World
from engine.recipe import Recipe
from engine.registry import Registry
from engine.run import RecipeRun
from engine.store import SQLiteStore
from engine.validate import load_recipe

REGISTRY = Registry({"memory": MemoryConnector})


def write_recipe(folder: Path, text: str, name: str = "recipe.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def make_recipe(folder: Path, text: str) -> Recipe:
    return load_recipe(write_recipe(folder, text), REGISTRY)


def make_run(recipe: Recipe, world: World, store: SQLiteStore, **options: object) -> RecipeRun:
    connector = MemoryConnector({}, world=world)
    return RecipeRun(recipe, {"memory": connector}, store, sleep=options.pop("sleep", lambda seconds: None), **options)
