"""The error table: each Shopify error response, mocked with `responses`, and whether it retries, skips or fails."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses

from connectors.shopify.connector import ShopifyConnector
from engine.errors import ActionError, ErrorKind, FatalError, RetryableError, SkipEventError

from shopify_connector_helpers import FAKE_API, RecordingSleep, fake_settings

ORDER_URL = f"{FAKE_API}/orders/1.json"
GRAPHQL_URL = f"{FAKE_API}/graphql.json"
THROTTLE_STATUS = {"maximumAvailable": 1000.0, "currentlyAvailable": 100, "restoreRate": 50.0}
RETRIES, SKIPS, FAILS = "retries", "skips", "fails"
OUTCOMES = {ErrorKind.RETRYABLE: RETRIES, ErrorKind.SKIP: SKIPS, ErrorKind.FATAL: FAILS}


def rest(status: int, body: Any = None, headers: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"method": responses.GET, "url": ORDER_URL, "status": status, "json": body, "headers": headers, **extra}


def graphql_error(code: str | None, message: str, **extensions: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message}
    if code:
        error["extensions"] = {"code": code, **extensions}
    return {"method": responses.POST, "url": GRAPHQL_URL, "status": 200, "json": {"errors": [error], "extensions": {"cost": {"requestedQueryCost": 502, "actualQueryCost": None, "throttleStatus": THROTTLE_STATUS}}}}


# (case, mocked response, outcome, code, status, fields, retry_after, message)
REST_TABLE = [
    ("400 with a field", rest(400, {"errors": {"status": "status cannot be passed when page_info is present."}}), FAILS, "BAD_REQUEST", 400, ["status"], None,
     "Shopify rejected GET orders/1.json: status cannot be passed when page_info is present."),
    ("401 bad token", rest(401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}), FAILS, "UNAUTHORIZED", 401, [], None,
     "Shopify rejected GET orders/1.json: [API] Invalid API key or access token (unrecognized login or wrong password) (check the connection's access_token)"),
    ("402 frozen shop", rest(402, {"errors": "Unavailable Shop"}), FAILS, "PAYMENT_REQUIRED", 402, [], None,
     "Shopify rejected GET orders/1.json: Unavailable Shop (the shop's plan is unpaid or frozen; the shop owner must settle it in Shopify)"),
    ("403 missing scope", rest(403, {"errors": "[API] This action requires merchant approval for read_orders scope."}), FAILS, "FORBIDDEN", 403, [], None,
     "Shopify rejected GET orders/1.json: [API] This action requires merchant approval for read_orders scope. (the app lacks an access scope for this call; grant it in the app's configuration)"),
    ("404", rest(404, {"errors": "Not Found"}), FAILS, "NOT_FOUND", 404, [], None, "Shopify rejected GET orders/1.json: Not Found"),
    ("406", rest(406, None), FAILS, "NOT_ACCEPTABLE", 406, [], None, "Shopify rejected GET orders/1.json: HTTP 406"),
    ("422 with fields", rest(422, {"errors": {"email": ["is invalid"], "base": ["Order is closed"]}}), FAILS, "UNPROCESSABLE_ENTITY", 422, ["email"], None,
     "Shopify rejected GET orders/1.json: email is invalid; Order is closed"),
    ("422 as a list", rest(422, {"errors": ["Invalid fulfillment order line item quantity requested."]}), FAILS, "UNPROCESSABLE_ENTITY", 422, [], None,
     "Shopify rejected GET orders/1.json: Invalid fulfillment order line item quantity requested."),
    ("423 locked shop", rest(423, {"errors": "Locked"}), FAILS, "LOCKED", 423, [], None, "Shopify rejected GET orders/1.json: Locked (the shop is locked; contact Shopify support)"),
    ("429 past the retries", rest(429, {"errors": "Exceeded 2 calls per second for api client."}, {"Retry-After": "2.0"}), RETRIES, "THROTTLED", 429, [], 2.0,
     "Shopify rejected GET orders/1.json: Exceeded 2 calls per second for api client."),
    ("500", rest(500, {"errors": "Internal Server Error"}), RETRIES, "INTERNAL_SERVER_ERROR", 500, [], None, "Shopify could not process GET orders/1.json: Internal Server Error"),
    ("502 from a proxy page", {"method": responses.GET, "url": ORDER_URL, "status": 502, "body": "<html>Bad Gateway</html>"}, RETRIES, "BAD_GATEWAY", 502, [], None,
     "Shopify could not process GET orders/1.json: HTTP 502"),
    ("503 with Retry-After", rest(503, {"errors": "Service Unavailable"}, {"Retry-After": "5"}), RETRIES, "SERVICE_UNAVAILABLE", 503, [], 5.0,
     "Shopify could not process GET orders/1.json: Service Unavailable"),
    ("504", rest(504, {"errors": "Gateway Timeout"}), RETRIES, "GATEWAY_TIMEOUT", 504, [], None, "Shopify could not process GET orders/1.json: Gateway Timeout"),
    ("read timeout", {"method": responses.GET, "url": ORDER_URL, "body": requests.exceptions.ReadTimeout()}, RETRIES, "TIMEOUT", None, [], None,
     "Shopify request GET orders/1.json timed out after 30 s"),
    ("connection refused", {"method": responses.GET, "url": ORDER_URL, "body": requests.exceptions.ConnectionError()}, RETRIES, "CONNECTION_FAILED", None, [], None,
     "could not reach Shopify at https://fake-shop.myshopify.com for GET orders/1.json (ConnectionError)"),
]

GRAPHQL_TABLE = [
    ("THROTTLED past the retries", graphql_error("THROTTLED", "Throttled"), RETRIES, "THROTTLED", None, [], (502 - 100) / 50,
     "Shopify GraphQL ListLocations failed: Throttled"),
    ("ACCESS_DENIED", graphql_error("ACCESS_DENIED", "Access denied for locations field."), FAILS, "ACCESS_DENIED", 403, [], None,
     "Shopify GraphQL ListLocations failed: Access denied for locations field."),
    ("INTERNAL_SERVER_ERROR", graphql_error("INTERNAL_SERVER_ERROR", "Internal error. Looks like something went wrong on our end."), RETRIES, "INTERNAL_SERVER_ERROR", None, [], None,
     "Shopify GraphQL ListLocations failed: Internal error. Looks like something went wrong on our end."),
    ("error without a code", graphql_error(None, "Field 'bogus' doesn't exist on type 'Location'"), FAILS, "GRAPHQL_ERROR", None, [], None,
     "Shopify GraphQL ListLocations failed: Field 'bogus' doesn't exist on type 'Location'"),
    ("MAX_COST_EXCEEDED at one node", graphql_error("MAX_COST_EXCEEDED", "Query cost is 1002, which exceeds the single query max cost limit (1000).", cost=1002, maxCost=1000), FAILS,
     "MAX_COST_EXCEEDED", None, [], None, "Shopify GraphQL ListLocations costs too much: Query cost is 1002, which exceeds the single query max cost limit (1000)."),
    ("HTTP 401", {"method": responses.POST, "url": GRAPHQL_URL, "status": 401, "json": {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}}, FAILS,
     "UNAUTHORIZED", 401, [], None, "Shopify rejected GraphQL ListLocations: [API] Invalid API key or access token (unrecognized login or wrong password) (check the connection's access_token)"),
]


def connector(sleep: RecordingSleep | None = None) -> ShopifyConnector:
    """A connector whose clock does not move, so computed waits are exact."""
    return ShopifyConnector(fake_settings(), monotonic=lambda: 0.0, sleep=sleep or RecordingSleep())


def outcome_of(error: ActionError) -> str:
    return OUTCOMES[error.kind]


@pytest.mark.parametrize(("case", "answer", "outcome", "code", "status", "fields", "retry_after", "message"), REST_TABLE, ids=[row[0] for row in REST_TABLE])
def test_rest_error_table(case, answer, outcome, code, status, fields, retry_after, message):
    with responses.RequestsMock() as mock:
        mock.add(**{key: value for key, value in answer.items() if value is not None})
        with pytest.raises(ActionError) as caught:
            connector().call("get_order", {"order_id": 1})

    error = caught.value
    assert outcome_of(error) == outcome
    assert isinstance(error, RetryableError if outcome == RETRIES else FatalError)
    assert (error.code, error.status, error.fields, error.retry_after) == (code, status, fields, retry_after)
    assert error.message == message


@pytest.mark.parametrize(("case", "answer", "outcome", "code", "status", "fields", "retry_after", "message"), GRAPHQL_TABLE, ids=[row[0] for row in GRAPHQL_TABLE])
def test_graphql_error_table(case, answer, outcome, code, status, fields, retry_after, message):
    with responses.RequestsMock() as mock:
        mock.add(**answer)
        with pytest.raises(ActionError) as caught:
            connector().call("list_locations", {})

    error = caught.value
    assert outcome_of(error) == outcome
    assert (error.code, error.status, error.fields, error.retry_after) == (code, status, fields, retry_after)
    assert error.message == message


def test_deleted_order_skips_the_event_when_asked():
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, ORDER_URL, status=404, json={"errors": "Not Found"})
        with pytest.raises(SkipEventError) as caught:
            connector().call("get_order", {"order_id": 1, "if_missing": "skip"})

    assert outcome_of(caught.value) == SKIPS
    assert (caught.value.code, caught.value.message) == ("NOT_FOUND", "Shopify order 1 no longer exists; nothing to do")


def test_rest_429_retries_wait_retry_after_each_time():
    sleep = RecordingSleep()
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, ORDER_URL, status=429, json={"errors": "Exceeded"}, headers={"Retry-After": "2.0"})
        with pytest.raises(RetryableError):
            connector(sleep).call("get_order", {"order_id": 1})
        calls = len(mock.calls)

    assert calls == 3
    assert sleep.waits == [2.0, 2.0]


def stock_read(level: dict[str, Any] | None) -> dict[str, Any]:
    node = {"id": "gid://shopify/InventoryItem/44", "legacyResourceId": "44", "sku": "SKU-44", "inventoryLevel": level}
    return {"data": {"c0": {"nodes": [node], "pageInfo": {"hasNextPage": False, "endCursor": None}}}, "extensions": {"cost": {"throttleStatus": THROTTLE_STATUS}}}


USER_ERROR_TABLE = [
    ("INVALID_REASON", {"field": ["input", "reason"], "message": "The reason 'oops' is invalid.", "code": "INVALID_REASON"}, FAILS, ["input.reason"],
     "Shopify rejected inventorySetQuantities: [INVALID_REASON] The reason 'oops' is invalid. (0 of 1 quantities were set before this batch)"),
    ("CHANGE_FROM_QUANTITY_STALE", {"field": ["input", "quantities", "0", "changeFromQuantity"], "message": "The changeFromQuantity value does not match the persisted quantity.", "code": "CHANGE_FROM_QUANTITY_STALE"},
     RETRIES, ["input.quantities.0.changeFromQuantity"],
     "Shopify rejected inventorySetQuantities: [CHANGE_FROM_QUANTITY_STALE] inventory item 44 (inventory_item_id 44): The changeFromQuantity value does not match the persisted quantity. (0 of 1 quantities were set before this batch)"),
    ("ITEM_NOT_STOCKED_AT_LOCATION", {"field": ["input", "quantities", "0", "locationId"], "message": "The specified inventory item is not stocked at the location.", "code": "ITEM_NOT_STOCKED_AT_LOCATION"},
     FAILS, ["input.quantities.0.locationId"],
     "Shopify rejected inventorySetQuantities: [ITEM_NOT_STOCKED_AT_LOCATION] inventory item 44 (inventory_item_id 44): The specified inventory item is not stocked at the location. (0 of 1 quantities were set before this batch)"),
]


@pytest.mark.parametrize(("code", "user_error", "outcome", "fields", "message"), USER_ERROR_TABLE, ids=[row[0] for row in USER_ERROR_TABLE])
def test_graphql_user_error_table(code, user_error, outcome, fields, message):
    level = {"quantities": [{"name": "available", "quantity": 5}]}
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, GRAPHQL_URL, json=stock_read(level))
        mock.add(responses.POST, GRAPHQL_URL, json={"data": {"batch0": {"inventoryAdjustmentGroup": None, "userErrors": [user_error]}}, "extensions": {"cost": {"throttleStatus": THROTTLE_STATUS}}})
        with pytest.raises(ActionError) as caught:
            connector().call("set_stock", {"location_id": 1, "reason": "oops", "items": [{"inventory_item_id": 44, "quantity": 9}]})

    assert outcome_of(caught.value) == outcome
    assert (caught.value.code, caught.value.fields) == (code, fields)
    assert caught.value.message == message


def test_link_header_to_another_host_is_not_followed():
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, f"{FAKE_API}/orders.json", json={"orders": []}, headers={"Link": '<https://attacker.example/admin/api/2026-10/orders.json?page_info=x>; rel="next"'})
        with pytest.raises(FatalError) as caught:
            connector().poll("new_orders", {}, None, None, 10)

    assert caught.value.code == "INVALID_RESPONSE"
    assert caught.value.message == "Shopify's Link header for GET orders.json points to another host (https://attacker.example); not following it"


def test_success_answer_that_is_not_json_fails():
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, ORDER_URL, status=200, body="<html>maintenance</html>")
        with pytest.raises(FatalError) as caught:
            connector().call("get_order", {"order_id": 1})

    assert (caught.value.code, caught.value.status) == ("INVALID_RESPONSE", 200)
