"""The sandbox's own admin API under `/sandbox/`, for tests and the CLI.

It creates, edits, pays, refunds and cancels orders (which sends the matching webhooks), reads
everything back, and saves the state. It needs no access token. The server listens on 127.0.0.1
only, so only local clients reach it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from connectors.sandbox.server import Request, Response, Router

from .errors import ApiError
from .rest import json_response, read_body
from .seed import SEEDED_CASES
from .state import OrderNotFound

if TYPE_CHECKING:
    from .app import ShopifySandbox

__all__ = ["register_admin_routes"]

log = logging.getLogger(__name__)


def register_admin_routes(router: Router, sandbox: "ShopifySandbox") -> None:
    """Add the `/sandbox/...` routes for `sandbox` to `router`."""
    state = sandbox.state

    def route(method: str, template: str, handler: Callable[[Request], Response]) -> None:
        pattern = "/sandbox/" + template.replace("{id}", r"(?P<id>\d+)")

        def guarded(request: Request) -> Response:
            try:
                return handler(request)
            except ApiError as error:
                log.info("admin %s %s rejected with %s: %s", method, request.path, error.status, error.errors)
                return error.response()
            except OrderNotFound as error:
                log.info("admin %s %s: order %s not found", method, request.path, error.args[0])
                return Response(404, {"errors": "Not Found"})
            except (ValueError, TypeError, KeyError) as error:
                log.info("admin %s %s rejected as invalid: %s", method, request.path, error)
                return Response(422, {"errors": str(error)})

        router.add(method, pattern, f"/sandbox/{template}", guarded)

    def body_of(request: Request) -> dict[str, Any]:
        body = read_body(request)
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        return body

    def list_orders(request: Request) -> Response:
        with state.lock:
            return json_response({"orders": sorted(state.orders.values(), key=lambda order: order["id"])})

    def get_order(request: Request) -> Response:
        with state.lock:
            order_id = int(request.params["id"])
            order = state.order(order_id)
            body = {
                "order": order,
                "transactions": state.transactions.get(order_id, []),
                "fulfillment_orders": state.fulfillment_orders_of(order_id),
            }
            return json_response(body)

    def create_order(request: Request) -> Response:
        body = body_of(request)
        spec = body.get("order")
        if not isinstance(spec, dict):
            raise ApiError(400, {"order": "Required parameter missing or invalid"})
        order = state.create_order(spec, payment=body.get("payment"))
        return json_response({"order": order}, status=201)

    def update_order(request: Request) -> Response:
        changes = body_of(request).get("order")
        if not isinstance(changes, dict):
            raise ApiError(400, {"order": "Required parameter missing or invalid"})
        return json_response({"order": state.update_order(int(request.params["id"]), changes)})

    def mark_paid(request: Request) -> Response:
        order_id = int(request.params["id"])
        order = state.mark_paid(order_id, body_of(request).get("amount"))
        with state.lock:
            transaction = state.transactions[order_id][-1]
            return json_response({"order": order, "transaction": transaction})

    def refund(request: Request) -> Response:
        body = body_of(request)
        created = state.refund_line(int(request.params["id"]), int(body["line_item_id"]), int(body.get("quantity", 1)))
        return json_response({"refund": created}, status=201)

    def cancel(request: Request) -> Response:
        reason = body_of(request).get("reason", "customer")
        return json_response({"order": state.cancel_order(int(request.params["id"]), reason)})

    def whole_state(request: Request) -> Response:
        return json_response(state.to_json())

    def save(request: Request) -> Response:
        path = body_of(request).get("path")
        saved = sandbox.save(path)
        return json_response({"saved": str(saved)})

    def calls(request: Request) -> Response:
        return json_response({"calls": dict(sandbox.calls)})

    def reset_calls(request: Request) -> Response:
        sandbox.server.reset_calls()
        return json_response({"calls": {}})

    def webhooks(request: Request) -> Response:
        sender = sandbox.webhooks
        return json_response({"target": sender.target, "deliveries": [delivery.summary() for delivery in sender.deliveries]})

    def set_webhook_target(request: Request) -> Response:
        target = body_of(request).get("target")
        if target is not None and not isinstance(target, str):
            raise ApiError(400, {"target": "must be a URL string or null"})
        sandbox.webhook_target = target
        return json_response({"target": target})

    def cases(request: Request) -> Response:
        with state.lock:
            by_name = {order["name"]: order["id"] for order in state.orders.values()}
            body = {key: {"name": case.name, "id": by_name.get(case.name), "description": case.description} for key, case in SEEDED_CASES.items()}
            return json_response({"cases": body})

    route("GET", "orders", list_orders)
    route("POST", "orders", create_order)
    route("GET", "orders/{id}", get_order)
    route("PUT", "orders/{id}", update_order)
    route("POST", "orders/{id}/mark_paid", mark_paid)
    route("POST", "orders/{id}/refunds", refund)
    route("POST", "orders/{id}/cancel", cancel)
    route("GET", "state", whole_state)
    route("POST", "save", save)
    route("GET", "calls", calls)
    route("POST", "calls/reset", reset_calls)
    route("GET", "webhooks", webhooks)
    route("PUT", "webhooks", set_webhook_target)
    route("GET", "cases", cases)
