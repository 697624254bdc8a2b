"""Cursor pagination for REST lists: opaque `page_info` tokens and the `Link` header.

A token is base64url-encoded JSON holding the sort order, the filters of the first request, the
position (`last_id`, `last_value`) and the direction. Because the token carries the filters, a
request with `page_info` may add only `limit` and `fields`; Shopify rejects any other parameter
with a 400, and so does the sandbox.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Callable, Sequence
from urllib.parse import quote

from connectors.sandbox.server import Request

from .errors import ApiError

__all__ = ["MAX_LIMIT", "Page", "PageRequest", "decode_token", "encode_token", "link_header", "paginate", "read_page_request"]

DEFAULT_LIMIT = 50
MAX_LIMIT = 250
_PAGE_PARAMETERS = ("limit", "fields", "page_info")
_PAGINATION_HELP = "See https://shopify.dev/api/usage/pagination-rest for more information."


@dataclass(frozen=True)
class PageRequest:
    """The requested page of a list: size, fields, filters and (for later pages) the cursor."""

    limit: int
    fields: tuple[str, ...] | None
    filters: dict[str, str]
    cursor: dict[str, Any] | None


@dataclass(frozen=True)
class Page:
    """One page of a sorted list, and whether pages exist before and after it."""

    items: list[Any]
    has_previous: bool
    has_next: bool


def encode_token(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_token(token: str) -> dict[str, Any]:
    """Decode a `page_info` token; raise ApiError 400 when it is not one the sandbox issued."""
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        payload = None
    if not isinstance(payload, dict) or payload.get("direction") not in ("next", "prev") or "last_id" not in payload:
        # NOTE: Shopify's body for a malformed page_info was not checked; the status is 400.
        raise ApiError(400, {"page_info": "Invalid value."})
    return payload


def read_page_request(request: Request) -> PageRequest:
    """Read limit, fields, page_info and filters from a list request, with Shopify's 400s."""
    limit = _read_limit(request)
    fields_text = request.arg("fields")
    fields = tuple(name.strip() for name in fields_text.split(",") if name.strip()) if fields_text else None
    token = request.arg("page_info")

    if token is None:
        filters = {name: values[0] for name, values in request.query.items() if name not in _PAGE_PARAMETERS and values}
        return PageRequest(limit, fields, filters, None)

    rejected = [name for name in request.query if name not in _PAGE_PARAMETERS]
    if rejected:
        raise ApiError(400, {name: f"{name} cannot be passed when page_info is present. {_PAGINATION_HELP}" for name in rejected})
    cursor = decode_token(token)
    return PageRequest(limit, fields, dict(cursor.get("filters", {})), cursor)


def _read_limit(request: Request) -> int:
    text = request.arg("limit")
    if text is None or text == "":
        return DEFAULT_LIMIT
    try:
        limit = int(text)
    except ValueError:
        raise ApiError(400, {"limit": "Limit must be an integer from 1 to 250"}) from None
    if limit > MAX_LIMIT:
        raise ApiError(400, "Limit exceeds maximum limit of 250")
    if limit < 1:
        # NOTE: Shopify's body for a non-numeric or non-positive limit was not checked.
        raise ApiError(400, {"limit": "Limit must be an integer from 1 to 250"})
    return limit


def paginate(
    items: Sequence[Any],
    limit: int,
    cursor: dict[str, Any] | None,
    position: Callable[[Any], tuple[Any, int]],
    cursor_position: tuple[Any, int] | None,
    descending: bool,
) -> Page:
    """Return the page of `items` (already sorted) that the cursor points at.

    `position(item)` returns an item's (sort value, id), and `cursor_position` is the cursor's.
    The id breaks ties, so a page boundary between equal values neither skips nor repeats an item.
    """
    if cursor is None or cursor_position is None:
        page = list(items[:limit])
        return Page(page, False, len(items) > limit)

    def after(item: Any) -> bool:
        key = position(item)
        return key < cursor_position if descending else key > cursor_position

    if cursor["direction"] == "next":
        start = next((index for index, item in enumerate(items) if after(item)), len(items))
        page = list(items[start : start + limit])
        return Page(page, start > 0, start + limit < len(items))

    end = next((index for index, item in enumerate(items) if after(item) or position(item) == cursor_position), len(items))
    start = max(0, end - limit)
    return Page(list(items[start:end]), start > 0, end < len(items))


def link_header(url: str, limit: int, fields: tuple[str, ...] | None, previous_token: str | None, next_token: str | None) -> str | None:
    """Return the `Link` header for a page: `<url?limit=..&page_info=..>; rel="previous", <...>; rel="next"`."""
    links = []
    for token, rel in ((previous_token, "previous"), (next_token, "next")):
        if token is None:
            continue
        query = f"limit={limit}"
        if fields:
            query += "&fields=" + quote(",".join(fields), safe=",")
        query += f"&page_info={token}"
        links.append(f'<{url}?{query}>; rel="{rel}"')
    return ", ".join(links) or None
