"""The product catalogue both sandboxes are seeded from, so Shopify variants and ERP items agree.

The same seed always gives the same catalogue. Most variants have an ERP item with the same SKU
and a row in the lookup table; a few are deliberately missing from one or both, so recipes meet
the cases a real store has: an item found only by SKU, and a SKU the ERP has never seen.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["CatalogVariant", "catalog", "SHOP_LOCATION_ID", "ERP_LOCATION_NAME"]

SHOP_LOCATION_ID = 65_000_001
ERP_LOCATION_NAME = "Main Warehouse"


@dataclass(frozen=True)
class CatalogVariant:
    """One Shopify variant and the ERP item that matches it."""

    product_id: int
    variant_id: int
    inventory_item_id: int
    sku: str
    product_title: str
    variant_title: str | None
    price: Decimal
    taxable: bool
    gift_card: bool
    item_number: str
    in_erp: bool
    in_lookup: bool
    on_hand: int


# (product title, [(variant title, sku suffix, price)], taxable, gift card, where it is known)
# "known" is "erp+lookup" (default), "erp" (ERP item by SKU only) or "none" (unknown SKU).
_HAND_PICKED = [
    ("Classic Tee", [("S", "S", "19.99"), ("M", "M", "19.99"), ("L", "L", "21.99")], True, False, "erp+lookup"),
    ("Café Crème Mug", [(None, "", "12.50")], True, False, "erp+lookup"),
    ("Größe Winter Jacket", [("M", "M", "149.00"), ("L", "L", "149.00")], True, False, "erp+lookup"),
    ("Trail Running Shoe", [("42", "42", "89.95"), ("43", "43", "89.95"), ("44", "44", "89.95")], True, False, "erp+lookup"),
    ("Organic Coffee Beans 1 kg", [(None, "", "24.00")], False, False, "erp+lookup"),
    ("Wool Socks", [("Grey", "GRY", "9.90"), ("Navy", "NVY", "9.90")], True, False, "erp"),
    ("São Paulo Tote Bag", [(None, "", "34.00")], True, False, "erp+lookup"),
    ("Ceramic Pour-Over Set", [(None, "", "58.00")], True, False, "erp+lookup"),
    ("Gift Card", [("$25", "25", "25.00"), ("$50", "50", "50.00")], False, True, "erp+lookup"),
    ("Limited Print — Kyōto", [(None, "", "75.00")], True, False, "none"),
    ("Leather Wallet", [("Brown", "BRN", "45.00"), ("Black", "BLK", "45.00")], True, False, "erp+lookup"),
    ("Yoga Mat", [(None, "", "39.99")], True, False, "erp+lookup"),
    ("Stainless Bottle 750 ml", [("Silver", "SLV", "27.50"), ("Matte Black", "MBK", "29.50")], True, False, "erp+lookup"),
    ("Linen Napkins (set of 4)", [(None, "", "22.00")], True, False, "erp"),
]


def catalog(seed: int = 7, extra_products: int = 0) -> list[CatalogVariant]:
    """Return the catalogue: the hand-picked products, then `extra_products` generated ones.

    Generated products (for benchmarks) have one to three variants, all known to the ERP and the
    lookup table. Ids are stable for a given seed.
    """
    rng = random.Random(seed)
    variants: list[CatalogVariant] = []
    product_id = 7_100_000_000_000
    variant_id = 42_000_000_000_000
    inventory_item_id = 44_000_000_000_000
    item_counter = 1000

    def add(title: str, variant_title: str | None, sku: str, price: str, taxable: bool, gift: bool, known: str) -> None:
        nonlocal variant_id, inventory_item_id, item_counter
        variant_id += rng.randint(1, 900)
        inventory_item_id += rng.randint(1, 900)
        item_counter += 1
        variants.append(
            CatalogVariant(
                product_id=product_id,
                variant_id=variant_id,
                inventory_item_id=inventory_item_id,
                sku=sku,
                product_title=title,
                variant_title=variant_title,
                price=Decimal(price),
                taxable=taxable,
                gift_card=gift,
                item_number=f"ITEM-{item_counter:05d}",
                in_erp=known in ("erp", "erp+lookup"),
                in_lookup=known == "erp+lookup",
                on_hand=rng.randint(0, 250),
            )
        )

    for index, (title, options, taxable, gift, known) in enumerate(_HAND_PICKED, start=1):
        product_id += rng.randint(1, 900)
        for variant_title, suffix, price in options:
            sku = f"SKU-{index:03d}" + (f"-{suffix}" if suffix else "")
            add(title, variant_title, sku, price, taxable, gift, known)

    for index in range(len(_HAND_PICKED) + 1, len(_HAND_PICKED) + 1 + extra_products):
        product_id += rng.randint(1, 900)
        for option in range(rng.randint(1, 3)):
            price = f"{rng.randint(5, 300)}.{rng.choice(['00', '50', '95', '99'])}"
            add(f"Generated Product {index}", f"Option {option + 1}", f"GEN-{index:06d}-{option + 1}", price, True, False, "erp+lookup")

    return variants
