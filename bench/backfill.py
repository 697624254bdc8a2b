"""Scenario 1: backfill generated orders through shopify-order-to-ascent, and the two baselines.

Each contender gets a fresh sandbox seeded the same way (`extra_orders` generated orders dated
June to September 2026, plus the hand-made seed orders), so each writes into an empty org and
the final states can be compared. The recipe's `since` is moved to 2026-06-01, as a user starting
a backfill would set it. Ours runs one job at a time, as `recipe run` does, unless the run
asks for the service (`bench.service_backfill`), which runs the recipe's `concurrency` jobs at
once, as `recipe start` does.
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from connectors.salesforce.sandbox import SCHEMA
from engine.runner import PlannedWrite
from engine.store import JobStatus, SQLiteStore

from bench.baselines import naive_orders, tuned_orders
from bench.baselines.order_mapping import syncable
from bench.meter import PhaseCost
from bench.service_backfill import backfill_through_service
from bench.world import BenchWorld

__all__ = ["run_backfill", "run_dry_run", "check_orders", "CONTENDERS"]

log = logging.getLogger(__name__)

SINCE = datetime(2026, 6, 1, tzinfo=timezone.utc)
SINCE_TEXT = "2026-06-01T00:00:00+00:00"
CONTENDERS = ("ours", "tuned", "naive")
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


def _ours_service(world: BenchWorld) -> dict[str, Any]:
    recipe = world.recipe("shopify-order-to-ascent", since=SINCE)
    result = backfill_through_service(world, recipe)
    result["items_duplicated"] = _items_duplicated(world)
    return result


def _items_duplicated(world: BenchWorld) -> int:
    """Count the extra ERP items that share a SKU (case ignored). Two orders adding one new SKU at the same time could create them."""
    skus = Counter((record.get("Shopify_SKU__c") or "").lower() for record in world.sandbox.salesforce.records.all("PBSI__PBSI_Item__c"))
    return sum(count - 1 for sku, count in skus.items() if sku and count > 1)


def _baseline(module: Any) -> Callable[[BenchWorld], dict[str, Any]]:
    def body(world: BenchWorld) -> dict[str, Any]:
        return {"orders_synced": module.sync_orders(world.sandbox, SINCE_TEXT)}

    return body


def run_backfill(orders: int, profile: str, contenders: tuple[str, ...] = CONTENDERS, service: bool = False) -> list[dict[str, Any]]:
    """Run each contender on its own fresh sandbox with `orders` generated orders; return their results.

    Ours runs as `recipe run` does (one job at a time), or with `service` as `recipe start` does
    (`recipe.concurrency` jobs at a time, see `bench.service_backfill`). Raises ValueError for an
    unknown contender.
    """
    unknown = [name for name in contenders if name not in CONTENDERS]
    if unknown:
        raise ValueError(f"unknown backfill contender(s) {', '.join(unknown)}; choose from {', '.join(CONTENDERS)}")

    bodies = {"ours": _ours_service if service else _ours, "tuned": _baseline(tuned_orders), "naive": _baseline(naive_orders)}
    return [_contender(name, profile, orders, bodies[name]) for name in contenders]


def run_dry_run(orders: int, profile: str) -> dict[str, Any]:
    """Time a dry run of the whole backfill plan, as `recipe dry-run` does it, and check the org is untouched.

    The timed phase loads the recipe, opens the connectors and runs every job with writes held
    back, on an empty in-memory store (what `recipe dry-run` uses on a fresh state directory).
    Reads still go to the sandboxes: the trigger's order pages and each job's item query. Wall
    and CPU time include the sandboxes, which run in this process. `org_unchanged` is True when
    the org's records are exactly the same afterwards, field by field, not only in number.
    """
    with BenchWorld(profile, extra_orders=orders) as world:
        records = world.sandbox.salesforce.records
        counts_before = _org_record_counts(world)
        state_before = records.to_state()
        store = SQLiteStore(":memory:")
        try:
            with world.meter.phase() as cost:
                recipe = world.recipe("shopify-order-to-ascent", since=SINCE)
                summary = world.run(recipe, store, dry_run=True)
        finally:
            store.close()
        counts_after = _org_record_counts(world)
        unchanged = records.to_state() == state_before

    planned = [write for writes in summary.planned.values() for write in writes]
    statuses = Counter(job.status.value for job in summary.jobs)
    result = {
        "contender": "ours",
        "mode": "dry_run",
        "jobs_planned": len(summary.jobs),
        "job_statuses": dict(sorted(statuses.items())),
        "planned_writes": len(planned),
        "planned_writes_by_action": dict(sorted(Counter(f"{write.connector}.{write.action}" for write in planned).items())),
        "planned_records": sum(_planned_records(write) for write in planned),
        **cost.as_dict(),
        "org_records_before": sum(counts_before.values()),
        "org_records_after": sum(counts_after.values()),
        "org_records_changed": {name: counts_after[name] - counts_before[name] for name in counts_before if counts_after[name] != counts_before[name]},
        "org_unchanged": unchanged,
    }
    log.info("backfill dry run: %s", result)
    return result


def _org_record_counts(world: BenchWorld) -> dict[str, int]:
    records = world.sandbox.salesforce.records
    return {name: len(records.all(name)) for name in SCHEMA}


def _planned_records(write: PlannedWrite) -> int:
    """Count the records a held-back write would send: one per `record`, plus each `records` entry, through `children`."""
    def count(node: Any) -> int:
        if not isinstance(node, dict):
            return 0
        own = (1 if isinstance(node.get("record"), dict) else 0) + len(node.get("records") or [])
        return own + sum(count(child) for child in node.get("children") or [])

    return count(write.payload)
