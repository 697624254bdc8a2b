"""The store's products, variants, inventory items and locations, built from the shared catalogue.

Records are kept in Shopify's REST shape. A variant's `inventory_quantity` is not stored: it is
the sum of its available quantities, added when a variant is written out.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from typing import Any

from connectors.sandbox.catalog import SHOP_LOCATION_ID, CatalogVariant

from .ids import gid
from .money import format_amount

__all__ = ["POPUP_LOCATION_ID", "VENDOR", "build_catalogue", "build_locations", "handleize"]

VENDOR = "Sandbox Outfitters"
POPUP_LOCATION_ID = SHOP_LOCATION_ID + 1

_PRODUCT_TYPES = {
    "Tee": "Apparel",
    "Jacket": "Apparel",
    "Socks": "Apparel",
    "Shoe": "Footwear",
    "Mug": "Kitchen",
    "Coffee": "Grocery",
    "Pour-Over": "Kitchen",
    "Napkins": "Kitchen",
    "Gift Card": "Gift Cards",
}


def handleize(title: str) -> str:
    """Return a URL handle for a title: ASCII, lower case, words joined by hyphens."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")


def _product_type(title: str) -> str:
    for word, product_type in _PRODUCT_TYPES.items():
        if word in title:
            return product_type
    return "Accessories"


def build_locations(created_at: str) -> list[dict[str, Any]]:
    """Return the shop's two locations: the warehouse that ships online orders and a POS pop-up."""
    rows = [
        (SHOP_LOCATION_ID, "Main Warehouse", "200 Kent Avenue", "Brooklyn", "11249"),
        (POPUP_LOCATION_ID, "SoHo Pop-up", "120 Prince Street", "New York", "10012"),
    ]
    return [
        {
            "id": location_id,
            "name": name,
            "address1": address1,
            "address2": None,
            "city": city,
            "zip": zip_code,
            "province": "New York",
            "country": "US",
            "phone": "+12125550100",
            "created_at": created_at,
            "updated_at": created_at,
            "country_code": "US",
            "country_name": "United States",
            "province_code": "NY",
            "legacy": False,
            "active": True,
            "admin_graphql_api_id": gid("Location", location_id),
            "localized_country_name": "United States",
            "localized_province_name": "New York",
        }
        for location_id, name, address1, city, zip_code in rows
    ]


def build_catalogue(
    variants: list[CatalogVariant], created_at: str
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    """Return products, variants and inventory items by id, from the shared catalogue."""
    products: dict[int, dict[str, Any]] = OrderedDict()
    variant_rows: dict[int, dict[str, Any]] = OrderedDict()
    items: dict[int, dict[str, Any]] = OrderedDict()

    for entry in variants:
        product = products.get(entry.product_id)
        if product is None:
            product = _product(entry, created_at)
            products[entry.product_id] = product

        position = sum(1 for row in variant_rows.values() if row["product_id"] == entry.product_id) + 1
        variant_rows[entry.variant_id] = _variant(entry, position, created_at)
        items[entry.inventory_item_id] = _inventory_item(entry, created_at)

        option_value = entry.variant_title or "Default Title"
        product["options"][0]["values"].append(option_value)

    return products, variant_rows, items


def _product(entry: CatalogVariant, created_at: str) -> dict[str, Any]:
    if entry.variant_title is None:
        option_name = "Title"
    elif entry.gift_card:
        option_name = "Denomination"
    else:
        option_name = "Size"
    return {
        "id": entry.product_id,
        "title": entry.product_title,
        "body_html": "",
        "vendor": VENDOR,
        "product_type": _product_type(entry.product_title),
        "created_at": created_at,
        "handle": handleize(entry.product_title),
        "updated_at": created_at,
        "published_at": created_at,
        "template_suffix": None,
        "published_scope": "global",
        "tags": "",
        "status": "active",
        "admin_graphql_api_id": gid("Product", entry.product_id),
        "options": [{"id": entry.product_id + 1, "product_id": entry.product_id, "name": option_name, "position": 1, "values": []}],
        "images": [],
        "image": None,
    }


def _variant(entry: CatalogVariant, position: int, created_at: str) -> dict[str, Any]:
    title = entry.variant_title or "Default Title"
    grams = 0 if entry.gift_card else 450
    return {
        "id": entry.variant_id,
        "product_id": entry.product_id,
        "title": title,
        "price": format_amount(entry.price),
        "sku": entry.sku,
        "position": position,
        "inventory_policy": "deny",
        "compare_at_price": None,
        "option1": title,
        "option2": None,
        "option3": None,
        "created_at": created_at,
        "updated_at": created_at,
        "taxable": entry.taxable,
        "barcode": None,
        "grams": grams,
        "weight": grams / 1000,
        "weight_unit": "kg",
        "inventory_item_id": entry.inventory_item_id,
        "inventory_management": None if entry.gift_card else "shopify",
        "fulfillment_service": "manual",
        "requires_shipping": not entry.gift_card,
        "admin_graphql_api_id": gid("ProductVariant", entry.variant_id),
        "image_id": None,
    }


def _inventory_item(entry: CatalogVariant, created_at: str) -> dict[str, Any]:
    return {
        "id": entry.inventory_item_id,
        "sku": entry.sku,
        "created_at": created_at,
        "updated_at": created_at,
        "requires_shipping": not entry.gift_card,
        "cost": None,
        "country_code_of_origin": None,
        "province_code_of_origin": None,
        "harmonized_system_code": None,
        "tracked": not entry.gift_card,
        "country_harmonized_system_codes": [],
        "admin_graphql_api_id": gid("InventoryItem", entry.inventory_item_id),
    }
