"""Helpers for the end-to-end tests of the two invoice recipes.

They run a recipe against the process's shared sandbox for a test's folder, as `recipe run
--sandbox` does, and give the Salesforce side the records shopify-order-to-ascent would have
written for an order, so each invoice test starts from a known sales order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from connectors.sandbox.local import LocalSandbox
from engine.connections import ConnectionBook
from engine.registry import Registry
from engine.run import RecipeRun, RunSummary, open_connectors
from engine.store import Store
from engine.validate import load_recipe

__all__ = [
    "ACCOUNT",
    "APPLICATION",
    "INVOICE",
    "INVOICE_LINE",
    "ITEM",
    "ORDER",
    "ORDER_LINE",
    "RECEIPT",
    "RECIPES",
    "SalesOrders",
    "run_recipe",
    "shopify_order",
    "shopify_orders",
    "without_system_fields",
]

RECIPES = Path(__file__).resolve().parents[2] / "recipes"

ACCOUNT = "Account"
ITEM = "PBSI__PBSI_Item__c"
ORDER = "PBSI__PBSI_Sales_Order__c"
ORDER_LINE = "PBSI__PBSI_Sales_Order_Line__c"
INVOICE = "PBSI__Sales_Invoice__c"
INVOICE_LINE = "PBSI__Sales_Invoice_Line__c"
RECEIPT = "PBSI__Cash_Receipt__c"
APPLICATION = "PBSI__Applied_Cash_Receipt__c"

_SYSTEM_FIELDS = {"IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp"}


def run_recipe(name: str, state_dir: Path, store: Store, *, dry_run: bool = False, event: Any = None) -> RunSummary:
    """Run a shipped recipe against the shared sandbox of `state_dir`: one event, or a poll."""
    registry = Registry()
    recipe = load_recipe(RECIPES / f"{name}.yaml", registry)
    with open_connectors(recipe, registry, ConnectionBook({}, "tests", {}), True, state_dir) as (connectors, redactor):
        run = RecipeRun(recipe, connectors, store, redactor, dry_run=dry_run, sleep=lambda seconds: None)
        return run.run_event(event) if event is not None else run.poll_and_run()


def shopify_orders(sandbox: LocalSandbox) -> list[dict[str, Any]]:
    """Return every order of the Shopify sandbox in the REST shape, through its admin route."""
    reply = requests.get(f"{sandbox.shopify.base_url}/sandbox/orders", timeout=10)
    reply.raise_for_status()
    return reply.json()["orders"]


def shopify_order(sandbox: LocalSandbox, name: str) -> dict[str, Any]:
    """Return the order named `name` (`#1001`) in the REST shape."""
    return next(order for order in shopify_orders(sandbox) if order["name"] == name)


def without_system_fields(record: dict[str, Any]) -> dict[str, Any]:
    """Return a sandbox record without the audit fields that carry the time of the write."""
    return {key: value for key, value in record.items() if key not in _SYSTEM_FIELDS}


class SalesOrders:
    """A writer of the account, sales order and lines that shopify-order-to-ascent makes for an order.

    The sales order carries the Shopify order id and each line the Shopify line id, as text. A line
    whose SKU is not an ERP item is left out, so tests also cover invoice lines without a match.
    """

    def __init__(self, sandbox: LocalSandbox) -> None:
        self.records = sandbox.salesforce.records
        self.items = {item["Shopify_SKU__c"]: item["Id"] for item in self.records.all(ITEM)}
        self.accounts: dict[str, str] = {}

    def add(self, order: dict[str, Any]) -> str:
        """Write the sales order of `order` with its account and lines; return the sales order's Id."""
        sales_order = self.records.create(
            ORDER,
            {
                "PBSI__Customer__c": self._account(order),
                "PBSI__Order_Date__c": order["processed_at"][:10],
                "Shopify_Order_Id__c": str(order["id"]),
                "Shopify_Order_Name__c": order["name"],
            },
        )
        for line in order["line_items"]:
            item = self.items.get(line.get("sku") or "")
            if item is None:
                continue
            self.records.create(
                ORDER_LINE,
                {
                    "PBSI__Sales_Order__c": sales_order,
                    "PBSI__Item__c": item,
                    "PBSI__Quantity_Needed__c": line["quantity"],
                    "PBSI__Price__c": line["price"],
                    "Shopify_Line_Id__c": str(line["id"]),
                },
            )
        return sales_order

    def _account(self, order: dict[str, Any]) -> str:
        customer = order.get("customer")
        address = order.get("billing_address") or {}
        name = address.get("company") or address.get("name") or order.get("email") or order["name"]
        if not customer:
            return self.records.create(ACCOUNT, {"Name": name})

        key = str(customer["id"])
        if key not in self.accounts:
            self.accounts[key] = self.records.create(ACCOUNT, {"Name": name, "Shopify_Customer_Id__c": key})
        return self.accounts[key]
