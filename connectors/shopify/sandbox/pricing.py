"""The arithmetic of one order in one currency: line prices, discount allocations, taxes, totals.

An order is priced twice, once in the shop currency and once in the presentment currency, each
from its own rounded unit prices. Every total is a sum of rounded parts, so totals add up exactly
in both currencies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

from .money import ZERO, allocate, parse_amount, round_cents
from .taxes import TaxRate, line_taxes

__all__ = ["DiscountCode", "PricedLine", "Pricing", "price_order"]


@dataclass(frozen=True)
class PricedLine:
    """A line as pricing sees it: its shop-currency unit price, quantity, and whether tax and discounts apply."""

    unit_price: Decimal
    quantity: int
    taxable: bool
    discountable: bool


@dataclass(frozen=True)
class DiscountCode:
    """A discount code applied across all discountable lines: a percentage or a fixed amount."""

    code: str
    value_type: str
    value: Decimal

    @classmethod
    def from_spec(cls, raw: dict[str, Any]) -> "DiscountCode":
        value_type = raw.get("type", "percentage")
        if value_type not in ("percentage", "fixed_amount"):
            raise ValueError(f"discount type {value_type!r} is invalid; use 'percentage' or 'fixed_amount'")
        value = raw["value"]
        if isinstance(value, float):
            raise TypeError(f"discount value {value!r} is a float; pass a string or Decimal")
        return cls(str(raw["code"]), value_type, Decimal(str(value)))


@dataclass
class Pricing:
    """Every amount of one order in one currency."""

    unit_prices: list[Decimal]
    allocations: list[Decimal]
    line_taxes: list[list[Decimal]]
    shipping_prices: list[Decimal]
    tax_by_rate: list[Decimal] = field(default_factory=list)
    line_items_total: Decimal = ZERO
    discounts_total: Decimal = ZERO
    subtotal: Decimal = ZERO
    tax_total: Decimal = ZERO
    shipping_total: Decimal = ZERO
    total: Decimal = ZERO


def price_order(
    lines: list[PricedLine],
    rates: tuple[TaxRate, ...],
    taxes_included: bool,
    discount: DiscountCode | None,
    shipping_prices: list[Decimal],
    convert: Callable[[Decimal], Decimal],
) -> Pricing:
    """Price an order in the currency that `convert` maps shop-currency amounts into.

    Discounts are taken off before tax. With `taxes_included`, prices contain the tax, so the
    total does not add it again; otherwise total = subtotal + shipping + tax.
    """
    unit_prices = [convert(line.unit_price) for line in lines]
    line_totals = [unit * line.quantity for unit, line in zip(unit_prices, lines)]
    allocations = _allocate_discount(discount, lines, line_totals, convert)

    taxes = [
        line_taxes(total - allocation, rates, taxes_included) if line.taxable else []
        for line, total, allocation in zip(lines, line_totals, allocations)
    ]
    shipping = [convert(price) for price in shipping_prices]

    pricing = Pricing(unit_prices, allocations, taxes, shipping)
    pricing.tax_by_rate = [sum((tax[index] for tax in taxes if tax), ZERO) for index in range(len(rates))]
    pricing.line_items_total = sum(line_totals, ZERO)
    pricing.discounts_total = sum(allocations, ZERO)
    pricing.subtotal = pricing.line_items_total - pricing.discounts_total
    pricing.tax_total = sum(pricing.tax_by_rate, ZERO)
    pricing.shipping_total = sum(shipping, ZERO)
    pricing.total = pricing.subtotal + pricing.shipping_total
    if not taxes_included:
        pricing.total += pricing.tax_total
    return pricing


def _allocate_discount(
    discount: DiscountCode | None,
    lines: list[PricedLine],
    line_totals: list[Decimal],
    convert: Callable[[Decimal], Decimal],
) -> list[Decimal]:
    if discount is None:
        return [ZERO for _ in lines]

    eligible = [total if line.discountable else ZERO for line, total in zip(lines, line_totals)]
    if discount.value_type == "percentage":
        return [round_cents(total * discount.value / 100) for total in eligible]

    amount = min(convert(parse_amount(discount.value)), sum(eligible, ZERO))
    return allocate(amount, eligible)
