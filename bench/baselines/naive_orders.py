"""The naive order sync integrators usually write: one request per record, a lookup before each insert.

Shopify orders are read 50 at a time (the API's default page size). For each order the script
looks up the account, the contact and each line's item by SKU, creates whatever is missing, then
creates the sales order and each line with its own request.
"""

from __future__ import annotations

import logging
from typing import Any

from connectors.sandbox.local import LocalSandbox

from bench.baselines.clients import ShopifyReader, item_group_id, query_all, salesforce_client, sf_post, soql_list
from bench.baselines.order_mapping import syncable, account_fields, contact_fields, customer_key, item_fields, line_fields, order_fields

__all__ = ["sync_orders"]

log = logging.getLogger(__name__)


def sync_orders(sandbox: LocalSandbox, created_at_min: str) -> int:
    """Copy every order created since `created_at_min` into Salesforce; return the orders written."""
    reader = ShopifyReader(sandbox)
    sf = salesforce_client(sandbox)
    group = item_group_id(sf)
    written = 0
    for page in reader.orders(created_at_min, limit=50):
        for order in page:
            if not syncable(order):
                continue
            _sync_order(sf, order, group)
            written += 1
    return written


def _find_or_create(sf: Any, object_name: str, field: str, value: str, fields: dict[str, Any]) -> str:
    found = query_all(sf, f"SELECT Id FROM {object_name} WHERE {field} = {soql_list([value])[1:-1]}")
    if found:
        return found[0]["Id"]
    return sf_post(sf, f"sobjects/{object_name}/", fields)["id"]


def _sync_order(sf: Any, order: dict[str, Any], group: str) -> None:
    key = customer_key(order)
    account_id = _find_or_create(sf, "Account", "Shopify_Customer_Id__c", key, account_fields(order))
    contact_id = _find_or_create(sf, "Contact", "Shopify_Customer_Id__c", key, {**contact_fields(order), "AccountId": account_id})

    item_ids = [_find_or_create(sf, "PBSI__PBSI_Item__c", "Shopify_SKU__c", line["sku"], item_fields(line, group)) for line in order["line_items"]]

    order_id = sf_post(sf, "sobjects/PBSI__PBSI_Sales_Order__c/", {**order_fields(order), "PBSI__Customer__c": account_id, "PBSI__Contact__c": contact_id})["id"]
    for line, item_id in zip(order["line_items"], item_ids):
        sf_post(sf, "sobjects/PBSI__PBSI_Sales_Order_Line__c/", {**line_fields(line), "PBSI__Sales_Order__c": order_id, "PBSI__Item__c": item_id})
