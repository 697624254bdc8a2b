"""Field values on their way to Salesforce: exact numbers, dates and zoned date-times.

Request bodies are written with `engine.jsoncodec`, which writes a Decimal with its own digits.
This module makes sure every value in a record is one that codec and Salesforce accept as
meant: a float becomes the Decimal of its shortest text form (0.1 stays 0.1), a date becomes
`2026-11-02`, and an aware datetime becomes UTC with milliseconds (`2026-11-02T14:15:00.000Z`).
Text passes unchanged, so a recipe that already formatted a value keeps its format.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Mapping

from engine.errors import FatalError

__all__ = ["wire_value", "wire_record", "format_datetime"]


def format_datetime(moment: datetime) -> str:
    """Write an aware datetime as Salesforce date-time text, in UTC with milliseconds."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def wire_value(value: Any, field: str) -> Any:
    """Return `value` in the form it is sent in; raises FatalError for what cannot be sent."""
    if value is None or isinstance(value, (str, bool, int, Decimal)):
        if isinstance(value, Decimal) and not value.is_finite():
            raise FatalError(f"{field}: the number {value} cannot be sent to Salesforce", code="INVALID_INPUT", fields=[field])
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise FatalError(
                f"{field}: the date-time {value.isoformat()} has no time zone; convert it with to_datetime or sf_datetime",
                code="INVALID_INPUT",
                fields=[field],
            )
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        # A relationship by external id, such as {"Shopify_Order_Id__c": "5001"} under PBSI__Sales_Order__r.
        return {key: wire_value(item, f"{field}.{key}") for key, item in value.items()}
    raise FatalError(f"{field}: a {type(value).__name__} cannot be sent as a field value", code="INVALID_INPUT", fields=[field])


def wire_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """Return a record (already keyed by API names) with every value in its wire form."""
    return {name: wire_value(value, name) for name, value in record.items()}
