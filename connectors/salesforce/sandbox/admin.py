"""Admin routes under `/sandbox/` for tests: warehouse actions, record read-back, sessions, state.

They need no session and do not count against the API allowance. Each has a Python method on
`SalesforceSandbox` or its record store that does the same.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable

from connectors.sandbox.server import Request, Response, Router

from .errors import ApiError
from .rest import api_route, json_object, wire_record
from .schema import find_object

if TYPE_CHECKING:
    from .org import SalesforceSandbox

__all__ = ["register_admin_routes", "ADMIN_PREFIX"]

ADMIN_PREFIX = "/sandbox/"
_BASE = "/services/data/v62.0"


def _required(body: dict[str, Any], name: str) -> Any:
    if body.get(name) in (None, ""):
        raise ApiError(400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{name}]", [name])
    return body[name]


def _pack_carton(sandbox: "SalesforceSandbox", request: Request) -> Response:
    """Body: sales_order_id, lines ({line id: quantity} or [{line_id, quantity}]), tracking_number, carrier."""
    body = json_object(request)
    lines = _required(body, "lines")
    if isinstance(lines, list):
        lines = [(str(line.get("line_id")), line.get("quantity")) for line in lines if isinstance(line, dict)]
    result = sandbox.records.pack_carton(
        str(_required(body, "sales_order_id")),
        lines,
        tracking_number=str(_required(body, "tracking_number")),
        carrier=str(_required(body, "carrier")),
        ship_date=body.get("ship_date"),
        weight=body.get("weight"),
    )
    return Response(201, result)


def _set_stock(sandbox: "SalesforceSandbox", request: Request) -> Response:
    """Body: item (id, item number or Shopify SKU), on_hand, and optionally available_to_promise."""
    body = json_object(request)
    item = sandbox.records.set_stock(str(_required(body, "item")), _required(body, "on_hand"), body.get("available_to_promise"))
    sobject = find_object("PBSI__PBSI_Item__c")
    assert sobject is not None
    return Response(200, wire_record(sobject, item, _BASE))


def _read_records(sandbox: "SalesforceSandbox", request: Request) -> Response:
    sobject = find_object(request.params["object"])
    if sobject is None:
        raise ApiError(404, "NOT_FOUND", f"no object named {request.params['object']}")
    include_deleted = (request.arg("include_deleted") or "").lower() == "true"
    records = sandbox.records.all(sobject.name, include_deleted=include_deleted)
    return Response(200, {"totalSize": len(records), "records": [wire_record(sobject, record, _BASE) for record in records]})


def _expire_sessions(sandbox: "SalesforceSandbox", request: Request) -> Response:
    body = json_object(request) if request.body else {}
    at_request = body.get("at_request")
    if at_request is None:
        sandbox.expire_sessions()
    else:
        sandbox.expire_session_at_request(int(at_request))
    return Response(204)


def _fail_writes(sandbox: "SalesforceSandbox", request: Request) -> Response:
    """Body: count, the number of next client writes that fail with UNABLE_TO_LOCK_ROW."""
    body = json_object(request)
    sandbox.records.write_faults.unable_to_lock_row_next = int(_required(body, "count"))
    return Response(204)


def _save_state(sandbox: "SalesforceSandbox", request: Request) -> Response:
    body = json_object(request) if request.body else {}
    path = body.get("path") or sandbox.state_file
    if not path:
        raise ApiError(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [path]", ["path"])
    sandbox.save(path)
    return Response(204)


def _usage(sandbox: "SalesforceSandbox", request: Request) -> Response:
    return Response(200, {"api_usage": sandbox.usage.used, "daily_limit": sandbox.usage.daily_limit})


def register_admin_routes(router: Router, sandbox: "SalesforceSandbox") -> None:
    def add(method: str, pattern: str, endpoint: str, handler: Callable[["SalesforceSandbox", Request], Response]) -> None:
        router.add(method, pattern, endpoint, api_route(functools.partial(handler, sandbox)))

    add("POST", r"/sandbox/cartons/?", "sandbox.cartons", _pack_carton)
    add("POST", r"/sandbox/stock/?", "sandbox.stock", _set_stock)
    add("GET", r"/sandbox/records/(?P<object>\w+)/?", "sandbox.records", _read_records)
    add("POST", r"/sandbox/sessions/expire/?", "sandbox.sessions.expire", _expire_sessions)
    add("POST", r"/sandbox/faults/unable-to-lock-row/?", "sandbox.faults", _fail_writes)
    add("POST", r"/sandbox/state/save/?", "sandbox.state.save", _save_state)
    add("GET", r"/sandbox/usage/?", "sandbox.usage", _usage)
