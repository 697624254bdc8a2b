"""REST routes for fulfillment orders and fulfillments."""

from __future__ import annotations

from connectors.sandbox.server import Request, Response, Router

from .errors import ApiError
from .rest import add_route, json_response, read_body
from .state import ShopState

__all__ = ["register_fulfillment_routes"]


def register_fulfillment_routes(router: Router, state: ShopState) -> None:
    """Add the fulfillment endpoints for `state` to `router`."""

    def order_fulfillment_orders(request: Request) -> Response:
        with state.lock:
            order_id = int(request.params["id"])
            if order_id not in state.orders:
                raise ApiError(404, "Not Found")
            return json_response({"fulfillment_orders": state.fulfillment_orders_of(order_id)})

    def get_fulfillment_order(request: Request) -> Response:
        with state.lock:
            fulfillment_order = state.fulfillment_orders.get(int(request.params["id"]))
            if fulfillment_order is None:
                raise ApiError(404, "Not Found")
            return json_response({"fulfillment_order": fulfillment_order})

    def create_fulfillment(request: Request) -> Response:
        fulfillment = state.create_fulfillment(read_body(request))
        return json_response({"fulfillment": fulfillment}, status=201)

    def order_fulfillments(request: Request) -> Response:
        with state.lock:
            order = state.orders.get(int(request.params["id"]))
            if order is None:
                raise ApiError(404, "Not Found")
            return json_response({"fulfillments": order["fulfillments"]})

    def get_fulfillment(request: Request) -> Response:
        with state.lock:
            order = state.orders.get(int(request.params["id"]))
            fulfillment_id = int(request.params["fulfillment_id"])
            found = next((f for f in (order or {}).get("fulfillments", []) if f["id"] == fulfillment_id), None)
            if found is None:
                raise ApiError(404, "Not Found")
            return json_response({"fulfillment": found})

    add_route(router, "GET", "orders/{id}/fulfillment_orders.json", order_fulfillment_orders)
    add_route(router, "GET", "fulfillment_orders/{id}.json", get_fulfillment_order)
    add_route(router, "POST", "fulfillments.json", create_fulfillment)
    add_route(router, "GET", "orders/{id}/fulfillments.json", order_fulfillments)
    add_route(router, "GET", "orders/{id}/fulfillments/{fulfillment_id}.json", get_fulfillment)
