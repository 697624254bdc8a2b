"""The seeded store: the shared catalogue, stock at two locations, and hand-made orders.

The same seed always gives the same data. Each of the 26 hand-made orders (#1001 to #1026) covers
a case that a connector must handle. `SEEDED_CASES` names them, so tests can look an order up by
case, and docs/sandbox-shopify.md lists them. `extra_orders` adds generated orders for benchmarks, dated
before the hand-made ones so those stay the most recent.
"""

from __future__ import annotations

import gc
import math
import random
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from connectors.sandbox.catalog import SHOP_LOCATION_ID, catalog

from .catalogue import POPUP_LOCATION_ID, build_catalogue, build_locations
from .clock import Clock
from .state import ShopProfile, ShopState

__all__ = ["SEEDED_CASES", "SeededCase", "seed_state"]

_ZONE = ZoneInfo("America/New_York")
_CATALOGUE_CREATED = datetime(2026, 9, 1, 9, 0, tzinfo=_ZONE)


class SeededCase:
    """One hand-made order: the case it covers, its name and a description for the docs."""

    def __init__(self, key: str, name: str, description: str) -> None:
        self.key = key
        self.name = name
        self.description = description


def _local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=_ZONE)


def _address(first: str, last: str, address1: str, city: str, zip_code: str, country: str, province: str | None, **extra: Any) -> dict[str, Any]:
    address = {"first_name": first, "last_name": last, "address1": address1, "city": city, "zip": zip_code, "country_code": country, "province_code": province}
    address.update(extra)
    return address


_AVA = {"first_name": "Ava", "last_name": "Thompson", "email": "ava.thompson@example.com", "phone": "+17185550101"}
_AVA_HOME = _address("Ava", "Thompson", "45 Joralemon Street", "Brooklyn", "11201", "US", "NY", phone="+17185550101")
_AVA_NEW_HOME = _address("Ava", "Thompson", "310 West 86th Street", "New York", "10024", "US", "NY", address2="Apt 5B", phone="+17185550101")
_JOSE = {"first_name": "José", "last_name": "Müller", "email": "jose.muller@example.com"}
_JOSE_HOME = _address("José", "Müller", "18 Ferry Street", "Newark", "07105", "US", "NJ")
_ZOE = {"first_name": "Zoë", "last_name": "Łukasiewicz", "email": "zoe.lukasiewicz@example.de"}
_ZOE_HOME = _address("Zoë", "Łukasiewicz", "Schönhauser Allee 36", "Berlin", "10435", "DE", None)
_PRIYA = {"first_name": "Priya", "last_name": "Raman", "email": "priya@brightline-studio.example"}
_PRIYA_OFFICE = _address("Priya", "Raman", "350 Fifth Avenue", "New York", "10118", "US", "NY", address2="Suite 4410", company="Brightline Studio LLC")
_MATEO = {"first_name": "Mateo", "last_name": "García Ortiz", "email": "mateo.garcia@example.com"}
_MATEO_HOME = _address("Mateo", "García Ortiz", "1200 Sunset Boulevard", "Los Angeles", "90026", "US", "CA")
_SAKURA = {"first_name": "Sakura", "last_name": "Tanaka", "email": "sakura.tanaka@example.com"}
_SAKURA_HOME = _address("Sakura", "Tanaka", "77 Pine Street", "Seattle", "98101", "US", "WA")
_LIAM = {"first_name": "Liam", "last_name": "O'Connor", "email": "liam.oconnor@example.com"}
_LIAM_HOME = _address("Liam", "O'Connor", "2100 Guadalupe Street", "Austin", "78705", "US", "TX")
_CHLOE = {"first_name": "Chloé", "last_name": "Dubois", "email": "chloe.dubois@example.com"}
_CHLOE_HOME = _address("Chloé", "Dubois", "233 South Wacker Drive", "Chicago", "60606", "US", "IL")
_NOAH = {"first_name": "Noah", "last_name": "Williams", "email": "noah.williams@example.com"}
_NOAH_HOME = _address("Noah", "Williams", "500 Washington Street", "Jersey City", "07302", "US", "NJ")

