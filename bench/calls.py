"""Scenario 2: API calls per order, counted by endpoint at each sandbox for one job at a time.

The counts do not depend on timing, so `tests/bench/test_calls_per_order.py` asserts them exactly
and `python -m bench calls` prints them. Each case creates its Shopify order in the sandbox, runs
the shipped recipe on that one event (or, for a carton, one poll), and reads the request counters.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from engine.store import JobRecord, SQLiteStore

from bench.world import BenchWorld

__all__ = ["CallCount", "CASES", "count_calls", "ORDER_CASES"]

log = logging.getLogger(__name__)

ORDER_RECIPE = "shopify-order-to-ascent"
PAYMENT_RECIPE = "order-paid-to-invoice"
FULFILLMENT_RECIPE = "carton-packed-to-fulfillment"

SALES_ORDER = "PBSI__PBSI_Sales_Order__c"
SALES_ORDER_LINE = "PBSI__PBSI_Sales_Order_Line__c"


@dataclass
class CallCount:
    """Requests that one measured job sent, by endpoint, and the job's own round-trip count."""

    case: str
    status: str
    round_trips: int
    salesforce: dict[str, int]
    shopify: dict[str, int]

    @property
    def salesforce_total(self) -> int:
        return sum(self.salesforce.values())

    @property
    def shopify_total(self) -> int:
        return sum(self.shopify.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "status": self.status,
            "round_trips": self.round_trips,
            "salesforce_total": self.salesforce_total,
            "shopify_total": self.shopify_total,
            "salesforce": dict(sorted(self.salesforce.items())),
            "shopify": dict(sorted(self.shopify.items())),
        }


class _Cases:
    """Creates the orders of each case and runs the recipes on one world and one job store."""

    def __init__(self, world: BenchWorld, store: SQLiteStore) -> None:
        self.world = world
        self.store = store
        self.state = world.sandbox.shopify.state
        self.variants = [variant for variant in self.state.variants.values() if variant.get("sku") and variant["inventory_management"] == "shopify"]
        self.order_recipe = world.recipe(ORDER_RECIPE)
        self._customers = 0

    def new_customer(self) -> dict[str, Any]:
        self._customers += 1
        return {"email": f"bench-{self._customers:04d}@example.org", "first_name": "Bench", "last_name": f"Buyer {self._customers}"}

    def create_order(self, lines: int, customer: dict[str, Any] | None = None, paid: bool = False) -> dict[str, Any]:
        """Create an order of `lines` lines over the catalogue's stocked variants, cycling through them."""
        spec = {
            "customer": customer or self.new_customer(),
            "shipping_address": {"first_name": "Bench", "last_name": "Buyer", "address1": "1 Main Street", "city": "Hoboken", "province_code": "NJ", "zip": "07030", "country_code": "US"},
            "line_items": [{"variant_id": self.variants[number % len(self.variants)]["id"], "quantity": 1} for number in range(lines)],
        }
        return self.state.create_order(spec, payment={"kind": "sale"} if paid else None)

    def measured(self, case: str, run: Callable[[], list[JobRecord]]) -> CallCount:
        """Run `run` with fresh counters and return what its single job sent."""
        self.world.sandbox.shopify.server.reset_calls()
        self.world.sandbox.salesforce.server.reset_calls()
        jobs = run()
        if len(jobs) != 1:
            raise RuntimeError(f"case {case!r} ran {len(jobs)} jobs, expected exactly 1")
        return CallCount(
            case=case,
            status=jobs[0].status.value,
            round_trips=jobs[0].round_trips,
            salesforce=dict(self.world.sandbox.salesforce.calls),
            shopify=dict(self.world.sandbox.shopify.calls),
        )

    def sync_order(self, order: dict[str, Any]) -> list[JobRecord]:
        return self.world.run(self.order_recipe, self.store, event=order, sleep=lambda seconds: None).jobs

    def order_case(self, case: str, lines: int, customer: dict[str, Any] | None = None) -> CallCount:
        order = self.create_order(lines, customer)
        return self.measured(case, lambda: self.sync_order(order))

    def repeat_customer(self) -> CallCount:
        first = self.create_order(3)
        self.sync_order(first)
        return self.order_case("repeat customer, 3 lines", 3, {"id": first["customer"]["id"]})

    def payment(self) -> CallCount:
        order = self.create_order(3, paid=True)
        self.sync_order(order)
        recipe = self.world.recipe(PAYMENT_RECIPE)
        paid = self.state.orders[order["id"]]
        return self.measured("payment", lambda: self.world.run(recipe, self.store, event=paid, sleep=lambda seconds: None).jobs)

    def fulfillment(self) -> CallCount:
        order = self.create_order(3, paid=True)
        self.sync_order(order)
        records = self.world.sandbox.salesforce.records
        sales_order = next(record for record in records.all(SALES_ORDER) if record.get("Shopify_Order_Id__c") == str(order["id"]))
        lines = [line["Id"] for line in records.all(SALES_ORDER_LINE) if line["PBSI__Sales_Order__c"] == sales_order["Id"]]
        records.pack_carton(sales_order["Id"], {line_id: 1 for line_id in lines}, "1Z999AA10123456784", "UPS")
        recipe = self.world.recipe(FULFILLMENT_RECIPE)
        return self.measured("fulfillment", lambda: self.world.run(recipe, self.store, sleep=lambda seconds: None).jobs)


# Orders of a new customer by line count; 600 lines make a tree of more than 500 records.
ORDER_CASES = (1, 5, 50, 200, 600)

CASES: tuple[str, ...] = (
    "new customer, 3 lines",
    "repeat customer, 3 lines",
    *(f"new customer, {lines} lines" for lines in ORDER_CASES if lines != 3),
    "payment",
    "fulfillment",
)


def count_calls(profile: str = "zero") -> list[CallCount]:
    """Run every case of scenario 2 on a fresh sandbox and return the counts in `CASES` order."""
    with tempfile.TemporaryDirectory(prefix="bench-calls-") as folder, BenchWorld(profile) as world:
        store = SQLiteStore(Path(folder) / "recipe.db")
        try:
            cases = _Cases(world, store)
            counts = [cases.order_case("new customer, 3 lines", 3), cases.repeat_customer()]
            counts += [cases.order_case(f"new customer, {lines} lines", lines) for lines in ORDER_CASES]
            counts += [cases.payment(), cases.fulfillment()]
        finally:
            store.close()
    return counts
