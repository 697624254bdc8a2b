"""A benchmark world: both sandboxes with a latency profile, a meter, and the shipped recipes.

Unlike `recipe run --sandbox`, which reaches the process's shared sandbox for a state folder, the
world opens the connectors on its own `LocalSandbox`, so the profile's faults apply and each
scenario starts from a fresh seeded state in memory.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from connectors.sandbox.catalog import SHOP_LOCATION_ID, catalog
from connectors.sandbox.local import LocalSandbox
from connectors.shopify.sandbox.catalogue import build_catalogue
from engine.connector import Connector
from engine.recipe import Recipe
from engine.registry import Registry
from engine.run import RecipeRun, RunSummary
from engine.store import SQLiteStore
from engine.validate import load_recipe

from bench.meter import Meter
from bench.profiles import Profile, profile_named

__all__ = ["BenchWorld", "RECIPES", "stock_generated_products"]

log = logging.getLogger(__name__)

RECIPES = Path(__file__).resolve().parents[1] / "recipes"


_SHOP_CREATED = datetime(2026, 9, 1, 9, 0, tzinfo=timezone.utc)


def stock_generated_products(sandbox: LocalSandbox, seed: int, extra_products: int) -> int:
    """Add the catalogue's generated products to the Shopify sandbox, stocked at the main warehouse.

    The Shopify seed holds only the hand-picked products, while `extra_items` grows the org; this
    gives the shop the same variants (same SKUs and inventory item ids, same quantities), as a
    shop whose catalogue the ERP mirrors. Returns the number of variants added.
    """
    state = sandbox.shopify.state
    generated = catalog(seed, extra_products)[len(catalog(seed)) :]
    products, variants, items = build_catalogue(generated, state.format_time(_SHOP_CREATED))
    state.load_catalogue(products, variants, items, [])
    for entry in generated:
        state.connect_inventory(entry.inventory_item_id, SHOP_LOCATION_ID, _SHOP_CREATED, on_hand=entry.on_hand)
    return len(generated)


class BenchWorld:
    """A started sandbox pair with faults from `profile`; use as a context manager."""

    def __init__(self, profile: Profile | str = "zero", seed: int = 7, extra_orders: int = 0, extra_items: int = 0, shop_products: bool = False) -> None:
        """`extra_items` generated products go to the org; with `shop_products` the shop sells them too."""
        self.profile = profile_named(profile) if isinstance(profile, str) else profile
        self.registry = Registry()
        self.sandbox = LocalSandbox(None, seed=seed, extra_orders=extra_orders, extra_items=extra_items)
        if shop_products and extra_items:
            stock_generated_products(self.sandbox, seed, extra_items)
        self.profile.apply(self.sandbox)
        self.meter = Meter(self.sandbox)

    def __enter__(self) -> "BenchWorld":
        self.sandbox.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sandbox.stop()

    def recipe(self, name: str, since: datetime | None = None) -> Recipe:
        """Load a shipped recipe by name; `since` replaces its trigger's start, as a user editing it would."""
        recipe = load_recipe(RECIPES / f"{name}.yaml", self.registry)
        if since is not None:
            recipe.trigger.since = since
        return recipe

    @contextlib.contextmanager
    def connectors(self, recipe: Recipe) -> Iterator[dict[str, Connector]]:
        """Open each connector the recipe uses on this world's sandbox, and close them after."""
        settings = {"shopify": self.sandbox.shopify_settings(), "salesforce": self.sandbox.salesforce_settings()}
        with contextlib.ExitStack() as stack:
            opened: dict[str, Connector] = {}
            for name in recipe.connectors_used():
                connector = self.registry.get(name)(settings[name], name)
                opened[name] = stack.enter_context(connector)
            yield opened

    def run(self, recipe: Recipe, store: SQLiteStore, event: Any = None, max_events: int | None = None, **options: Any) -> RunSummary:
        """Run one event through the recipe, or poll until its trigger has nothing more (or `max_events` ran)."""
        with self.connectors(recipe) as connectors:
            run = RecipeRun(recipe, connectors, store, **options)
            return run.run_event(event) if event is not None else run.poll_and_run(max_events)