_STANDARD = {"title": "Standard Shipping", "code": "STANDARD", "price": "5.95"}
_EXPRESS = {"title": "Express Shipping", "code": "EXPRESS", "price": "14.95"}
_INTERNATIONAL = {"title": "DHL Express International", "code": "DHL_EXPRESS", "price": "19.00"}
_FREE = {"title": "Free Shipping", "code": "FREE", "price": "0.00"}


def _line(sku: str, quantity: int = 1) -> dict[str, Any]:
    return {"sku": sku, "quantity": quantity}


def _web(customer: dict[str, Any] | None, address: dict[str, Any], lines: list[dict[str, Any]], shipping: dict[str, Any] = _STANDARD, **extra: Any) -> dict[str, Any]:
    spec = {
        "customer": customer,
        "shipping_address": address,
        "billing_address": address,
        "line_items": lines,
        "shipping_line": shipping,
        "source_name": "web",
        "gateway": "shopify_payments",
    }
    spec.update(extra)
    return spec


_PAID = {"kind": "sale"}
_AUTHORIZED = {"kind": "authorization"}

# (key, description, created at, specification, payment at creation)
_CASES: list[tuple[str, str, datetime, dict[str, Any], dict[str, Any] | None]] = [
    ("multi_tax_lines", "New York order: each taxable line has three tax lines (state, city, MCTD); paid",
     _local(10, 5, 9, 15), _web(_AVA, _AVA_HOME, [_line("SKU-001-M", 2), _line("SKU-002")]), _PAID),
    ("guest_checkout", "Guest checkout: `customer` is null, only an e-mail; pending manual payment",
     _local(10, 6, 14, 2), _web(None, _address("Jordan", "Lee", "1415 L Street", "Sacramento", "95814", "US", "CA"), [_line("SKU-012")], email="guest.buyer@example.net", gateway="manual"), None),
    ("pos_order", "POS sale at the SoHo Pop-up (`source_name` pos, `location_id` set), no shipping address, fulfilled on the spot; repeat customer",
     _local(10, 7, 11, 30), {"customer": _AVA, "line_items": [_line("SKU-005", 2), _line("SKU-013-SLV")], "source_name": "pos", "location_id": POPUP_LOCATION_ID, "gateway": "cash"}, _PAID),
    ("business_customer", "Business customer: billing and shipping address carry the company Brightline Studio LLC",
     _local(10, 8, 10, 5), _web(_PRIYA, _PRIYA_OFFICE, [_line("SKU-008", 3), _line("SKU-011-BLK", 5)], _EXPRESS), _PAID),
    ("discount_code_percentage", "Discount code WELCOME10 (10 %) with `discount_allocations` on each line; includes Wool Socks, known to the ERP by SKU only",
     _local(10, 9, 19, 45), _web(_JOSE, _JOSE_HOME, [_line("SKU-004-43"), _line("SKU-006-NVY", 3)], discount_code={"code": "WELCOME10", "type": "percentage", "value": "10"}), _PAID),
    ("presentment_eur", "Presentment currency EUR, shop currency USD (every `*_set` in both), taxes included (DE VAT 19 %), non-ASCII names and address",
     _local(10, 11, 8, 20), _web(_ZOE, _ZOE_HOME, [_line("SKU-003-M"), _line("SKU-007")], _INTERNATIONAL, presentment_currency="EUR", taxes_included=True), _PAID),
    ("custom_line_item", "Custom line item (no product_id, no variant_id, no SKU) beside a catalogue line",
     _local(10, 12, 16, 10), _web(_MATEO, _MATEO_HOME, [{"title": "Monogram engraving — gold foil", "price": "12.00", "quantity": 1, "requires_shipping": False}, _line("SKU-011-BRN")]), _PAID),
    ("gift_card_line", "Gift card line (`gift_card` true, not taxable, no shipping) beside a taxable line",
     _local(10, 14, 12, 0), _web(_SAKURA, _SAKURA_HOME, [_line("SKU-009-50"), _line("SKU-001-L")]), _PAID),
    ("partially_paid", "Partially paid: one sale of 100.00 against a larger total; Texas, two tax lines",
     _local(10, 15, 15, 40), _web(_LIAM, _LIAM_HOME, [_line("SKU-003-L", 2)], _EXPRESS, gateway="manual"), {"kind": "sale", "amount": "100.00"}),
    ("partially_refunded", "Paid, then one of two shoes refunded: a refund with a refund transaction, current totals lowered; repeat customer",
     _local(10, 17, 10, 25), _web(_JOSE, _JOSE_HOME, [_line("SKU-004-42", 2), _line("SKU-012")]), _PAID),
    ("unknown_sku", "SKU unknown to the ERP (Limited Print — Kyōto, catalogue `in_erp=False`)",
     _local(10, 18, 21, 5), _web(_MATEO, _MATEO_HOME, [_line("SKU-010")]), _PAID),
    ("erp_only_skus", "SKUs the ERP knows but its lookup table does not (Linen Napkins, Wool Socks)",
     _local(10, 20, 9, 50), _web(_CHLOE, _CHLOE_HOME, [_line("SKU-014", 2), _line("SKU-006-GRY", 2)]), _PAID),
    ("address_updated", "Shipping address changed a day after the order (`updated_at` later than `created_at`); repeat customer",
     _local(10, 22, 13, 30), _web(_AVA, _AVA_HOME, [_line("SKU-013-MBK", 2)]), _PAID),
    ("updated_at_tie_a", "Shares its `updated_at` with updated_at_tie_b (both tagged in one bulk edit)",
     _local(10, 25, 11, 0), _web(_NOAH, _NOAH_HOME, [_line("SKU-002", 4)]), _PAID),
    ("updated_at_tie_b", "Shares its `updated_at` with updated_at_tie_a",
     _local(10, 26, 17, 20), _web(_PRIYA, _PRIYA_OFFICE, [_line("SKU-012", 2)]), _PAID),
    ("authorized", "Payment authorized, not captured (`financial_status` authorized)",
     _local(10, 29, 18, 0), _web(_SAKURA, _SAKURA_HOME, [_line("SKU-004-44")]), _AUTHORIZED),
    ("cancelled", "Cancelled by the customer; the authorization was voided (status cancelled, `financial_status` voided)",
     _local(10, 30, 9, 0), _web(_LIAM, _LIAM_HOME, [_line("SKU-001-S", 3)]), _AUTHORIZED),
    ("closed", "Paid, fulfilled and closed (status closed); times after the switch to EST (-05:00)",
     _local(11, 1, 10, 0), _web(_CHLOE, _CHLOE_HOME, [_line("SKU-008")]), _PAID),
    ("partially_fulfilled", "One of two lines fulfilled with tracking (`fulfillment_status` partial)",
     _local(11, 2, 9, 15), _web(_NOAH, _NOAH_HOME, [_line("SKU-005"), _line("SKU-011-BRN")]), _PAID),
    ("fixed_amount_discount", "Discount code SAVE5 (5.00 off) split across lines in proportion to their prices",
     _local(11, 3, 12, 45), _web(_MATEO, _MATEO_HOME, [_line("SKU-001-M"), _line("SKU-002")], discount_code={"code": "SAVE5", "type": "fixed_amount", "value": "5.00"}), _PAID),
    ("several_quantities", "Several units per line, Texas tax lines, express shipping",
     _local(11, 4, 16, 30), _web(_LIAM, _LIAM_HOME, [_line("SKU-013-SLV", 3), _line("SKU-012")], _EXPRESS), _PAID),
    ("guest_canada", "Second guest checkout, shipped to Ontario (HST 13 %); pending manual payment",
     _local(11, 5, 10, 10), _web(None, _address("Émile", "Tremblay", "100 Queen Street West", "Toronto", "M5H 2N2", "CA", "ON"), [_line("SKU-008")], _INTERNATIONAL, email="emile.tremblay@example.ca", gateway="manual"), None),
    ("free_shipping", "Free shipping line (price 0.00); repeat customer's third order",
     _local(11, 6, 11, 11), _web(_JOSE, _JOSE_HOME, [_line("SKU-003-M")], _FREE), _PAID),
    ("gift_cards_only", "Only gift cards: no tax lines, no line requires shipping",
     _local(11, 7, 8, 30), _web(_AVA, _AVA_HOME, [_line("SKU-009-25", 2)], _FREE), _PAID),
    ("order_note", "Order with a note and tags; business customer's third order",
     _local(11, 8, 14, 0), _web(_PRIYA, _PRIYA_OFFICE, [_line("SKU-014", 6)], note="Deliver to reception, 44th floor.", tags="b2b, net-30"), _PAID),
    ("recent_pending", "Most recent order, payment pending",
     _local(11, 9, 20, 30), _web(_SAKURA, _SAKURA_HOME, [_line("SKU-007"), _line("SKU-004-42")], gateway="manual"), None),
]

