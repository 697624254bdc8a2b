"""Scenario 1: backfill generated orders through shopify-order-to-ascent, and the two baselines.

Each contender gets a fresh sandbox seeded the same way (`extra_orders` generated orders dated
June to September 2026, plus the hand-made seed orders), so each writes into an empty org and
the final states can be compared. The recipe's `since` is moved to 2026-06-01, as a user starting
a backfill would set it.
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from engine.store import JobStatus, SQLiteStore

from bench.baselines import naive_orders, tuned_orders
from bench.baselines.order_mapping import syncable
from bench.meter import PhaseCost
from bench.world import BenchWorld

__all__ = ["run_backfill", "check_orders"]

log = logging.getLogger(__name__)

SINCE = datetime(2026, 6, 1, tzinfo=timezone.utc)
SINCE_TEXT = "2026-06-01T00:00:00+00:00"
WRITTEN = ("Account", "Contact", "PBSI__PBSI_Item__c", "Shopify_Item_Map__c", "PBSI__PBSI_Sales_Order__c", "PBSI__PBSI_Sales_Order_Line__c")


def check_orders(world: BenchWorld) -> dict[str, Any]:
    """Compare the org with the store: sales orders and lines missing, duplicated, or with a wrong total."""
    records = world.sandbox.salesforce.records
    orders = [order for order in world.sandbox.shopify.state.orders.values() if syncable(order)]
    saved = Counter(record.get("Shopify_Order_Id__c") for record in records.all("PBSI__PBSI_Sales_Order__c"))
    lines = Counter(record.get("Shopify_Line_Id__c") for record in records.all("PBSI__PBSI_Sales_Order_Line__c"))
    totals = {record.get("Shopify_Order_Id__c"): record.get("PBSI__Order_Total__c") for record in records.all("PBSI__PBSI_Sales_Order__c")}

    return {
        "orders_expected": len(orders),
        "orders_lost": sum(1 for order in orders if saved[str(order["id"])] == 0),
        "orders_duplicated": sum(count - 1 for count in saved.values() if count > 1),
        "lines_lost": sum(1 for order in orders for line in order["line_items"] if lines[str(line["id"])] == 0),
        "lines_duplicated": sum(count - 1 for count in lines.values() if count > 1),
        "wrong_totals": sum(1 for order in orders if saved[str(order["id"])] and totals[str(order["id"])] != Decimal(order["total_price"])),
    }


def _records_written(world: BenchWorld, before: dict[str, int]) -> dict[str, int]:
    records = world.sandbox.salesforce.records
    return {name: len(records.all(name)) - before[name] for name in WRITTEN}


def _contender(name: str, profile: str, orders: int, body: Callable[[BenchWorld], dict[str, Any]]) -> dict[str, Any]:
    with BenchWorld(profile, extra_orders=orders) as world:
        before = {object_name: len(world.sandbox.salesforce.records.all(object_name)) for object_name in WRITTEN}
        with world.meter.phase() as cost:
            extra = body(world)
        written = _records_written(world, before)
        result = _summarise(name, cost, written, extra)
        result["check"] = check_orders(world)
    log.info("backfill %s: %s", name, result)
    return result


def _summarise(name: str, cost: PhaseCost, written: dict[str, int], extra: dict[str, Any]) -> dict[str, Any]:
    orders = max(extra.get("orders_synced", 0), 1)
    total_written = sum(written.values())
    return {
        "contender": name,
        **extra,
        **cost.as_dict(),
        "records_written": written,
        "records_written_total": total_written,
        "records_per_second": round(total_written / cost.wall_seconds, 1) if cost.wall_seconds else None,
        "orders_per_second": round(orders / cost.wall_seconds, 2) if cost.wall_seconds else None,
        "salesforce_calls_per_order": round(cost.salesforce_total / orders, 3),
        "orders_per_shopify_read": round(orders / max(cost.shopify_total, 1), 1),
    }


def _ours(world: BenchWorld) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-backfill-") as folder:
        store = SQLiteStore(Path(folder) / "recipe.db")
        try:
            recipe = world.recipe("shopify-order-to-ascent", since=SINCE)
            summary = world.run(recipe, store)
        finally:
            store.close()
    statuses = Counter(job.status.value for job in summary.jobs)
    return {"orders_synced": statuses.get(JobStatus.SUCCEEDED.value, 0), "job_statuses": dict(statuses)}


def _baseline(module: Any) -> Callable[[BenchWorld], dict[str, Any]]:
    def body(world: BenchWorld) -> dict[str, Any]:
        return {"orders_synced": module.sync_orders(world.sandbox, SINCE_TEXT)}

    return body


def run_backfill(orders: int, profile: str, contenders: tuple[str, ...] = ("ours", "tuned", "naive")) -> list[dict[str, Any]]:
    """Run each contender on its own fresh sandbox with `orders` generated orders; return their results."""
    bodies = {"ours": _ours, "tuned": _baseline(tuned_orders), "naive": _baseline(naive_orders)}
    return [_contender(name, profile, orders, bodies[name]) for name in contenders]
