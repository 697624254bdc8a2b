"""Shopify's global ids (GIDs) and the numeric ids inside them."""

from __future__ import annotations

import re

__all__ = ["InvalidGlobalId", "gid", "parse_gid"]

_GID = re.compile(r"gid://shopify/(?P<kind>[A-Za-z]+)/(?P<id>\d+)(?:\?.*)?\Z")


class InvalidGlobalId(ValueError):
    """A string that is not a `gid://shopify/Kind/123` id of the expected kind."""


def gid(kind: str, number: int) -> str:
    """Return the GID of a resource, for example `gid://shopify/ProductVariant/123`."""
    return f"gid://shopify/{kind}/{number}"


def parse_gid(value: str, kind: str) -> int:
    """Return the numeric id in a GID of `kind`; raise InvalidGlobalId for any other string."""
    found = _GID.match(value or "")
    if found is None or found.group("kind") != kind:
        raise InvalidGlobalId(f"Invalid global id '{value}'")
    return int(found.group("id"))