SEEDED_CASES: dict[str, SeededCase] = {
    key: SeededCase(key, f"#{1001 + index}", description) for index, (key, description, _, _, _) in enumerate(_CASES)
}


def seed_state(seed: int = 7, extra_orders: int = 0, profile: ShopProfile | None = None, clock: Clock | None = None) -> ShopState:
    """Return a freshly seeded store: catalogue, stock, the hand-made orders, then `extra_orders`."""
    state = ShopState(profile, clock)
    rng = random.Random(seed)
    _seed_catalogue(state, seed)

    for key, _, created_at, spec, payment in _CASES:
        order = state.add_order(spec, created_at, payment)
        _after_creation(state, key, order)

    if extra_orders:
        # The generated orders are millions of small objects that all stay alive, so the cyclic
        # garbage collector keeps rescanning them. Pausing it took 10,000 orders from about 6 s
        # to under 2 s on the development machine (one measurement).
        collecting = gc.isenabled()
        gc.disable()
        try:
            _seed_extra_orders(state, rng, extra_orders)
        finally:
            if collecting:
                gc.enable()
    return state


def _seed_catalogue(state: ShopState, seed: int) -> None:
    created = state.format_time(_CATALOGUE_CREATED)
    entries = catalog(seed)
    products, variants, items = build_catalogue(entries, created)
    state.load_catalogue(products, variants, items, build_locations(created))

    for entry in entries:
        state.connect_inventory(entry.inventory_item_id, SHOP_LOCATION_ID, _CATALOGUE_CREATED, on_hand=entry.on_hand)
    # The pop-up stocks a few everyday items for counter sales.
    for entry in entries:
        if entry.sku in ("SKU-002", "SKU-005", "SKU-012", "SKU-013-SLV", "SKU-013-MBK"):
            state.connect_inventory(entry.inventory_item_id, POPUP_LOCATION_ID, _CATALOGUE_CREATED, on_hand=24)


