"""Money for the sandbox: Decimal arithmetic, cent rounding and Shopify's money JSON.

Shopify's REST API writes every amount as a string with two decimals ("19.99") and pairs
shop-currency and presentment-currency amounts in `*_set` objects. Amounts are Decimal from
input to output; they become strings only when an order's JSON is written.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = [
    "CENT",
    "ZERO",
    "allocate",
    "exchange_rate",
    "format_amount",
    "money_set",
    "parse_amount",
    "round_cents",
]

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# Fixed rates from one US dollar, so presentment amounts are the same on every run.
_RATES_FROM_USD = {
    "USD": Decimal("1"),
    "EUR": Decimal("0.92"),
    "GBP": Decimal("0.79"),
    "CAD": Decimal("1.37"),
    "JPY": Decimal("151"),
}


def round_cents(value: Decimal) -> Decimal:
    """Round to cents, halves away from zero."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(value: Any) -> Decimal:
    """Read an amount given as a string, int or Decimal; floats are rejected because they are inexact."""
    if isinstance(value, float):
        raise TypeError(f"amount {value!r} is a float; pass a string or Decimal")
    if isinstance(value, bool) or value is None:
        raise TypeError(f"amount {value!r} is not a number")
    return round_cents(Decimal(str(value)))


def format_amount(value: Decimal) -> str:
    """Write an amount the way Shopify's REST API does: a string with two decimals."""
    text = str(value.quantize(CENT, rounding=ROUND_HALF_UP))
    return "0.00" if text == "-0.00" else text


def money_set(shop: Decimal, shop_currency: str, presentment: Decimal, presentment_currency: str) -> dict[str, Any]:
    """Return a `*_set` object with the amount in the shop and the presentment currency."""
    return {
        "shop_money": {"amount": format_amount(shop), "currency_code": shop_currency},
        "presentment_money": {"amount": format_amount(presentment), "currency_code": presentment_currency},
    }


def exchange_rate(shop_currency: str, presentment_currency: str) -> Decimal:
    """Return how many presentment units one shop unit buys, from a fixed table.

    Raises ValueError for a currency not in the table.
    """
    try:
        return _RATES_FROM_USD[presentment_currency] / _RATES_FROM_USD[shop_currency]
    except KeyError as missing:
        known = ", ".join(sorted(_RATES_FROM_USD))
        raise ValueError(f"unsupported currency {missing.args[0]!r}; the sandbox knows {known}") from None


def allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split `total` in proportion to `weights`, rounded to cents, so the parts add up to `total` exactly.

    The rounding remainder goes to the part with the largest weight. All-zero weights get nothing.
    """
    weight_sum = sum(weights, ZERO)
    if weight_sum == 0:
        return [ZERO for _ in weights]

    parts = [round_cents(total * weight / weight_sum) for weight in weights]
    remainder = total - sum(parts, ZERO)
    if remainder:
        largest = max(range(len(weights)), key=lambda index: weights[index])
        parts[largest] += remainder
    return parts
