"""Scenario 3: stock changed in the ERP, pushed to Shopify by stock-to-shopify and the two baselines.

Each contender gets a fresh world: the org and the shop both hold the catalogue's generated
products (the same SKUs and quantities), and `items` of those items get a new stock in the ERP.
Three measured passes follow on the same world: the full push, a repeat after 1 % of the items
changed again, and a repeat with nothing changed. Afterwards every changed item's Shopify
quantity at the warehouse is compared with the ERP's available to promise.
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from connectors.sandbox.catalog import SHOP_LOCATION_ID
from engine.store import SQLiteStore

from bench.baselines.naive_stock import NaiveStock
from bench.baselines.tuned_stock import TunedStock
from bench.world import BenchWorld

__all__ = ["run_stock", "CONTENDERS"]

log = logging.getLogger(__name__)

ITEM = "PBSI__PBSI_Item__c"
RECIPE = "stock-to-shopify"
CONTENDERS = ("ours", "tuned", "naive")
PASSES = ("full", "one_percent", "unchanged")


class _Stock:
    """The world of one contender, and the items whose stock the scenario changes."""

    def __init__(self, world: BenchWorld, items: int) -> None:
        self.world = world
        records = world.sandbox.salesforce.records
        generated = sorted((record for record in records.all(ITEM) if (record.get("Shopify_SKU__c") or "").startswith("GEN-")), key=lambda record: record["Name"])
        if len(generated) < items:
            raise RuntimeError(f"the world has {len(generated)} generated items, fewer than {items}")
        self.items = generated[:items]
        self.round = 0

    def change(self, share: float) -> int:
        """Give every `share`-th changed item a new quantity in the ERP (not measured); return how many."""
        self.round += 1
        step = max(int(round(1 / share)), 1)
        chosen = self.items[::step]
        records = self.world.sandbox.salesforce.records
        for record in chosen:
            current = records.get(ITEM, record["Id"])["PBSI__Quantity_On_Hand__c"] or 0
            records.set_stock(record["Id"], int(current) + 3 + self.round)
        return len(chosen)

    def check(self) -> dict[str, int]:
        """Count changed items whose Shopify quantity differs from the ERP's, or that Shopify lacks."""
        records = self.world.sandbox.salesforce.records
        state = self.world.sandbox.shopify.state
        wrong = missing = 0
        for record in self.items:
            variant = state.variant_by_sku(record["Shopify_SKU__c"])
            level = state.inventory_levels.get((variant["inventory_item_id"], SHOP_LOCATION_ID)) if variant else None
            if level is None:
                missing += 1
            elif level["available"] != int(records.get(ITEM, record["Id"])["PBSI__Available_To_Promise__c"] or 0):
                wrong += 1
        return {"items_checked": len(self.items), "wrong_quantity": wrong, "missing": missing}


def _soql(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _pusher(name: str, world: BenchWorld, since: datetime, folder: str) -> Callable[[], dict[str, Any]]:
    """Return a function that runs one pass of contender `name` and returns what it reports."""
    if name == "naive":
        naive = NaiveStock(world.sandbox, _soql(since), SHOP_LOCATION_ID)
        return lambda: {"writes_sent": naive.push()}
    if name == "tuned":
        tuned = TunedStock(world.sandbox, _soql(since), SHOP_LOCATION_ID)
        return lambda: {"writes_sent": tuned.push(), "graphql_wait_seconds": round(tuned.waited, 2)}

    recipe = world.recipe(RECIPE, since=since)
    store = SQLiteStore(Path(folder) / "recipe.db")

    def ours() -> dict[str, Any]:
        summary = world.run(recipe, store)
        return {"job_statuses": dict(Counter(job.status.value for job in summary.jobs))}

    return ours


def _contender(name: str, profile: str, items: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-stock-") as folder, BenchWorld(profile, extra_items=items // 2 + 50, shop_products=True) as world:
        stock = _Stock(world, items)
        since = datetime.now(timezone.utc) - timedelta(seconds=1)
        push = _pusher(name, world, since, folder)
        result: dict[str, Any] = {"contender": name, "items": items}
        for label, share in zip(PASSES, (1.0, 0.01, 0.0)):
            changed = stock.change(share) if share else 0
            with world.meter.phase() as cost:
                reported = push()
            figures = cost.as_dict()
            figures.update(reported, items_changed=changed)
            result[label] = figures
            log.info("stock %s %s: %s", name, label, figures)
        result["check"] = stock.check()
    return _flatten(result)


def _flatten(result: dict[str, Any]) -> dict[str, Any]:
    """Copy the headline figures of each pass to the top level, where `--runs` takes medians."""
    for label in PASSES:
        figures = result[label]
        result[f"{label}_wall_seconds"] = figures["wall_seconds"]
        result[f"{label}_cpu_seconds"] = figures["cpu_seconds"]
        result[f"{label}_shopify_total"] = figures["shopify_total"]
        result[f"{label}_salesforce_total"] = figures["salesforce_total"]
        result[f"{label}_throttled"] = figures["throttled"]
    result["wall_seconds"] = result["full_wall_seconds"]
    result["cpu_seconds"] = result["full_cpu_seconds"]
    result["shopify_total"] = result["full_shopify_total"]
    result["salesforce_total"] = result["full_salesforce_total"]
    result["peak_rss_mb"] = result["full"]["peak_rss_mb"]
    result["wrong_quantity"] = result["check"]["wrong_quantity"]
    return result


def run_stock(items: int, profile: str, contenders: tuple[str, ...] = CONTENDERS) -> list[dict[str, Any]]:
    """Run each contender on its own fresh world with `items` changed items; return their results."""
    return [_contender(name, profile, items) for name in contenders]