def _after_creation(state: ShopState, key: str, order: dict[str, Any]) -> None:
    """Apply the changes that make a case: refunds, address edits, fulfillments, cancellation."""
    order_id = order["id"]
    lines = order["line_items"]

    if key == "pos_order":
        _fulfil(state, order_id, None, _order_created(order))
    elif key == "partially_refunded":
        state.refund_line(order_id, lines[0]["id"], 1, _local(10, 24, 13, 0))
    elif key == "address_updated":
        state.update_order(order_id, {"shipping_address": _AVA_NEW_HOME}, _local(10, 23, 10, 0))
    elif key in ("updated_at_tie_a", "updated_at_tie_b"):
        state.update_order(order_id, {"tags": "holiday-campaign"}, _local(10, 28, 12, 0))
    elif key == "cancelled":
        state.cancel_order(order_id, "customer", _local(10, 30, 15, 0))
    elif key == "closed":
        _fulfil(state, order_id, None, _local(11, 2, 9, 15), {"number": "1Z999AA10123456784", "company": "UPS", "url": "https://www.ups.com/track?tracknum=1Z999AA10123456784"})
        state.close_order(order_id, _local(11, 3, 8, 0))
    elif key == "partially_fulfilled":
        _fulfil(state, order_id, [1], _local(11, 3, 14, 0), {"number": "9400100000000000000000", "company": "USPS", "url": None})


