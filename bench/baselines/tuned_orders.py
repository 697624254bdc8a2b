"""The hand-tuned order sync: batched reads and writes, as the connectors batch them, and no engine.

Shopify orders are read 250 at a time. For each page the script sends one SOQL query for the
items of all its SKUs, then upserts by external id with sObject Collections, 200 records a
request: new items, accounts, contacts, sales orders, lines. Upserts on the Shopify ids make a
rerun create nothing, as the recipe's do.
"""

from __future__ import annotations

import logging
from typing import Any

from connectors.sandbox.local import LocalSandbox

from bench.baselines.clients import ShopifyReader, item_group_id, query_all, salesforce_client, sf_patch, soql_list
from bench.baselines.order_mapping import syncable, account_fields, contact_fields, customer_key, item_fields, line_fields, order_fields

__all__ = ["sync_orders"]

log = logging.getLogger(__name__)

COLLECTION_SIZE = 200
SKU_QUERY_CHUNK = 200


def sync_orders(sandbox: LocalSandbox, created_at_min: str) -> int:
    """Copy every order created since `created_at_min` into Salesforce; return the orders written."""
    reader = ShopifyReader(sandbox)
    sf = salesforce_client(sandbox)
    group = item_group_id(sf)
    written = 0
    for page in reader.orders(created_at_min, limit=250):
        orders = [order for order in page if syncable(order)]
        if orders:
            _sync_page(sf, orders, group)
        written += len(orders)
    return written


def _upsert(sf: Any, object_name: str, field: str, records: list[dict[str, Any]]) -> list[str]:
    """Upsert records in collections of 200 and return their ids in the same order."""
    ids: list[str] = []
    for start in range(0, len(records), COLLECTION_SIZE):
        chunk = [{"attributes": {"type": object_name}, **record} for record in records[start : start + COLLECTION_SIZE]]
        results = sf_patch(sf, f"composite/sobjects/{object_name}/{field}", {"allOrNone": True, "records": chunk})
        failed = [result for result in results if not result.get("success")]
        if failed:
            raise RuntimeError(f"upsert of {object_name} failed: {failed[0].get('errors')}")
        ids += [result["id"] for result in results]
    return ids


def _items_by_sku(sf: Any, orders: list[dict[str, Any]], group: str) -> dict[str, str]:
    lines = {line["sku"].lower(): line for order in orders for line in order["line_items"]}
    skus = sorted(lines)
    found: dict[str, str] = {}
    for start in range(0, len(skus), SKU_QUERY_CHUNK):
        chunk = [lines[sku]["sku"] for sku in skus[start : start + SKU_QUERY_CHUNK]]
        for record in query_all(sf, f"SELECT Id, Shopify_SKU__c FROM PBSI__PBSI_Item__c WHERE Shopify_SKU__c IN {soql_list(chunk)}"):
            found[record["Shopify_SKU__c"].lower()] = record["Id"]

    missing = [lines[sku] for sku in skus if sku not in found]
    if missing:
        ids = _upsert(sf, "PBSI__PBSI_Item__c", "Shopify_SKU__c", [item_fields(line, group) for line in missing])
        found.update({line["sku"].lower(): item_id for line, item_id in zip(missing, ids)})
    return found


def _sync_page(sf: Any, orders: list[dict[str, Any]], group: str) -> None:
    items = _items_by_sku(sf, orders, group)

    customers = {customer_key(order): order for order in orders}
    keys = list(customers)
    account_ids = dict(zip(keys, _upsert(sf, "Account", "Shopify_Customer_Id__c", [account_fields(customers[key]) for key in keys])))
    contacts = [{**contact_fields(customers[key]), "AccountId": account_ids[key]} for key in keys]
    contact_ids = dict(zip(keys, _upsert(sf, "Contact", "Shopify_Customer_Id__c", contacts)))

    sales_orders = [{**order_fields(order), "PBSI__Customer__c": account_ids[customer_key(order)], "PBSI__Contact__c": contact_ids[customer_key(order)]} for order in orders]
    order_ids = _upsert(sf, "PBSI__PBSI_Sales_Order__c", "Shopify_Order_Id__c", sales_orders)

    lines = [
        {**line_fields(line), "PBSI__Sales_Order__c": order_id, "PBSI__Item__c": items[line["sku"].lower()]}
        for order, order_id in zip(orders, order_ids)
        for line in order["line_items"]
    ]
    _upsert(sf, "PBSI__PBSI_Sales_Order_Line__c", "Shopify_Line_Id__c", lines)
