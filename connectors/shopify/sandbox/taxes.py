"""Sales tax rates by destination, and the tax on one order line.

The table is small and fixed: enough jurisdictions to give orders one, two or three tax lines and
both tax-exclusive (US) and tax-inclusive (EU VAT) prices. It is not a tax engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .money import ZERO, round_cents

__all__ = ["TaxRate", "line_taxes", "rates_for", "parse_rates"]


@dataclass(frozen=True)
class TaxRate:
    """One tax applied to a line, such as New York State Tax at 4 %."""

    title: str
    rate: Decimal


def _rates(*pairs: tuple[str, str]) -> tuple[TaxRate, ...]:
    return tuple(TaxRate(title, Decimal(rate)) for title, rate in pairs)


# (country code, province code or None for the whole country) -> taxes
_BY_DESTINATION: dict[tuple[str, str | None], tuple[TaxRate, ...]] = {
    ("US", "NY"): _rates(
        ("New York State Tax", "0.04"),
        ("New York City Tax", "0.045"),
        ("Metropolitan Commuter Transportation District", "0.00375"),
    ),
    ("US", "NJ"): _rates(("New Jersey State Tax", "0.06625")),
    ("US", "CA"): _rates(("California State Tax", "0.0725")),
    ("US", "TX"): _rates(("Texas State Tax", "0.0625"), ("Austin City Tax", "0.02")),
    ("US", None): _rates(("State Tax", "0.06")),
    ("CA", "ON"): _rates(("HST", "0.13")),
    ("CA", "QC"): _rates(("GST", "0.05"), ("QST", "0.09975")),
    ("DE", None): _rates(("DE MwSt", "0.19")),
    ("FR", None): _rates(("FR TVA", "0.2")),
    ("PL", None): _rates(("PL VAT", "0.23")),
}


def rates_for(address: dict[str, Any] | None) -> tuple[TaxRate, ...]:
    """Return the taxes for a destination address; none for a missing address or unknown country."""
    if not address:
        return ()
    country = address.get("country_code")
    province = address.get("province_code")
    return _BY_DESTINATION.get((country, province)) or _BY_DESTINATION.get((country, None)) or ()


def parse_rates(raw: list[dict[str, Any]]) -> tuple[TaxRate, ...]:
    """Read explicit tax rates given as `[{"title": ..., "rate": "0.05"}]`."""
    rates = []
    for entry in raw:
        rate = entry["rate"]
        if isinstance(rate, float):
            raise TypeError(f"tax rate {rate!r} is a float; pass a string or Decimal")
        rates.append(TaxRate(str(entry["title"]), Decimal(str(rate))))
    return tuple(rates)


def line_taxes(base: Decimal, rates: tuple[TaxRate, ...], taxes_included: bool) -> list[Decimal]:
    """Return the tax for each rate on a line whose discounted price is `base`.

    With taxes included, `base` already contains every tax, so each tax is its share of the
    gross amount: base * rate / (1 + sum of rates).
    """
    if not rates:
        return []
    if not taxes_included:
        return [round_cents(base * rate.rate) for rate in rates]

    total_rate = sum((rate.rate for rate in rates), ZERO)
    return [round_cents(base * rate.rate / (1 + total_rate)) for rate in rates]