def _order_created(order: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(order["created_at"])


def _fulfil(state: ShopState, order_id: int, line_indexes: list[int] | None, at: datetime, tracking: dict[str, Any] | None = None) -> None:
    fulfillment_order = state.fulfillment_orders_of(order_id)[0]
    group: dict[str, Any] = {"fulfillment_order_id": fulfillment_order["id"]}
    if line_indexes is not None:
        group["fulfillment_order_line_items"] = [
            {"id": fulfillment_order["line_items"][index]["id"], "quantity": fulfillment_order["line_items"][index]["quantity"]}
            for index in line_indexes
        ]
    body = {"line_items_by_fulfillment_order": [group], "tracking_info": tracking or {}, "notify_customer": False}
    state.create_fulfillment({"fulfillment": body}, at)


_FIRST_NAMES = ["Olivia", "Lucas", "Amara", "Kenji", "Sofía", "Mehmet", "Ingrid", "Tomás", "Aisha", "Björn", "Mei", "Rafael", "Nadia", "Oskar", "Leïla", "Dmitri"]
_LAST_NAMES = ["Nguyen", "Schmidt", "Okafor", "Kowalski", "Rossi", "Haddad", "Johansson", "Pereira", "Kim", "Novák", "Fischer", "Moreau", "Silva", "Yılmaz"]
_CITIES = [
    ("Brooklyn", "11215", "NY"),
    ("Hoboken", "07030", "NJ"),
    ("San Diego", "92101", "CA"),
    ("Houston", "77002", "TX"),
    ("Spokane", "99201", "WA"),
    ("Evanston", "60201", "IL"),
]


def _seed_extra_orders(state: ShopState, rng: random.Random, count: int) -> None:
    """Add `count` generated orders: 1 to 50 lines (3 on average), 30 % from returning customers."""
    variants = [variant for variant in state.variants.values() if variant["inventory_management"] == "shopify"]
    start = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)
    span_seconds = int((datetime(2026, 9, 30, 20, 0, tzinfo=timezone.utc) - start).total_seconds())
    moments = sorted(start + timedelta(seconds=rng.randrange(span_seconds)) for _ in range(count))
    returning: list[tuple[dict[str, Any], dict[str, Any]]] = []
    # A geometric number of lines with mean 3: P(k) = (2/3)^(k-1) / 3.
    line_rate = math.log(1.5)

    for index, moment in enumerate(moments):
        if returning and rng.random() < 0.3:
            customer, address = rng.choice(returning)
        else:
            customer, address = _new_customer(rng, index)
            returning.append((customer, address))

        line_count = min(50, 1 + int(rng.expovariate(line_rate)))
        picked = rng.sample(variants, min(line_count, len(variants))) if line_count <= len(variants) else [rng.choice(variants) for _ in range(line_count)]
        lines = [{"variant_id": variant["id"], "quantity": rng.randint(1, 3)} for variant in picked]
        paid = rng.random() < 0.85
        spec = _web(customer, address, lines)
        state.add_order(spec, moment, _PAID if paid else None)


def _new_customer(rng: random.Random, index: int) -> tuple[dict[str, Any], dict[str, Any]]:
    first = rng.choice(_FIRST_NAMES)
    last = rng.choice(_LAST_NAMES)
    city, zip_code, province = rng.choice(_CITIES)
    customer = {"first_name": first, "last_name": last, "email": f"customer{index:05d}@example.org"}
    address = _address(first, last, f"{rng.randint(1, 999)} Main Street", city, zip_code, "US", province)
    return customer, address
