"""Field values: checking what a client writes, and the form records store and return.

Stored forms: text as `str`, booleans as `bool`, numbers as `Decimal` rounded to the field's
scale, dates as `YYYY-MM-DD`, date-times in UTC as Salesforce prints them
(`2026-11-02T10:00:00.000+0000`), ids in their 18-character form. Because date and date-time
strings have a fixed width, comparing them as strings orders them in time.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .errors import ApiError
from .ids import is_id, to_18
from .schema import NUMBER_TYPES, TEXT_TYPES, Field

__all__ = [
    "coerce_input",
    "to_wire",
    "format_datetime",
    "parse_datetime",
    "parse_date",
]

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})\Z")
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?\Z"
)
# A deliberately loose check: Salesforce rejects addresses without one @ and a dotted domain.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+\Z")


def format_datetime(moment: datetime) -> str:
    """Write an aware datetime as Salesforce returns it: UTC, milliseconds, `+0000`."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime | None:
    """Read an ISO 8601 date-time (`Z`, `+hh:mm` or `+hhmm` offset; none means UTC), or return None."""
    found = _DATETIME.match(text)
    if not found:
        return None
    year, month, day, hour, minute, second, fraction, zone = found.groups()
    micro = int((fraction or "0").ljust(6, "0")[:6])
    offset = timezone.utc
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=offset)
    except ValueError:
        return None


def parse_date(text: str) -> date | None:
    found = _DATE.match(text)
    if not found:
        return None
    try:
        return date(*(int(part) for part in found.groups()))
    except ValueError:
        return None


def _wrong_type(field: Field, value: Any) -> ApiError:
    return ApiError(400, "INVALID_TYPE_ON_FIELD_IN_RECORD", f"{field.label}: value not of required type: {value}", [field.name])


def _coerce_text(field: Field, value: Any) -> str | None:
    # NOTE: JSON numbers are accepted into text fields and written as their digits, as the
    # sObject REST API does; booleans and objects are rejected.
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise _wrong_type(field, value)
    text = str(value)
    if text == "":
        return None
    if field.length and len(text) > field.length:
        raise ApiError(
            400, "STRING_TOO_LONG", f"{field.label}: data value too large: {text} (max length={field.length})", [field.name]
        )
    if field.type == "email" and not _EMAIL.match(text):
        raise ApiError(400, "INVALID_EMAIL_ADDRESS", f"{field.label}: invalid email address: {text}", [field.name])
    if field.type == "picklist" and field.picklist_values and text not in field.picklist_values:
        raise ApiError(
            400,
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{field.label}: bad value for restricted picklist field: {text}",
            [field.name],
        )
    return text


def _coerce_boolean(field: Field, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _wrong_type(field, value)


def _coerce_number(field: Field, value: Any) -> Decimal | int:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str, float)):
        raise _wrong_type(field, value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _wrong_type(field, value) from None
    if not number.is_finite():
        raise _wrong_type(field, value)

    rounded = number.quantize(Decimal(1).scaleb(-field.scale), rounding=ROUND_HALF_UP)
    integer_digits = len(str(abs(rounded).to_integral_value(rounding="ROUND_DOWN")).lstrip("0"))
    if integer_digits > field.precision - field.scale:
        raise ApiError(
            400, "NUMBER_OUTSIDE_VALID_RANGE", f"{field.label}: value outside of valid range on numeric field: {value}", [field.name]
        )
    if field.type == "int":
        return int(rounded)
    return rounded


def _coerce_date(field: Field, value: Any) -> str:
    if isinstance(value, str) and parse_date(value):
        return value
    raise _wrong_type(field, value)


def _coerce_datetime(field: Field, value: Any) -> str:
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        raise _wrong_type(field, value)
    return format_datetime(moment)


def _coerce_reference(field: Field, value: Any) -> str:
    if not isinstance(value, str) or not is_id(value):
        raise ApiError(400, "MALFORMED_ID", f"{field.label}: id value of incorrect type: {value}", [field.name])
    return to_18(value)


def coerce_input(field: Field, value: Any) -> Any:
    """Check a value a client wrote into `field` and return its stored form (None clears the field).

    Raises ApiError with Salesforce's error code when the value has the wrong type, is too long,
    is out of range or is not an allowed picklist value. Required fields are checked by the caller.
    """
    if value is None:
        return None
    if field.type in TEXT_TYPES:
        return _coerce_text(field, value)
    if field.type == "boolean":
        return _coerce_boolean(field, value)
    if field.type in NUMBER_TYPES:
        return _coerce_number(field, value)
    if field.type == "date":
        return _coerce_date(field, value)
    if field.type == "datetime":
        return _coerce_datetime(field, value)
    if field.type in ("reference", "id"):
        return _coerce_reference(field, value)
    raise _wrong_type(field, value)


def _number_out(value: Decimal) -> Decimal:
    # Salesforce returns number fields as JSON doubles: 19.9, 5.0. Keep at least one decimal
    # place and drop trailing zeros, with the exact digits of the stored Decimal.
    normalized = value.normalize()
    if normalized.as_tuple().exponent >= 0:  # type: ignore[operator]
        return normalized.quantize(Decimal("0.1"))
    return normalized


def to_wire(field: Field, value: Any) -> Any:
    """Return a stored value as the REST API writes it in JSON."""
    if value is None:
        return None
    if field.type in NUMBER_TYPES and isinstance(value, Decimal):
        return _number_out(value)
    return value
