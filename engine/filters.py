"""Jinja filters for mappings: exact money, dates with zones, and Salesforce field formats."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.errors import RenderError

__all__ = ["FILTERS"]


def to_decimal(value: Any) -> Decimal | None:
    """Read a money or quantity value as an exact Decimal; None stays None.

    Text such as "19.99" keeps its digits. A float is read through its shortest text form, so
    0.1 becomes Decimal("0.1") rather than the binary expansion.
    """
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise RenderError(f"cannot read the boolean {value} as a decimal")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = str(value).strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise RenderError(f"cannot read {text!r} as a decimal number") from None
    if not number.is_finite():
        raise RenderError(f"cannot use {text!r} as a decimal number: it is not finite")
    return number


def _field(item: Any, attribute: str | None) -> Any:
    if attribute is None:
        return item
    value = item
    for part in attribute.split("."):
        if isinstance(value, dict):
            if part not in value:
                raise RenderError(f"an item has no field '{part}' (summing '{attribute}')")
            value = value[part]
        else:
            value = getattr(value, part)
    return value


def sum_decimal(items: Iterable[Any] | None, attribute: str | None = None) -> Decimal:
    """Sum a field over a list exactly; `attribute` may be dotted (`price_set.shop_money.amount`).

    None values count as zero, and an empty or missing list sums to 0.
    """
    total = Decimal(0)
    for item in items or []:
        value = to_decimal(_field(item, attribute))
        if value is not None:
            total += value
    return total


def index_by(items: Iterable[Any] | None, attribute: str) -> dict[str, Any]:
    """Map each item's field (as text; the field may be dotted) to the item; a later item wins a tie."""
    return {str(_field(item, attribute)): item for item in items or []}


def round_half_up(value: Any, places: int = 2) -> Decimal | None:
    """Round to `places` decimal places, halves away from zero (2.345 gives 2.35)."""
    number = to_decimal(value)
    if number is None:
        return None
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RenderError(f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin'") from None


def to_datetime(value: Any, zone: str | None = None) -> datetime | None:
    """Parse an ISO 8601 date-time into an aware datetime.

    Text without an offset is read in `zone`; without a zone it is an error, because guessing
    the zone would shift every time by hours.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise RenderError(f"cannot read {value!r} as an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        if zone is None:
            raise RenderError(f"the date-time {value!r} has no time zone; pass one, for example to_datetime('UTC')")
        parsed = parsed.replace(tzinfo=_zone(zone))
    return parsed


def to_zone(value: Any, zone: str) -> datetime | None:
    """Convert a date-time (aware, or ISO text with an offset) to the named zone."""
    parsed = to_datetime(value)
    return None if parsed is None else parsed.astimezone(_zone(zone))


def sf_date(value: Any, zone: str | None = None) -> str | None:
    """Format for a Salesforce date field (`2026-11-02`).

    A date-time gives its calendar date in its own zone, or in `zone` when one is given.
    """
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise RenderError(f"cannot read {value!r} as a date") from None
    moment = to_datetime(value)
    if zone is not None:
        moment = moment.astimezone(_zone(zone))
    return moment.date().isoformat()


def sf_datetime(value: Any) -> str | None:
    """Format for a Salesforce date-time field, in UTC with milliseconds (`2026-11-02T14:15:00.000Z`)."""
    moment = to_datetime(value)
    if moment is None:
        return None
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def truncate_to(value: Any, length: int) -> str | None:
    """Cut text to at most `length` characters, the size of the target field, with no ellipsis."""
    if value is None:
        return None
    return str(value)[:length]


FILTERS = {
    "decimal": to_decimal,
    "sum_decimal": sum_decimal,
    "index_by": index_by,
    "round_half_up": round_half_up,
    "to_datetime": to_datetime,
    "to_zone": to_zone,
    "sf_date": sf_date,
    "sf_datetime": sf_datetime,
    "truncate_to": truncate_to,
}
