"""Fulfil order lines through the order's fulfillment orders, idempotently.

Shopify fulfils fulfillment order lines, not order lines: each order line is split over the
fulfillment orders of the locations that ship it. The connector reads them and requests no more
than a line's open (fulfillable) quantity, with one fulfillment per location.

A repeat is a no-op that returns the fulfillment made the first time. With a tracking number, the
repeat is an earlier fulfillment with that number whose lines are what the first call would have
sent; when no lines are given, the number alone decides. Two parcels of one shipment may share a
tracking number, so a match on the number alone would drop the second parcel's lines. Without a
tracking number, the repeat is an earlier untracked fulfillment with exactly the requested lines
and quantities. Failing both, a request with nothing left open returns the earlier fulfillment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from engine.errors import FatalError

from .client import ShopifyClient
from .inputs import whole_number

__all__ = ["create_fulfillment"]

log = logging.getLogger(__name__)

_FULFILLABLE_STATUSES = ("open", "in_progress")
_LIVE_FULFILLMENT_STATUSES = ("success", "pending", "open")


@dataclass
class _Request:
    """One requested order line: how many units were asked for and how many will be sent."""

    line_item_id: int
    requested: int
    sent: int = 0


def create_fulfillment(client: ShopifyClient, inputs: dict[str, Any]) -> dict[str, Any]:
    """Fulfil the requested lines (all open lines when none are given) and return the fulfillments.

    Output: `created` (False for a repeat), `fulfillment` (the first one, or None), `fulfillments`,
    and `lines`, each with the requested and the sent quantity. A line requested beyond its open
    quantity is sent only what is open.
    """
    order_id = whole_number(inputs["order_id"], "order_id", 1)
    fulfillment_orders = client.get(f"orders/{order_id}/fulfillment_orders.json").body.get("fulfillment_orders") or []
    existing = [
        fulfillment
        for fulfillment in client.get(f"orders/{order_id}/fulfillments.json").body.get("fulfillments") or []
        if fulfillment.get("status") in _LIVE_FULFILLMENT_STATUSES
    ]
    tracking = _tracking(inputs)
    requests = _requested_lines(inputs.get("lines"), fulfillment_orders)

    repeat = _earlier_fulfillment(existing, tracking, requests, bool(inputs.get("lines")), _open_units(fulfillment_orders))
    if repeat is not None:
        log.debug("shopify create_fulfillment for order %s: fulfillment %s exists, nothing sent", order_id, repeat.get("id"))
        return _output(False, [repeat], requests)

    groups = _allocate(requests, fulfillment_orders)
    if not groups:
        return _nothing_open(order_id, requests, existing)

    created = []
    for location_id, by_fulfillment_order in groups.items():
        body = {
            "fulfillment": {
                "line_items_by_fulfillment_order": [
                    {"fulfillment_order_id": fulfillment_order_id, "fulfillment_order_line_items": [{"id": line_id, "quantity": quantity} for line_id, quantity in lines]}
                    for fulfillment_order_id, lines in by_fulfillment_order.items()
                ],
                "tracking_info": tracking,
                "notify_customer": bool(inputs.get("notify_customer", False)),
            }
        }
        fulfillment = client.post("fulfillments.json", body).body.get("fulfillment") or {}
        log.debug("shopify order %s: fulfillment %s created at location %s", order_id, fulfillment.get("id"), location_id)
        created.append(fulfillment)
    return _output(True, created, requests)


def _tracking(inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": inputs.get("tracking_number") or None,
        "company": inputs.get("tracking_company") or None,
        "url": inputs.get("tracking_url") or None,
    }


def _requested_lines(lines: Any, fulfillment_orders: list[dict[str, Any]]) -> list[_Request]:
    """Return the requested order lines; with no lines given, every line with open units, in full."""
    known = {line["line_item_id"] for fulfillment_order in fulfillment_orders for line in fulfillment_order.get("line_items") or []}
    if not lines:
        open_units = _open_units(fulfillment_orders)
        return [_Request(line_item_id, quantity) for line_item_id, quantity in open_units.items() if quantity > 0]

    requests: dict[int, _Request] = {}
    for index, line in enumerate(lines):
        line_item_id = whole_number(line.get("line_item_id"), f"lines.{index}.line_item_id", 1)
        quantity = whole_number(line.get("quantity"), f"lines.{index}.quantity", 1)
        if line_item_id not in known:
            raise FatalError(f"order line {line_item_id} is not a line of this order", code="INVALID_LINE_ITEM", fields=[f"lines.{index}.line_item_id"])
        request = requests.setdefault(line_item_id, _Request(line_item_id, 0))
        request.requested += quantity
    return list(requests.values())


def _open_units(fulfillment_orders: list[dict[str, Any]]) -> dict[int, int]:
    units: dict[int, int] = {}
    for fulfillment_order in fulfillment_orders:
        if not _fulfillable(fulfillment_order):
            continue
        for line in fulfillment_order.get("line_items") or []:
            units[line["line_item_id"]] = units.get(line["line_item_id"], 0) + int(line.get("fulfillable_quantity") or 0)
    return units


def _fulfillable(fulfillment_order: dict[str, Any]) -> bool:
    actions = fulfillment_order.get("supported_actions")
    return fulfillment_order.get("status") in _FULFILLABLE_STATUSES and (actions is None or "create_fulfillment" in actions)


def _earlier_fulfillment(
    existing: list[dict[str, Any]], tracking: dict[str, Any], requests: list[_Request], lines_given: bool, open_units: dict[int, int]
) -> dict[str, Any] | None:
    """Return the fulfillment a repeat of this request would duplicate, or None."""
    number = tracking.get("number")
    requested_lines = {request.line_item_id: request.requested for request in requests}
    if number:
        tracked = [f for f in existing if number == f.get("tracking_number") or number in (f.get("tracking_numbers") or [])]
        if not lines_given:
            return next(iter(tracked), None)
        # NOTE: a second parcel with the same tracking number and the same lines and units as the
        # first is indistinguishable from a repeat, and is treated as one.
        return next((f for f in tracked if _sent_by_this_request(_shipped_lines(f), requested_lines, open_units)), None)
    if not lines_given:
        return None
    for fulfillment in existing:
        if fulfillment.get("tracking_number") or fulfillment.get("tracking_numbers"):
            continue
        if _shipped_lines(fulfillment) == requested_lines:
            return fulfillment
    return None


def _shipped_lines(fulfillment: dict[str, Any]) -> dict[int, int]:
    """Return the units a fulfillment contains, by order line id."""
    shipped: dict[int, int] = {}
    for line in fulfillment.get("line_items") or []:
        shipped[line["id"]] = shipped.get(line["id"], 0) + int(line.get("quantity") or 0)
    return shipped


def _sent_by_this_request(shipped: dict[int, int], requested: dict[int, int], open_units: dict[int, int]) -> bool:
    """Tell whether `shipped` is what an earlier call with this request could have sent.

    That call sent each requested line in full, or all that was open of it, after which nothing of
    the line is open. A line it left out had nothing open. Open units of a line that was sent
    short, or left out, therefore mean another parcel.
    """
    if any(line_id not in requested for line_id in shipped):
        return False
    for line_id, units in requested.items():
        sent = shipped.get(line_id, 0)
        if sent > units or (sent < units and open_units.get(line_id, 0) > 0):
            return False
    return True


def _allocate(requests: list[_Request], fulfillment_orders: list[dict[str, Any]]) -> dict[int, dict[int, list[tuple[int, int]]]]:
    """Spread each request over the open fulfillment order lines, never beyond their open quantity.

    Returns {location id: {fulfillment order id: [(fulfillment order line id, quantity)]}}.
    """
    groups: dict[int, dict[int, list[tuple[int, int]]]] = {}
    for request in requests:
        left = request.requested
        for fulfillment_order in fulfillment_orders:
            if left == 0 or not _fulfillable(fulfillment_order):
                continue
            for line in fulfillment_order.get("line_items") or []:
                open_quantity = int(line.get("fulfillable_quantity") or 0)
                if line["line_item_id"] != request.line_item_id or open_quantity == 0 or left == 0:
                    continue
                quantity = min(left, open_quantity)
                location = groups.setdefault(int(fulfillment_order.get("assigned_location_id") or 0), {})
                location.setdefault(fulfillment_order["id"], []).append((line["id"], quantity))
                request.sent += quantity
                left -= quantity
    return groups


def _nothing_open(order_id: int, requests: list[_Request], existing: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the earlier fulfillments of the requested lines, or raise when none was ever fulfilled."""
    requested_lines = {request.line_item_id for request in requests}
    # With no lines given and none open, the whole order was fulfilled before.
    earlier = [f for f in existing if not requested_lines or requested_lines & {line["id"] for line in f.get("line_items") or []}]
    if not earlier:
        lines = ", ".join(str(line_id) for line_id in sorted(requested_lines)) or "none"
        raise FatalError(
            f"order {order_id} has nothing open to fulfil for lines {lines}: they were refunded, or their fulfillment orders are closed or on hold",
            code="NOT_FULFILLABLE",
            fields=["lines"],
        )
    log.debug("shopify create_fulfillment for order %s: the lines are already fulfilled, nothing sent", order_id)
    return _output(False, earlier[-1:], requests)


def _output(created: bool, fulfillments: list[dict[str, Any]], requests: list[_Request]) -> dict[str, Any]:
    return {
        "created": created,
        "fulfillment": fulfillments[0] if fulfillments else None,
        "fulfillments": fulfillments,
        "lines": [{"line_item_id": request.line_item_id, "requested": request.requested, "sent": request.sent} for request in requests],
    }
