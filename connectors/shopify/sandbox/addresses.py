"""Postal addresses in Shopify's REST shape, filled in from the few fields a caller gives."""

from __future__ import annotations

from typing import Any

__all__ = ["ADDRESS_FIELDS", "normalize_address"]

ADDRESS_FIELDS = (
    "first_name",
    "address1",
    "phone",
    "city",
    "zip",
    "province",
    "country",
    "last_name",
    "address2",
    "company",
    "latitude",
    "longitude",
    "name",
    "country_code",
    "province_code",
)

_COUNTRIES = {
    "US": "United States",
    "CA": "Canada",
    "DE": "Germany",
    "FR": "France",
    "GB": "United Kingdom",
    "BR": "Brazil",
    "JP": "Japan",
    "PL": "Poland",
}

_PROVINCES = {
    ("US", "NY"): "New York",
    ("US", "NJ"): "New Jersey",
    ("US", "CA"): "California",
    ("US", "TX"): "Texas",
    ("US", "WA"): "Washington",
    ("US", "IL"): "Illinois",
    ("CA", "ON"): "Ontario",
    ("CA", "QC"): "Quebec",
}


def normalize_address(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return `raw` with every field of Shopify's address shape present.

    Country and province names are filled in from their codes, and `name` from the first and last
    name. Unknown keys are rejected with ValueError so that typos in test data surface.
    """
    if raw is None:
        return None

    unknown = set(raw) - set(ADDRESS_FIELDS)
    if unknown:
        raise ValueError(f"unknown address fields: {', '.join(sorted(unknown))}")

    address: dict[str, Any] = {name: raw.get(name) for name in ADDRESS_FIELDS}
    country_code = address["country_code"]
    province_code = address["province_code"]
    if country_code and not address["country"]:
        address["country"] = _COUNTRIES.get(country_code, country_code)
    if country_code and province_code and not address["province"]:
        address["province"] = _PROVINCES.get((country_code, province_code), province_code)
    if not address["name"]:
        parts = [address["first_name"], address["last_name"]]
        address["name"] = " ".join(part for part in parts if part) or None
    return address
