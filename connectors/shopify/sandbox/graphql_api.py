"""The GraphQL endpoint: parse, validate, charge the query cost against the bucket, execute.

Every response contains `extensions.cost`. A query that costs more than the bucket has available
gets status 200 and a THROTTLED error, as from Shopify, and is not executed.
"""

from __future__ import annotations

import logging
from datetime import timezone
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError, execute, parse, validate

from connectors.sandbox.server import Request, Response, Router

from .errors import ApiError
from .graphql_schema import MAX_INPUT_SIZE, build_root, schema
from .ids import InvalidGlobalId, gid, parse_gid
from .querycost import query_cost
from .ratelimit import LeakyBucket
from .rest import add_route, json_response, read_body
from .state import ShopState

__all__ = ["register_graphql_route"]

log = logging.getLogger(__name__)


def register_graphql_route(router: Router, state: ShopState, bucket: LeakyBucket) -> None:
    """Add `POST /admin/api/{version}/graphql.json` for `state`, charging costs to `bucket`."""

    def cost_extension(requested: int, actual: int | None) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": float(bucket.capacity),
                    "currentlyAvailable": int(bucket.available()),
                    "restoreRate": float(bucket.leak_rate),
                },
            }
        }

    def set_quantities(raw: dict[str, Any], nodes: Any) -> dict[str, Any]:
        return _inventory_set_quantities(state, raw, nodes)

    root = build_root(state, set_quantities)

    def graphql(request: Request) -> Response:
        query, variables, operation_name = _read_request(request)
        try:
            document = parse(query)
        except GraphQLSyntaxError as error:
            return json_response({"errors": [error.formatted], "extensions": cost_extension(0, 0)})

        problems = validate(schema, document)
        if problems:
            return json_response({"errors": [problem.formatted for problem in problems], "extensions": cost_extension(0, 0)})

        requested = query_cost(schema, document, operation_name, variables)
        if requested > bucket.capacity:
            error = {
                "message": f"Query cost is {requested}, which exceeds the single query max cost limit ({int(bucket.capacity)}).",
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": int(bucket.capacity)},
            }
            return json_response({"errors": [error], "extensions": cost_extension(requested, None)})

        reading = bucket.pour(requested)
        if not reading.allowed:
            log.info("GraphQL query of cost %s throttled", requested)
            throttled = {"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}
            return json_response({"errors": [throttled], "extensions": cost_extension(requested, None)})

        with state.lock:
            result = execute(schema, document, root_value=root, variable_values=variables, operation_name=operation_name)
            actual = min(requested, query_cost(schema, document, operation_name, variables, result.data or {}))
            bucket.give_back(requested - actual)
            body: dict[str, Any] = {"data": result.data}
            if result.errors:
                body["errors"] = [error.formatted for error in result.errors]
            body["extensions"] = cost_extension(requested, actual)
            return json_response(body)

    add_route(router, "POST", "graphql.json", graphql)


def _read_request(request: Request) -> tuple[str, dict[str, Any], str | None]:
    content_type = (request.header("content-type") or "").split(";")[0].strip()
    if content_type == "application/graphql":
        return request.body.decode("utf-8"), {}, None

    body = read_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise ApiError(400, {"query": "Required parameter missing or invalid"})
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        raise ApiError(400, {"variables": "Required parameter missing or invalid"})
    return body["query"], variables, body.get("operationName")


def _inventory_set_quantities(state: ShopState, raw: dict[str, Any], nodes: Any) -> dict[str, Any]:
    """Resolve inventorySetQuantities: validate, apply all or nothing, and build the payload."""
    quantities = raw["quantities"]
    if len(quantities) > MAX_INPUT_SIZE:
        raise GraphQLError(
            f"The input array size of {len(quantities)} is greater than the maximum allowed of {MAX_INPUT_SIZE}.",
            extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
        )

    entries = []
    for quantity in quantities:
        try:
            entry = {
                "inventory_item_id": parse_gid(quantity["inventoryItemId"], "InventoryItem"),
                "location_id": parse_gid(quantity["locationId"], "Location"),
                "quantity": quantity["quantity"],
                "compare_quantity": quantity.get("compareQuantity"),
            }
        except InvalidGlobalId as error:
            raise GraphQLError(str(error)) from None
        if "changeFromQuantity" in quantity:
            entry["change_from_quantity"] = quantity["changeFromQuantity"]
        entries.append(entry)

    moment = state.stamp()
    changes, user_errors = state.set_quantities(
        raw["name"], raw["reason"], raw.get("referenceDocumentUri"), bool(raw.get("ignoreCompareQuantity")), entries, moment
    )
    if user_errors:
        return {
            "inventoryAdjustmentGroup": None,
            "userErrors": [{"field": error.field, "message": error.message, "code": error.code} for error in user_errors],
        }

    group_id = state.next_id("adjustment_group")
    reference = raw.get("referenceDocumentUri")

    def change_json(change: Any) -> dict[str, Any]:
        return {
            "name": change.name,
            "delta": change.delta,
            "quantityAfterChange": change.quantity_after_change,
            "ledgerDocumentUri": None,
            "item": lambda info: nodes.inventory_item(state.inventory_items[change.inventory_item_id]),
            "location": lambda info: nodes.location(state.locations[change.location_id]),
        }

    def changes_field(info: Any, inventoryItemIds: list[str] | None = None, locationIds: list[str] | None = None, quantityNames: list[str] | None = None) -> list[dict[str, Any]]:
        items = {parse_gid(value, "InventoryItem") for value in inventoryItemIds} if inventoryItemIds else None
        locations = {parse_gid(value, "Location") for value in locationIds} if locationIds else None
        return [
            change_json(change)
            for change in changes
            if (items is None or change.inventory_item_id in items)
            and (locations is None or change.location_id in locations)
            and (quantityNames is None or change.name in quantityNames)
        ]

    group = {
        "id": gid("InventoryAdjustmentGroup", group_id),
        "createdAt": moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reason": raw["reason"],
        "referenceDocumentUri": reference,
        "changes": changes_field,
    }
    return {"inventoryAdjustmentGroup": group, "userErrors": []}

