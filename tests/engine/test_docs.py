import re
import shutil
from pathlib import Path

from engine.store import JobStatus, SQLiteStore
from connectors.testing.memory import DEMO_ORDERS, World

from recipe_helpers import REGISTRY, make_run
from engine.validate import check_recipe

ROOT = Path(__file__).resolve().parents[2]


def test_recipe_guide_example_is_valid_and_runs(tmp_path):
    guide = (ROOT / "docs" / "recipes.md").read_text(encoding="utf-8")
    example = re.search(r"## A complete example\n\n```yaml\n(.*?)```", guide, re.DOTALL).group(1)
    (tmp_path / "example.yaml").write_text(example, encoding="utf-8")
    shutil.copy(ROOT / "recipes" / "example-items.csv", tmp_path / "example-items.csv")

    recipe, problems = check_recipe(tmp_path / "example.yaml", REGISTRY)

    assert problems == []
    world = World()
    for order in DEMO_ORDERS:
        world.add("orders", order)
    summary = make_run(recipe, world, SQLiteStore(tmp_path / "recipe.db")).poll_and_run()
    assert [job.status for job in summary.jobs] == [JobStatus.SUCCEEDED, JobStatus.SUCCEEDED, JobStatus.SKIPPED]
