"""Fulfillment orders and fulfillments.

Every order gets one fulfillment order at the location that ships it, with one line per order
line. A fulfillment takes quantities from fulfillment order lines; asking for more than a line
has left is rejected with Shopify's 422 body. The order's line and order fulfillment statuses
follow from what is left to fulfil.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .errors import ApiError
from .ids import gid
from .inventory import move_for_order

if TYPE_CHECKING:
    from .state import ShopState

__all__ = [
    "INVALID_QUANTITY_MESSAGE",
    "create_fulfillment",
    "destination",
    "open_fulfillment_order",
    "order_fulfillment_status",
    "sync_after_refund",
]

INVALID_QUANTITY_MESSAGE = "Invalid fulfillment order line item quantity requested."
_FULFILLABLE_STATUSES = ("open", "in_progress")


def open_fulfillment_order(state: "ShopState", order: dict[str, Any], location_id: int, at: datetime) -> dict[str, Any]:
    """Create and store the open fulfillment order for a new order."""
    fulfillment_order_id = state.next_id("fulfillment_order")
    stamp = state.format_time(at)
    location = state.locations[location_id]
    lines = [
        {
            "id": state.next_id("fulfillment_order_line_item"),
            "shop_id": state.profile.shop_id,
            "fulfillment_order_id": fulfillment_order_id,
            "quantity": line["quantity"],
            "line_item_id": line["id"],
            "inventory_item_id": _inventory_item_id(state, line),
            "fulfillable_quantity": line["quantity"],
            "variant_id": line["variant_id"],
        }
        for line in order["line_items"]
    ]
    fulfillment_order = {
        "id": fulfillment_order_id,
        "admin_graphql_api_id": gid("FulfillmentOrder", fulfillment_order_id),
        "shop_id": state.profile.shop_id,
        "order_id": order["id"],
        "assigned_location_id": location_id,
        "request_status": "unsubmitted",
        "status": "open",
        "fulfill_at": stamp,
        "fulfill_by": None,
        "supported_actions": ["create_fulfillment", "hold", "move"],
        "destination": destination(state, order),
        "line_items": lines,
        "international_duties": None,
        "fulfillment_holds": [],
        "delivery_method": {"id": state.next_id("delivery_method"), "method_type": "shipping" if order["shipping_lines"] else "none"},
        "assigned_location": {
            "address1": location["address1"],
            "address2": location["address2"],
            "city": location["city"],
            "country_code": location["country_code"],
            "location_id": location_id,
            "name": location["name"],
            "phone": location["phone"],
            "province": location["province"],
            "zip": location["zip"],
        },
        "merchant_requests": [],
        "created_at": stamp,
        "updated_at": stamp,
    }
    state.add_fulfillment_order(fulfillment_order)
    return fulfillment_order


def create_fulfillment(state: "ShopState", payload: Any, at: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """Create a fulfillment from a POST /fulfillments.json body; return (order, fulfillment).

    Raises ApiError with Shopify's status and body when the request is invalid. Nothing changes
    unless every requested quantity can be fulfilled.
    """
    body = payload.get("fulfillment") if isinstance(payload, dict) else None
    if not isinstance(body, dict):
        raise ApiError(400, {"fulfillment": "Required parameter missing or invalid"})
    groups = body.get("line_items_by_fulfillment_order")
    if not isinstance(groups, list) or not groups:
        raise ApiError(400, {"line_items_by_fulfillment_order": "Required parameter missing or invalid"})

    requested = _requested_quantities(state, groups)
    order_ids = {state.fulfillment_orders[fo_id]["order_id"] for fo_id, _ in requested}
    if len(order_ids) != 1:
        raise ApiError(422, ["All fulfillment orders in one fulfillment must belong to the same order."])

    order = state.orders[order_ids.pop()]
    stamp = state.format_time(at)
    fulfilled_lines = _apply(state, order, requested, at)
    fulfillment = _fulfillment_json(state, order, body, fulfilled_lines, requested, stamp)

    order["fulfillments"].append(fulfillment)
    order["fulfillment_status"] = order_fulfillment_status(order)
    order["updated_at"] = stamp
    return order, fulfillment


def sync_after_refund(state: "ShopState", order: dict[str, Any], line_item_id: int, quantity: int) -> None:
    """Take refunded units out of the open fulfillment order lines."""
    for fulfillment_order in state.fulfillment_orders_of(order["id"]):
        for line in fulfillment_order["line_items"]:
            if line["line_item_id"] == line_item_id:
                line["quantity"] -= quantity
                line["fulfillable_quantity"] = max(0, line["fulfillable_quantity"] - quantity)
        _refresh_fulfillment_order_status(fulfillment_order)


def _requested_quantities(state: "ShopState", groups: list[Any]) -> list[tuple[int, dict[int, int]]]:
    """Validate the request and return, per fulfillment order, the quantity per line id."""
    requested: list[tuple[int, dict[int, int]]] = []
    for group in groups:
        fulfillment_order = state.fulfillment_orders.get(_as_int(group.get("fulfillment_order_id") if isinstance(group, dict) else None))
        if fulfillment_order is None:
            raise ApiError(404, "Not Found")
        if fulfillment_order["status"] not in _FULFILLABLE_STATUSES:
            raise ApiError(422, [f"Fulfillment order {fulfillment_order['id']} has an unfulfillable status= {fulfillment_order['status']}."])

        lines = {line["id"]: line for line in fulfillment_order["line_items"]}
        items = group.get("fulfillment_order_line_items")
        if items is not None and not isinstance(items, list):
            raise ApiError(400, {"fulfillment_order_line_items": "Required parameter missing or invalid"})
        if items is None:
            requested_lines = {line_id: line["fulfillable_quantity"] for line_id, line in lines.items() if line["fulfillable_quantity"] > 0}
        else:
            requested_lines = {}
            for item in items:
                line_id = _as_int(item.get("id") if isinstance(item, dict) else None)
                if line_id not in lines:
                    raise ApiError(422, [INVALID_QUANTITY_MESSAGE])
                requested_lines[line_id] = requested_lines.get(line_id, 0) + max(0, _as_int(item.get("quantity")))

        for line_id, quantity in requested_lines.items():
            if quantity < 1 or quantity > lines[line_id]["fulfillable_quantity"]:
                raise ApiError(422, [INVALID_QUANTITY_MESSAGE])
        if not requested_lines:
            raise ApiError(422, [INVALID_QUANTITY_MESSAGE])
        requested.append((fulfillment_order["id"], requested_lines))
    return requested


def _apply(
    state: "ShopState", order: dict[str, Any], requested: list[tuple[int, dict[int, int]]], at: datetime
) -> list[dict[str, Any]]:
    order_lines = {line["id"]: line for line in order["line_items"]}
    fulfilled_lines = []
    for fulfillment_order_id, requested_lines in requested:
        fulfillment_order = state.fulfillment_orders[fulfillment_order_id]
        location_id = fulfillment_order["assigned_location_id"]
        for line in fulfillment_order["line_items"]:
            quantity = requested_lines.get(line["id"])
            if not quantity:
                continue
            line["fulfillable_quantity"] -= quantity
            order_line = order_lines[line["line_item_id"]]
            order_line["fulfillable_quantity"] -= quantity
            order_line["fulfillment_status"] = "fulfilled" if order_line["fulfillable_quantity"] == 0 else "partial"
            if line["inventory_item_id"] is not None:
                move_for_order(state, line["inventory_item_id"], location_id, quantity, "ship", at)

            shipped = copy.deepcopy(order_line)
            shipped["quantity"] = quantity
            fulfilled_lines.append(shipped)
        _refresh_fulfillment_order_status(fulfillment_order)
        fulfillment_order["updated_at"] = state.format_time(at)
    return fulfilled_lines


def _fulfillment_json(
    state: "ShopState",
    order: dict[str, Any],
    body: dict[str, Any],
    lines: list[dict[str, Any]],
    requested: list[tuple[int, dict[int, int]]],
    stamp: str,
) -> dict[str, Any]:
    fulfillment_id = state.next_id("fulfillment")
    tracking = body.get("tracking_info") or {}
    number = tracking.get("number")
    url = tracking.get("url")
    location_id = state.fulfillment_orders[requested[0][0]]["assigned_location_id"]
    return {
        "id": fulfillment_id,
        "admin_graphql_api_id": gid("Fulfillment", fulfillment_id),
        "created_at": stamp,
        "location_id": location_id,
        "name": f"{order['name']}.{len(order['fulfillments']) + 1}",
        "order_id": order["id"],
        "origin_address": {},
        "receipt": {},
        "service": "manual",
        "shipment_status": None,
        "status": "success",
        "tracking_company": tracking.get("company"),
        "tracking_number": number,
        "tracking_numbers": [number] if number else [],
        "tracking_url": url,
        "tracking_urls": [url] if url else [],
        "updated_at": stamp,
        "notify_customer": bool(body.get("notify_customer", False)),
        "line_items": lines,
    }


def _refresh_fulfillment_order_status(fulfillment_order: dict[str, Any]) -> None:
    if fulfillment_order["status"] not in _FULFILLABLE_STATUSES:
        return
    remaining = sum(line["fulfillable_quantity"] for line in fulfillment_order["line_items"])
    total = sum(line["quantity"] for line in fulfillment_order["line_items"])
    if remaining == 0:
        fulfillment_order["status"] = "closed"
    elif remaining < total:
        fulfillment_order["status"] = "in_progress"


def order_fulfillment_status(order: dict[str, Any]) -> str | None:
    remaining = sum(line["fulfillable_quantity"] for line in order["line_items"])
    shipped = any(order["fulfillments"])
    if remaining == 0:
        return "fulfilled"
    return "partial" if shipped else None


def destination(state: "ShopState", order: dict[str, Any]) -> dict[str, Any] | None:
    address = order.get("shipping_address")
    if not address:
        return None
    return {
        "id": state.next_id("address"),
        "address1": address["address1"],
        "address2": address["address2"],
        "city": address["city"],
        "company": address["company"],
        "country": address["country"],
        "email": order["email"],
        "first_name": address["first_name"],
        "last_name": address["last_name"],
        "phone": address["phone"],
        "province": address["province"],
        "zip": address["zip"],
    }


def _inventory_item_id(state: "ShopState", line: dict[str, Any]) -> int | None:
    variant = state.variants.get(line["variant_id"]) if line["variant_id"] else None
    return variant["inventory_item_id"] if variant else None


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
