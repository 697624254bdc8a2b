"""The Salesforce fields both order baselines write for a Shopify order, as the recipe maps them.

Only what the generated benchmark orders need is mapped: a named customer, a shipping address,
catalogue lines with SKUs, and prices without tax included. Amounts stay `Decimal`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

__all__ = ["syncable", "account_fields", "contact_fields", "order_fields", "line_fields", "item_fields", "customer_key"]


def customer_key(order: dict[str, Any]) -> str:
    customer = order.get("customer") or {}
    return str(customer["id"]) if customer.get("id") else f"order:{order['id']}"


def _billing(order: dict[str, Any]) -> dict[str, Any]:
    return order.get("billing_address") or (order.get("customer") or {}).get("default_address") or {}


def account_fields(order: dict[str, Any]) -> dict[str, Any]:
    customer = order.get("customer") or {}
    billing = _billing(order)
    return {
        "Shopify_Customer_Id__c": customer_key(order),
        "Name": " ".join(part for part in (customer.get("first_name"), customer.get("last_name")) if part),
        "BillingCity": billing.get("city"),
        "BillingPostalCode": billing.get("zip"),
    }


def contact_fields(order: dict[str, Any]) -> dict[str, Any]:
    customer = order.get("customer") or {}
    return {
        "Shopify_Customer_Id__c": customer_key(order),
        "FirstName": customer.get("first_name"),
        "LastName": customer.get("last_name") or customer.get("first_name"),
        "Email": order.get("email") or customer.get("email"),
    }


def item_fields(line: dict[str, Any], item_group_id: str) -> dict[str, Any]:
    return {"PBSI__Item_Group__c": item_group_id, "PBSI__Item_Status__c": "Active", "Shopify_SKU__c": line["sku"], "Name": line["sku"][:80], "PBSI__description__c": line["name"], "PBSI__salesprice__c": Decimal(line["price"])}


def order_fields(order: dict[str, Any]) -> dict[str, Any]:
    shipping = sum((Decimal(line["discounted_price"]) for line in order.get("shipping_lines", [])), Decimal("0"))
    shipping += sum((Decimal(tax["price"]) for line in order.get("shipping_lines", []) for tax in line.get("tax_lines", [])), Decimal("0"))
    return {
        "Shopify_Order_Id__c": str(order["id"]),
        "Shopify_Order_Name__c": order["name"],
        "PBSI__Order_Date__c": order["created_at"][:10],
        "PBSI__Status__c": "Open",
        "PBSI__Currency__c": order["currency"],
        "PBSI__Shipping_Amount__c": shipping,
    }


def line_fields(line: dict[str, Any]) -> dict[str, Any]:
    tax = sum((Decimal(tax["price"]) for tax in line.get("tax_lines", [])), Decimal("0")) if line.get("taxable") else Decimal("0")
    discount = sum((Decimal(allocation["amount"]) for allocation in line.get("discount_allocations", [])), Decimal("0"))
    return {
        "Shopify_Line_Id__c": str(line["id"]),
        "PBSI__Quantity__c": line["quantity"],
        "PBSI__Quantity_Needed__c": line["quantity"],
        "PBSI__Price__c": Decimal(line["price"]),
        "PBSI__Line_Description__c": line["title"][:255],
        "PBSI__Taxable__c": bool(line.get("taxable")),
        "PBSI__Tax_Amount__c": tax,
        "PBSI__Discount_Amount__c": discount,
    }


def syncable(order: dict[str, Any]) -> bool:
    """Return whether the baselines copy an order: not cancelled, a known customer, and every line a SKU'd variant.

    The recipe also copies guest orders, so the comparison in `bench.backfill` covers only these.
    """
    lines_ok = all(line.get("variant_id") and line.get("sku") for line in order["line_items"])
    return not order.get("cancelled_at") and bool(order.get("customer")) and not order.get("taxes_included") and lines_ok
