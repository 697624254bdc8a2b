"""Variant lookups through GraphQL `productVariants`, by SKU and by id, batched by query cost.

Shopify deprecated the REST product and variant endpoints, so variants are read through GraphQL.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from engine.errors import FatalError

from .client import ShopifyClient
from .queries import Search, gid, legacy_id, search, search_terms

__all__ = ["VARIANT_NODE_COST", "VARIANT_SELECTION", "find_variants", "variant_output"]

VARIANT_SELECTION = (
    "id legacyResourceId sku title displayName price inventoryQuantity "
    "inventoryItem { id legacyResourceId } product { id legacyResourceId title }"
)

# Each node: itself (1), inventoryItem (1) and product (1).
VARIANT_NODE_COST = 3

_VARIANTS = Search("FindVariants", "productVariants", VARIANT_SELECTION, VARIANT_NODE_COST)


def find_variants(client: ShopifyClient, skus: list[str], ids: list[Any]) -> dict[str, Any]:
    """Return the variants with the given SKUs or ids, and the SKUs and ids that matched none.

    A SKU that several variants share returns each of them. Money is returned as Decimal.
    """
    requested_skus = list(dict.fromkeys(str(sku) for sku in skus if str(sku).strip()))
    requested_ids = list(dict.fromkeys(legacy_id(gid("ProductVariant", value, "ids")) for value in ids))
    terms = search_terms("sku", requested_skus) + search_terms("id", requested_ids)
    if not terms:
        raise FatalError("find_variants needs at least one SKU or variant id", code="MISSING_INPUT", fields=["skus", "ids"])

    nodes = search(client, _VARIANTS, terms, {})

    sku_set, id_set = set(requested_skus), set(requested_ids)
    variants: dict[int, dict[str, Any]] = {}
    for node in nodes:
        variant = variant_output(node)
        # Shopify's search ignores case and can match more than the exact SKU, so keep exact matches only.
        if variant["sku"] in sku_set or variant["id"] in id_set:
            variants[variant["id"]] = variant

    found_skus = {variant["sku"] for variant in variants.values()}
    found_ids = set(variants)
    return {
        "variants": list(variants.values()),
        "missing_skus": [sku for sku in requested_skus if sku not in found_skus],
        "missing_ids": [number for number in requested_ids if number not in found_ids],
    }


def variant_output(node: dict[str, Any]) -> dict[str, Any]:
    """Shape a GraphQL ProductVariant node with numeric ids, as the REST orders name them."""
    item = node.get("inventoryItem") or {}
    product = node.get("product") or {}
    return {
        "id": int(node["legacyResourceId"]),
        "admin_graphql_api_id": node["id"],
        "sku": node.get("sku"),
        "title": node.get("title"),
        "display_name": node.get("displayName"),
        "price": _money(node.get("price")),
        "inventory_quantity": node.get("inventoryQuantity"),
        "inventory_item_id": int(item["legacyResourceId"]) if item.get("legacyResourceId") else None,
        "product_id": int(product["legacyResourceId"]) if product.get("legacyResourceId") else None,
        "product_title": product.get("title"),
    }


def _money(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise FatalError(f"Shopify returned a price that is not a number: {value!r}", code="INVALID_RESPONSE") from None
