"""REST routes for orders: list (filtered, sorted, paginated), one order, count, transactions, refunds."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any, Callable

from connectors.sandbox.server import Request, Response, Router

from .errors import ApiError
from .pagination import Page, encode_token, link_header, paginate, read_page_request
from .rest import add_route, api_base, json_response, select_fields
from .state import ShopState

__all__ = ["register_order_routes"]

_STATUSES = ("open", "closed", "cancelled", "any")
_FINANCIAL_STATUSES = {
    "authorized": {"authorized"},
    "pending": {"pending"},
    "paid": {"paid"},
    "partially_paid": {"partially_paid"},
    "refunded": {"refunded"},
    "voided": {"voided"},
    "partially_refunded": {"partially_refunded"},
    "unpaid": {"authorized", "partially_paid", "pending"},
    "any": None,
}
_FULFILLMENT_STATUSES = {
    "shipped": {"fulfilled"},
    "partial": {"partial"},
    "unshipped": {None},
    "unfulfilled": {None, "partial"},
    "any": None,
}
_TIME_FILTERS = ("created_at_min", "created_at_max", "updated_at_min", "updated_at_max", "processed_at_min", "processed_at_max")
_SORT_FIELDS = ("created_at", "updated_at", "processed_at", "id")


def register_order_routes(router: Router, state: ShopState, base_url: Callable[[], str]) -> None:
    """Add the order endpoints for `state` to `router`."""

    def list_orders(request: Request) -> Response:
        page_request = read_page_request(request)
        filters = page_request.filters
        sort_field, descending = _sort_order(filters)

        with state.lock:
            matching = _filter_orders(state, filters)
            matching.sort(key=lambda order: _position(order, sort_field), reverse=descending)
            cursor = page_request.cursor
            cursor_position = _cursor_position(cursor, sort_field) if cursor else None
            page = paginate(matching, page_request.limit, cursor, lambda order: _position(order, sort_field), cursor_position, descending)

            url = api_base(request, base_url()) + request.path
            link = link_header(url, page_request.limit, page_request.fields, *_page_tokens(page, filters, sort_field))
            body = {"orders": [select_fields(order, page_request.fields) for order in page.items]}
            return json_response(body, headers={"Link": link} if link else None)

    def count_orders(request: Request) -> Response:
        filters = {name: values[0] for name, values in request.query.items() if values}
        with state.lock:
            return json_response({"count": len(_filter_orders(state, filters))})

    def get_order(request: Request) -> Response:
        fields = _fields(request)
        with state.lock:
            order = _find_order(state, request)
            return json_response({"order": select_fields(order, fields)})

    def list_transactions(request: Request) -> Response:
        fields = _fields(request)
        since_id = _int_filter(request.arg("since_id"), "since_id") or 0
        with state.lock:
            order = _find_order(state, request)
            transactions = [t for t in state.transactions.get(order["id"], []) if t["id"] > since_id]
            return json_response({"transactions": [select_fields(t, fields) for t in transactions]})

    def count_transactions(request: Request) -> Response:
        with state.lock:
            order = _find_order(state, request)
            return json_response({"count": len(state.transactions.get(order["id"], []))})

    def list_refunds(request: Request) -> Response:
        fields = _fields(request)
        with state.lock:
            order = _find_order(state, request)
            return json_response({"refunds": [select_fields(refund, fields) for refund in order["refunds"]]})

    add_route(router, "GET", "orders.json", list_orders)
    add_route(router, "GET", "orders/count.json", count_orders)
    add_route(router, "GET", "orders/{id}.json", get_order)
    add_route(router, "GET", "orders/{id}/transactions.json", list_transactions)
    add_route(router, "GET", "orders/{id}/transactions/count.json", count_transactions)
    add_route(router, "GET", "orders/{id}/refunds.json", list_refunds)


def _find_order(state: ShopState, request: Request) -> dict[str, Any]:
    order = state.orders.get(int(request.params["id"]))
    if order is None:
        raise ApiError(404, "Not Found")
    return order


def _fields(request: Request) -> tuple[str, ...] | None:
    text = request.arg("fields")
    return tuple(name.strip() for name in text.split(",") if name.strip()) if text else None


def _sort_order(filters: dict[str, str]) -> tuple[str, bool]:
    """Return (field, descending) from the `order` parameter.

    Without one, orders come newest first by created_at; with since_id they come by ascending id,
    which is what makes since_id usable for paging.
    """
    text = filters.get("order")
    if not text:
        return ("id", False) if filters.get("since_id") else ("created_at", True)

    parts = text.split()
    direction = parts[1].lower() if len(parts) > 1 else "asc"
    if len(parts) > 2 or parts[0] not in _SORT_FIELDS or direction not in ("asc", "desc"):
        # NOTE: real Shopify may ignore an unknown sort order instead of rejecting it.
        raise ApiError(400, {"order": f"'{text}' is not a valid order; use a field ({', '.join(_SORT_FIELDS)}) and asc or desc"})
    return parts[0], direction == "desc"


def _position(order: dict[str, Any], sort_field: str) -> tuple[Any, int]:
    if sort_field == "id":
        return (order["id"], order["id"])
    return (datetime.fromisoformat(order[sort_field]), order["id"])


def _cursor_position(cursor: dict[str, Any], sort_field: str) -> tuple[Any, int]:
    value = cursor["last_value"]
    if sort_field != "id":
        value = datetime.fromisoformat(value)
    return (value, int(cursor["last_id"]))


def _page_tokens(page: Page, filters: dict[str, str], sort_field: str) -> tuple[str | None, str | None]:
    def token(order: dict[str, Any], direction: str) -> str:
        value = order["id"] if sort_field == "id" else order[sort_field]
        return encode_token({"direction": direction, "last_id": order["id"], "last_value": value, "filters": filters})

    previous_token = token(page.items[0], "prev") if page.has_previous and page.items else None
    next_token = token(page.items[-1], "next") if page.has_next and page.items else None
    return previous_token, next_token


def _filter_orders(state: ShopState, filters: dict[str, str]) -> list[dict[str, Any]]:
    """Return the orders matching the list filters; raise ApiError 400 for an invalid filter value."""
    status = filters.get("status", "open")
    if status not in _STATUSES:
        raise ApiError(400, {"status": f"'{status}' is not a valid status; use open, closed, cancelled or any"})
    financial = _choice(filters, "financial_status", _FINANCIAL_STATUSES)
    fulfillment_filter = _choice(filters, "fulfillment_status", _FULFILLMENT_STATUSES)
    since_id = _int_filter(filters.get("since_id"), "since_id")
    ids = {_int_filter(value, "ids") for value in filters["ids"].split(",") if value.strip()} if filters.get("ids") else None
    bounds = [(name, _time_filter(filters, name, state.zone)) for name in _TIME_FILTERS if filters.get(name)]

    matching = []
    for order in state.orders.values():
        if status == "open" and order["closed_at"] is not None:
            continue
        if status == "closed" and order["closed_at"] is None:
            continue
        if status == "cancelled" and order["cancelled_at"] is None:
            continue
        if financial is not None and order["financial_status"] not in financial:
            continue
        if fulfillment_filter is not None and order["fulfillment_status"] not in fulfillment_filter:
            continue
        if since_id is not None and order["id"] <= since_id:
            continue
        if ids is not None and order["id"] not in ids:
            continue
        if bounds and not _within(order, bounds):
            continue
        matching.append(order)
    return matching


def _within(order: dict[str, Any], bounds: list[tuple[str, datetime]]) -> bool:
    for name, bound in bounds:
        value = datetime.fromisoformat(order[name.rsplit("_", 1)[0]])
        if name.endswith("_min") and value < bound:
            return False
        if name.endswith("_max") and value > bound:
            return False
    return True


def _choice(filters: dict[str, str], name: str, choices: dict[str, Any]) -> Any:
    value = filters.get(name)
    if value is None:
        return None
    if value not in choices:
        raise ApiError(400, {name: f"'{value}' is not a valid {name}; use one of {', '.join(choices)}"})
    return choices[value]


def _int_filter(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, {name: f"'{value}' is not a valid id"}) from None


def _time_filter(filters: dict[str, str], name: str, zone: tzinfo) -> datetime:
    """Parse an ISO 8601 time filter; a time without an offset is read in the shop's time zone."""
    text = filters[name]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(400, {name: f"'{text}' is not an ISO 8601 date and time"}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment
