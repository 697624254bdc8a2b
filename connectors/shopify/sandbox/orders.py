"""Building an order in Shopify's REST shape from a short specification.

A specification names the lines (by variant id, SKU, or as a custom line with a title and price),
the customer (or none, for a guest checkout), addresses, discount code, shipping, taxes and the
presentment currency. `build_order` turns it into the full order JSON with both currencies priced.

Specification keys: line_items, customer, email, billing_address, shipping_address, source_name,
taxes_included, tax_lines, discount_code, shipping_line, presentment_currency, note, tags,
location_id, gateway.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .addresses import normalize_address
from .ids import gid
from .money import ZERO, exchange_rate, format_amount, money_set, parse_amount, round_cents
from .pricing import DiscountCode, PricedLine, Pricing, price_order
from .taxes import TaxRate, parse_rates, rates_for

if TYPE_CHECKING:
    from .state import ShopState

__all__ = ["ORDER_SPEC_KEYS", "OrderLine", "build_order", "resolve_customer"]

ORDER_SPEC_KEYS = frozenset(
    {
        "line_items",
        "customer",
        "email",
        "billing_address",
        "shipping_address",
        "source_name",
        "taxes_included",
        "tax_lines",
        "discount_code",
        "shipping_line",
        "presentment_currency",
        "note",
        "tags",
        "location_id",
        "gateway",
    }
)


@dataclass(frozen=True)
class OrderLine:
    """A requested line resolved against the catalogue; custom lines have no product or variant."""

    title: str
    variant_title: str | None
    sku: str | None
    product_id: int | None
    variant_id: int | None
    unit_price: Decimal
    quantity: int
    taxable: bool
    gift_card: bool
    requires_shipping: bool
    grams: int
    vendor: str | None

    @property
    def name(self) -> str:
        return f"{self.title} - {self.variant_title}" if self.variant_title else self.title


def build_order(state: "ShopState", spec: dict[str, Any], created_at: datetime) -> dict[str, Any]:
    """Return a new order's REST JSON, unpaid and unfulfilled, with ids taken from `state`.

    Raises ValueError for an invalid specification (unknown keys, SKUs or variants, no lines).
    """
    unknown = set(spec) - ORDER_SPEC_KEYS
    if unknown:
        raise ValueError(f"unknown order fields: {', '.join(sorted(unknown))}")
    if not spec.get("line_items"):
        raise ValueError("an order needs at least one line item")

    lines = [_resolve_line(state, raw) for raw in spec["line_items"]]
    shipping_address = normalize_address(spec.get("shipping_address"))
    billing_address = normalize_address(spec.get("billing_address")) or shipping_address
    customer = resolve_customer(state, spec.get("customer"), billing_address, created_at)

    shop_currency = state.profile.currency
    presentment_currency = spec.get("presentment_currency") or shop_currency
    rate = exchange_rate(shop_currency, presentment_currency)
    taxes_included = bool(spec.get("taxes_included", False))
    rates = _tax_rates(state, spec, shipping_address, billing_address)
    discount = DiscountCode.from_spec(spec["discount_code"]) if spec.get("discount_code") else None
    shipping_spec = spec.get("shipping_line")
    shipping_prices = [parse_amount(shipping_spec["price"])] if shipping_spec else []

    priced = [PricedLine(line.unit_price, line.quantity, line.taxable, not line.gift_card) for line in lines]
    shop = price_order(priced, rates, taxes_included, discount, shipping_prices, lambda amount: amount)
    presentment = price_order(priced, rates, taxes_included, discount, shipping_prices, lambda amount: round_cents(amount * rate))

    def pair(shop_amount: Decimal, presentment_amount: Decimal) -> dict[str, Any]:
        return money_set(shop_amount, shop_currency, presentment_amount, presentment_currency)

    order_id = state.next_id("order")
    order_number = state.next_order_number()
    stamp = state.format_time(created_at)
    token = hashlib.md5(f"order-{order_id}".encode()).hexdigest()
    email = spec.get("email") or (customer or {}).get("email")
    gateway = spec.get("gateway") or ("manual" if spec.get("source_name") != "pos" else "cash")

    line_items = [_line_json(state, index, line, shop, presentment, rates, pair) for index, line in enumerate(lines)]
    order: dict[str, Any] = {
        "id": order_id,
        "admin_graphql_api_id": gid("Order", order_id),
        "app_id": 129785 if spec.get("source_name") == "pos" else 580111,
        "browser_ip": None,
        "buyer_accepts_marketing": False,
        "cancel_reason": None,
        "cancelled_at": None,
        "cart_token": None,
        "checkout_id": None,
        "checkout_token": None,
        "client_details": None,
        "closed_at": None,
        "company": None,
        "confirmation_number": token[:9].upper(),
        "confirmed": True,
        "contact_email": email,
        "created_at": stamp,
        "currency": shop_currency,
        "current_subtotal_price": format_amount(shop.subtotal),
        "current_subtotal_price_set": pair(shop.subtotal, presentment.subtotal),
        "current_total_additional_fees_set": None,
        "current_total_discounts": format_amount(shop.discounts_total),
        "current_total_discounts_set": pair(shop.discounts_total, presentment.discounts_total),
        "current_total_duties_set": None,
        "current_total_price": format_amount(shop.total),
        "current_total_price_set": pair(shop.total, presentment.total),
        "current_total_tax": format_amount(shop.tax_total),
        "current_total_tax_set": pair(shop.tax_total, presentment.tax_total),
        "customer_locale": "en",
        "device_id": None,
        "discount_codes": _discount_codes(discount, shop),
        "duties_included": False,
        "email": email,
        "estimated_taxes": False,
        "financial_status": "pending",
        "fulfillment_status": None,
        "landing_site": None,
        "landing_site_ref": None,
        "location_id": spec.get("location_id"),
        "merchant_of_record_app_id": None,
        "name": f"#{order_number}",
        "note": spec.get("note"),
        "note_attributes": [],
        "number": order_number - 1000,
        "order_number": order_number,
        "order_status_url": f"https://{state.profile.domain}/{state.profile.shop_id}/orders/{token}/authenticate",
        "original_total_additional_fees_set": None,
        "original_total_duties_set": None,
        "payment_gateway_names": [gateway],
        "phone": None,
        "po_number": None,
        "presentment_currency": presentment_currency,
        "processed_at": stamp,
        "reference": None,
        "referring_site": None,
        "source_identifier": None,
        "source_name": spec.get("source_name", "web"),
        "source_url": None,
        "subtotal_price": format_amount(shop.subtotal),
        "subtotal_price_set": pair(shop.subtotal, presentment.subtotal),
        "tags": spec.get("tags", ""),
        "tax_exempt": False,
        "tax_lines": _order_tax_lines(rates, shop, presentment, pair),
        "taxes_included": taxes_included,
        "test": False,
        "token": token,
        "total_discounts": format_amount(shop.discounts_total),
        "total_discounts_set": pair(shop.discounts_total, presentment.discounts_total),
        "total_line_items_price": format_amount(shop.line_items_total),
        "total_line_items_price_set": pair(shop.line_items_total, presentment.line_items_total),
        "total_outstanding": format_amount(shop.total),
        "total_price": format_amount(shop.total),
        "total_price_set": pair(shop.total, presentment.total),
        "total_shipping_price_set": pair(shop.shipping_total, presentment.shipping_total),
        "total_tax": format_amount(shop.tax_total),
        "total_tax_set": pair(shop.tax_total, presentment.tax_total),
        "total_tip_received": "0.00",
        "total_weight": sum(line.grams * line.quantity for line in lines),
        "updated_at": stamp,
        "user_id": None,
        "billing_address": billing_address,
        "customer": dict(customer) if customer else None,
        "discount_applications": _discount_applications(discount),
        "fulfillments": [],
        "line_items": line_items,
        "payment_terms": None,
        "refunds": [],
        "shipping_address": shipping_address,
        "shipping_lines": _shipping_lines(state, shipping_spec, shop, presentment, pair),
    }
    return order


def resolve_customer(
    state: "ShopState", raw: dict[str, Any] | None, address: dict[str, Any] | None, at: datetime
) -> dict[str, Any] | None:
    """Return the stored customer for `raw` (by id or e-mail), creating one when it is new.

    None stands for a guest checkout.
    """
    if raw is None:
        return None

    if "id" in raw:
        customer = state.customers.get(int(raw["id"]))
        if customer is None:
            raise ValueError(f"customer {raw['id']} does not exist")
        return customer

    email = raw.get("email")
    existing = state.customer_by_email(email) if email else None
    if existing is not None:
        return existing

    customer_id = state.next_id("customer")
    stamp = state.format_time(at)
    default_address = dict(address) if address else None
    if default_address is not None:
        default_address.update({"id": state.next_id("address"), "customer_id": customer_id, "default": True})
    customer = {
        "id": customer_id,
        "email": email,
        "created_at": stamp,
        "updated_at": stamp,
        "first_name": raw.get("first_name"),
        "last_name": raw.get("last_name"),
        "state": "enabled",
        "note": None,
        "verified_email": True,
        "multipass_identifier": None,
        "tax_exempt": False,
        "phone": raw.get("phone"),
        "email_marketing_consent": {"state": "not_subscribed", "opt_in_level": "single_opt_in", "consent_updated_at": None},
        "sms_marketing_consent": None,
        "tags": "",
        "currency": state.profile.currency,
        "tax_exemptions": [],
        "admin_graphql_api_id": gid("Customer", customer_id),
        "default_address": default_address,
    }
    state.add_customer(customer)
    return customer


def _resolve_line(state: "ShopState", raw: dict[str, Any]) -> OrderLine:
    quantity = int(raw.get("quantity", 1))
    if quantity < 1:
        raise ValueError(f"line quantity must be at least 1, got {quantity}")

    variant = None
    if raw.get("variant_id") is not None:
        variant = state.variants.get(int(raw["variant_id"]))
        if variant is None:
            raise ValueError(f"variant {raw['variant_id']} does not exist")
    elif raw.get("sku"):
        variant = state.variant_by_sku(raw["sku"])
        if variant is None:
            raise ValueError(f"no variant has SKU {raw['sku']!r}")

    if variant is None:
        return _custom_line(raw, quantity)

    product = state.products[variant["product_id"]]
    price = parse_amount(raw["price"]) if raw.get("price") is not None else parse_amount(variant["price"])
    is_gift_card = product["product_type"] == "Gift Cards"
    return OrderLine(
        title=product["title"],
        variant_title=None if variant["title"] == "Default Title" else variant["title"],
        sku=variant["sku"],
        product_id=product["id"],
        variant_id=variant["id"],
        unit_price=price,
        quantity=quantity,
        taxable=variant["taxable"],
        gift_card=is_gift_card,
        requires_shipping=variant["requires_shipping"],
        grams=variant["grams"],
        vendor=product["vendor"],
    )


def _custom_line(raw: dict[str, Any], quantity: int) -> OrderLine:
    if not raw.get("title") or raw.get("price") is None:
        raise ValueError("a custom line item needs a title and a price")
    return OrderLine(
        title=str(raw["title"]),
        variant_title=None,
        sku=None,
        product_id=None,
        variant_id=None,
        unit_price=parse_amount(raw["price"]),
        quantity=quantity,
        taxable=bool(raw.get("taxable", True)),
        gift_card=False,
        requires_shipping=bool(raw.get("requires_shipping", True)),
        grams=int(raw.get("grams", 0)),
        vendor=None,
    )


def _tax_rates(
    state: "ShopState",
    spec: dict[str, Any],
    shipping_address: dict[str, Any] | None,
    billing_address: dict[str, Any] | None,
) -> tuple[TaxRate, ...]:
    if spec.get("tax_lines") is not None:
        return parse_rates(spec["tax_lines"])
    if shipping_address or billing_address:
        return rates_for(shipping_address or billing_address)
    # A counter sale with no address is taxed where the shop is.
    return rates_for(state.profile.address)


def _line_json(
    state: "ShopState",
    index: int,
    line: OrderLine,
    shop: Pricing,
    presentment: Pricing,
    rates: tuple[TaxRate, ...],
    pair: Any,
) -> dict[str, Any]:
    line_id = state.next_id("line_item")
    tax_lines = [
        {
            "channel_liable": False,
            "price": format_amount(shop_tax),
            "price_set": pair(shop_tax, presentment_tax),
            "rate": rate.rate,
            "title": rate.title,
        }
        for rate, shop_tax, presentment_tax in zip(rates, shop.line_taxes[index], presentment.line_taxes[index])
    ]
    allocations = []
    if shop.allocations[index] or presentment.allocations[index]:
        allocations.append(
            {
                "amount": format_amount(shop.allocations[index]),
                "amount_set": pair(shop.allocations[index], presentment.allocations[index]),
                "discount_application_index": 0,
            }
        )
    return {
        "id": line_id,
        "admin_graphql_api_id": gid("LineItem", line_id),
        "attributed_staffs": [],
        "current_quantity": line.quantity,
        "fulfillable_quantity": line.quantity,
        "fulfillment_service": "manual",
        "fulfillment_status": None,
        "gift_card": line.gift_card,
        "grams": line.grams,
        "name": line.name,
        "price": format_amount(shop.unit_prices[index]),
        "price_set": pair(shop.unit_prices[index], presentment.unit_prices[index]),
        "product_exists": line.product_id is not None,
        "product_id": line.product_id,
        "properties": [],
        "quantity": line.quantity,
        "requires_shipping": line.requires_shipping,
        "sku": line.sku,
        "taxable": line.taxable,
        "title": line.title,
        "total_discount": "0.00",
        "total_discount_set": pair(ZERO, ZERO),
        "variant_id": line.variant_id,
        "variant_inventory_management": "shopify" if line.variant_id and not line.gift_card else None,
        "variant_title": line.variant_title,
        "vendor": line.vendor,
        "tax_lines": tax_lines,
        "duties": [],
        "discount_allocations": allocations,
    }


def _order_tax_lines(rates: tuple[TaxRate, ...], shop: Pricing, presentment: Pricing, pair: Any) -> list[dict[str, Any]]:
    return [
        {
            "price": format_amount(shop_tax),
            "rate": rate.rate,
            "title": rate.title,
            "price_set": pair(shop_tax, presentment_tax),
            "channel_liable": False,
        }
        for rate, shop_tax, presentment_tax in zip(rates, shop.tax_by_rate, presentment.tax_by_rate)
        if shop_tax or presentment_tax
    ]


def _discount_codes(discount: DiscountCode | None, shop: Pricing) -> list[dict[str, Any]]:
    if discount is None:
        return []
    return [{"code": discount.code, "amount": format_amount(shop.discounts_total), "type": discount.value_type}]


def _discount_applications(discount: DiscountCode | None) -> list[dict[str, Any]]:
    if discount is None:
        return []
    value = discount.value if discount.value_type == "fixed_amount" else discount.value.normalize()
    return [
        {
            "target_type": "line_item",
            "type": "discount_code",
            "value": str(value if "." in str(value) else f"{value}.0"),
            "value_type": discount.value_type,
            "allocation_method": "across",
            "target_selection": "all",
            "code": discount.code,
        }
    ]


def _shipping_lines(
    state: "ShopState", spec: dict[str, Any] | None, shop: Pricing, presentment: Pricing, pair: Any
) -> list[dict[str, Any]]:
    if not spec:
        return []
    line_id = state.next_id("shipping_line")
    return [
        {
            "id": line_id,
            "carrier_identifier": None,
            "code": spec.get("code") or spec["title"],
            "discounted_price": format_amount(shop.shipping_prices[0]),
            "discounted_price_set": pair(shop.shipping_prices[0], presentment.shipping_prices[0]),
            "is_removed": False,
            "phone": None,
            "price": format_amount(shop.shipping_prices[0]),
            "price_set": pair(shop.shipping_prices[0], presentment.shipping_prices[0]),
            "requested_fulfillment_service_id": None,
            "source": "shopify",
            "title": spec["title"],
            "tax_lines": [],
            "discount_allocations": [],
        }
    ]
