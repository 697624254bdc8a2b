"""Checks of action inputs that several actions share."""

from __future__ import annotations

from typing import Any

from engine.errors import FatalError

__all__ = ["whole_number"]


def whole_number(value: Any, name: str, minimum: int = 0) -> int:
    """Return `value` as an int when it is a whole number (int, "3", Decimal 3, 3.0); raise FatalError otherwise."""
    if isinstance(value, bool):
        raise FatalError(f"{name} must be a whole number, not {value!r}", code="INVALID_INPUT", fields=[name])
    try:
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError, OverflowError):
        raise FatalError(f"{name} must be a whole number, not {value!r}", code="INVALID_INPUT", fields=[name]) from None
    if not isinstance(value, (int, str)) and number != value:
        raise FatalError(f"{name} must be a whole number, not {value!r}", code="INVALID_INPUT", fields=[name])
    if number < minimum:
        raise FatalError(f"{name} must be at least {minimum}, not {number}", code="INVALID_INPUT", fields=[name])
    return number
