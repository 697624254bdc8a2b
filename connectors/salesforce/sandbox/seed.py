"""The org's starting data, built from the shared product catalogue.

The same seed always gives the same records, ids and timestamps: seeded records carry a fixed
creation time (`SEED_TIME`) rather than the clock, so two sandboxes seeded alike are equal.
"""

from __future__ import annotations

from connectors.sandbox.catalog import ERP_LOCATION_NAME, catalog

from .records import RecordStore
from .schema import SCHEMA

__all__ = ["seed_store", "SEED_TIME", "ITEM_GROUP_NAME", "REPEAT_CUSTOMERS"]

SEED_TIME = "2026-01-01T00:00:00.000+0000"
ITEM_GROUP_NAME = "Default"

# Existing customers, so recipes meet an Account and Contact that are already there.
REPEAT_CUSTOMERS = [
    {
        "shopify_customer_id": "8100000000001",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "city": "London",
        "country": "United Kingdom",
    },
    {
        "shopify_customer_id": "8100000000002",
        "first_name": "José",
        "last_name": "Núñez",
        "email": "jose.nunez@example.com",
        "city": "São Paulo",
        "country": "Brazil",
    },
]


def _insert(store: RecordStore, object_name: str, fields: dict[str, object]) -> str:
    return store._create(SCHEMA[object_name], fields, faults=False, timestamp=SEED_TIME)


def seed_store(store: RecordStore, seed: int = 7, extra_items: int = 0) -> None:
    """Fill an empty store: item group, location, items, inventory, item map rows and customers."""
    with store.lock, store.transaction():
        group_id = _insert(store, "PBSI__PBSI_Item_Group__c", {"Name": ITEM_GROUP_NAME})
        location_id = _insert(
            store, "PBSI__PBSI_Location__c", {"Name": ERP_LOCATION_NAME, "PBSI__description__c": "Ships every web order"}
        )

        for variant in catalog(seed=seed, extra_products=extra_items):
            if not variant.in_erp:
                continue
            description = variant.product_title + (f" - {variant.variant_title}" if variant.variant_title else "")
            item_id = _insert(
                store,
                "PBSI__PBSI_Item__c",
                {
                    "Name": variant.item_number,
                    "PBSI__Vendor_Item_ID__c": variant.sku,
                    "Shopify_SKU__c": variant.sku,
                    "PBSI__description__c": description,
                    "PBSI__salesprice__c": variant.price,
                    "PBSI__Item_Group__c": group_id,
                    "PBSI__Default_Location__c": location_id,
                    "PBSI__Taxable__c": variant.taxable,
                    "PBSI__Item_Status__c": "Active",
                    "PBSI__Quantity_On_Hand__c": variant.on_hand,
                    "PBSI__Available_To_Promise__c": variant.on_hand,
                },
            )
            _insert(
                store,
                "PBSI__PBSI_Inventory__c",
                {
                    "PBSI__item_lookup__c": item_id,
                    "PBSI__location_lookup__c": location_id,
                    "PBSI__Quantity_Available__c": variant.on_hand,
                },
            )
            if variant.in_lookup:
                _insert(
                    store,
                    "Shopify_Item_Map__c",
                    {
                        "Shopify_Variant_Id__c": str(variant.variant_id),
                        "Shopify_Product_Id__c": str(variant.product_id),
                        "PBSI__Item__c": item_id,
                    },
                )

        for customer in REPEAT_CUSTOMERS:
            account_id = _insert(
                store,
                "Account",
                {
                    "Name": f"{customer['first_name']} {customer['last_name']}",
                    "BillingCity": customer["city"],
                    "BillingCountry": customer["country"],
                    "Shopify_Customer_Id__c": customer["shopify_customer_id"],
                },
            )
            _insert(
                store,
                "Contact",
                {
                    "FirstName": customer["first_name"],
                    "LastName": customer["last_name"],
                    "Email": customer["email"],
                    "AccountId": account_id,
                    "MailingCity": customer["city"],
                    "MailingCountry": customer["country"],
                    "Shopify_Customer_Id__c": customer["shopify_customer_id"],
                },
            )
