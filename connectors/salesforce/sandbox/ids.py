"""Salesforce record ids: 15 case-sensitive characters plus a 3-character case-safe suffix.

The first three characters are the object's key prefix. The suffix encodes, for each block of
five characters, which of them are upper-case letters, so an 18-character id survives
case-insensitive handling. Salesforce accepts either length wherever an id is expected.
"""

from __future__ import annotations

import re
import string

__all__ = ["make_id", "to_18", "is_id", "key_prefix", "encode_base62"]

_SUFFIX_ALPHABET = string.ascii_uppercase + "012345"
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_ID_PATTERN = re.compile(r"[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?\Z")


def encode_base62(number: int, width: int) -> str:
    """Write a non-negative integer in base 62, left-padded with zeros to `width` characters."""
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(_BASE62[remainder])
    text = "".join(reversed(digits)) or "0"
    if len(text) > width:
        raise ValueError(f"{number} does not fit in {width} base-62 digits")
    return text.rjust(width, "0")


def _suffix(id15: str) -> str:
    letters = []
    for start in range(0, 15, 5):
        block = id15[start : start + 5]
        bits = sum(1 << position for position, char in enumerate(block) if char in string.ascii_uppercase)
        letters.append(_SUFFIX_ALPHABET[bits])
    return "".join(letters)


def make_id(prefix: str, middle: str, number: int) -> str:
    """Build an 18-character id from a 3-character key prefix, a fixed middle part and a counter."""
    body = prefix + middle
    id15 = body + encode_base62(number, 15 - len(body))
    return id15 + _suffix(id15)


def is_id(value: str) -> bool:
    """Tell whether `value` has the form of a 15- or 18-character record id."""
    return bool(_ID_PATTERN.match(value))


def to_18(value: str) -> str:
    """Return the 18-character form of a 15- or 18-character id (assumes `is_id(value)`)."""
    if len(value) == 18:
        return value[:15] + _suffix(value[:15])
    return value + _suffix(value)


def key_prefix(value: str) -> str:
    return value[:3]
