"""create_fulfillment against the sandbox: through fulfillment orders, never beyond the open quantity, idempotent."""

from __future__ import annotations

import pytest

from engine import jsoncodec
from engine.errors import FatalError

from shopify_connector_helpers import calls_of, clock, order_by_name, sandbox, shopify, sleep  # noqa: F401

POST_FULFILLMENTS = "POST /admin/api/{version}/fulfillments.json"
READS = {"GET /admin/api/{version}/orders/{id}/fulfillment_orders.json": 1, "GET /admin/api/{version}/orders/{id}/fulfillments.json": 1}

ORDER_1021 = 5900000000020
SLV_LINE = 14900000000031  # SKU-013-SLV, 3 units
SKU_012_LINE = 14900000000032  # 1 unit


def fulfil(shopify, **inputs):
    return shopify.call("create_fulfillment", inputs)


def test_fulfillment_sends_lines_with_tracking(shopify, sandbox):
    result = fulfil(
        shopify,
        order_id=ORDER_1021,
        lines=[{"line_item_id": SLV_LINE, "quantity": 2}],
        tracking_number="1Z999AA10000000001",
        tracking_company="UPS",
        tracking_url="https://www.ups.com/track?tracknum=1Z999AA10000000001",
        notify_customer=True,
    )

    order = sandbox.state.orders[ORDER_1021]
    stored = order["fulfillments"][-1]
    assert result["created"] is True
    assert result["fulfillment"] == jsoncodec.loads(jsoncodec.dumps(stored))
    assert result["fulfillments"] == [result["fulfillment"]]
    assert result["lines"] == [{"line_item_id": SLV_LINE, "requested": 2, "sent": 2}]
    assert (stored["tracking_number"], stored["tracking_company"], stored["notify_customer"]) == ("1Z999AA10000000001", "UPS", True)
    assert stored["tracking_url"] == "https://www.ups.com/track?tracknum=1Z999AA10000000001"
    assert [(line["id"], line["quantity"]) for line in stored["line_items"]] == [(SLV_LINE, 2)]
    assert [(line["id"], line["fulfillable_quantity"]) for line in order["line_items"]] == [(SLV_LINE, 1), (SKU_012_LINE, 1)]
    assert order["fulfillment_status"] == "partial"
    assert calls_of(sandbox) == {**READS, POST_FULFILLMENTS: 1}


def test_fulfillment_repeat_with_tracking_is_no_op(shopify, sandbox):
    inputs = {"order_id": ORDER_1021, "lines": [{"line_item_id": SLV_LINE, "quantity": 2}], "tracking_number": "1Z999AA10000000001"}
    first = fulfil(shopify, **inputs)

    repeat = fulfil(shopify, **inputs)

    assert repeat["created"] is False
    assert repeat["fulfillment"]["id"] == first["fulfillment"]["id"]
    assert len(sandbox.state.orders[ORDER_1021]["fulfillments"]) == 1
    assert sandbox.state.orders[ORDER_1021]["line_items"][0]["fulfillable_quantity"] == 1
    assert calls_of(sandbox)[POST_FULFILLMENTS] == 1


def test_fulfillment_repeat_with_tracking_sent_less_than_requested_is_no_op(shopify, sandbox):
    # #1010: one of two shoes was refunded, so the first call sends one unit of the two requested.
    order = order_by_name(sandbox, "#1010")
    inputs = {"order_id": order["id"], "lines": [{"line_item_id": order["line_items"][0]["id"], "quantity": 2}], "tracking_number": "TRACK-1010"}
    first = fulfil(shopify, **inputs)

    repeat = fulfil(shopify, **inputs)

    assert (repeat["created"], repeat["fulfillment"]["id"]) == (False, first["fulfillment"]["id"])
    assert calls_of(sandbox)[POST_FULFILLMENTS] == 1


def test_second_parcel_with_same_tracking_is_fulfilled(shopify, sandbox):
    # One shipment in two parcels under one tracking number: the second holds other lines.
    tracking = "PRO-448812"
    first = fulfil(shopify, order_id=ORDER_1021, lines=[{"line_item_id": SLV_LINE, "quantity": 3}], tracking_number=tracking)

    second = fulfil(shopify, order_id=ORDER_1021, lines=[{"line_item_id": SKU_012_LINE, "quantity": 1}], tracking_number=tracking)

    stored = sandbox.state.orders[ORDER_1021]
    assert second["created"] is True
    assert second["fulfillment"]["id"] != first["fulfillment"]["id"]
    assert [[(line["id"], line["quantity"]) for line in fulfillment["line_items"]] for fulfillment in stored["fulfillments"]] == [[(SLV_LINE, 3)], [(SKU_012_LINE, 1)]]
    assert [fulfillment["tracking_number"] for fulfillment in stored["fulfillments"]] == [tracking, tracking]
    assert stored["fulfillment_status"] == "fulfilled"
    assert calls_of(sandbox)[POST_FULFILLMENTS] == 2


def test_second_parcel_with_same_tracking_and_more_units_is_fulfilled(shopify, sandbox):
    tracking = "PRO-448813"
    fulfil(shopify, order_id=ORDER_1021, lines=[{"line_item_id": SLV_LINE, "quantity": 1}], tracking_number=tracking)

    second = fulfil(shopify, order_id=ORDER_1021, lines=[{"line_item_id": SLV_LINE, "quantity": 2}], tracking_number=tracking)

    assert second["created"] is True
    assert second["lines"] == [{"line_item_id": SLV_LINE, "requested": 2, "sent": 2}]
    assert sandbox.state.orders[ORDER_1021]["line_items"][0]["fulfillable_quantity"] == 0


def test_fulfillment_repeat_without_tracking_is_no_op(shopify, sandbox):
    inputs = {"order_id": ORDER_1021, "lines": [{"line_item_id": SLV_LINE, "quantity": 1}]}
    first = fulfil(shopify, **inputs)

    repeat = fulfil(shopify, **inputs)

    assert (repeat["created"], repeat["fulfillment"]["id"]) == (False, first["fulfillment"]["id"])
    assert sandbox.state.orders[ORDER_1021]["line_items"][0]["fulfillable_quantity"] == 2
    assert calls_of(sandbox)[POST_FULFILLMENTS] == 1


def test_fulfillment_never_asks_beyond_the_open_quantity(shopify, sandbox):
    # #1010: two shoes ordered, one refunded, so one unit is left to fulfil.
    order = order_by_name(sandbox, "#1010")
    shoe_line = order["line_items"][0]["id"]

    result = fulfil(shopify, order_id=order["id"], lines=[{"line_item_id": shoe_line, "quantity": 2}], tracking_number="TRACK-1010")

    assert result["created"] is True
    assert result["lines"] == [{"line_item_id": shoe_line, "requested": 2, "sent": 1}]
    assert [(line["id"], line["quantity"]) for line in result["fulfillment"]["line_items"]] == [(shoe_line, 1)]
    assert sandbox.state.orders[order["id"]]["line_items"][0]["fulfillable_quantity"] == 0


def test_fulfillment_over_open_quantity_is_refused_by_shopify(shopify, sandbox):
    # What the connector avoids: asking Shopify directly for more than is open.
    order = order_by_name(sandbox, "#1010")
    fulfillment_order = sandbox.state.fulfillment_orders_of(order["id"])[0]
    body = {"fulfillment": {"line_items_by_fulfillment_order": [{"fulfillment_order_id": fulfillment_order["id"], "fulfillment_order_line_items": [{"id": fulfillment_order["line_items"][0]["id"], "quantity": 2}]}]}}

    with pytest.raises(FatalError) as caught:
        shopify.client.post("fulfillments.json", body)

    assert (caught.value.code, caught.value.status) == ("UNPROCESSABLE_ENTITY", 422)
    assert caught.value.message == "Shopify rejected POST fulfillments.json: Invalid fulfillment order line item quantity requested."


def test_fulfillment_without_lines_sends_every_open_line(shopify, sandbox):
    # #1019: its second line was fulfilled before, the first is open.
    order = order_by_name(sandbox, "#1019")

    result = fulfil(shopify, order_id=order["id"])

    first_line = order["line_items"][0]["id"]
    assert result["created"] is True
    assert result["lines"] == [{"line_item_id": first_line, "requested": 1, "sent": 1}]
    assert sandbox.state.orders[order["id"]]["fulfillment_status"] == "fulfilled"


def test_fulfillment_of_fulfilled_order_returns_the_earlier_one(shopify, sandbox):
    order = order_by_name(sandbox, "#1003")

    result = fulfil(shopify, order_id=order["id"])

    assert result["created"] is False
    assert result["fulfillment"]["id"] == order["fulfillments"][0]["id"]
    assert result["lines"] == []
    assert POST_FULFILLMENTS not in calls_of(sandbox)


def test_fulfillment_of_fulfilled_lines_returns_the_earlier_one(shopify, sandbox):
    order = order_by_name(sandbox, "#1003")
    lines = [{"line_item_id": line["id"], "quantity": line["quantity"]} for line in order["line_items"]]

    result = fulfil(shopify, order_id=order["id"], lines=lines, tracking_number="NEW-NUMBER")

    assert result["created"] is False
    assert result["fulfillment"]["id"] == order["fulfillments"][0]["id"]
    assert result["lines"] == [{"line_item_id": line["id"], "requested": line["quantity"], "sent": 0} for line in order["line_items"]]
    assert POST_FULFILLMENTS not in calls_of(sandbox)


def test_fulfillment_of_unknown_line_fails_before_sending(shopify, sandbox):
    with pytest.raises(FatalError) as caught:
        fulfil(shopify, order_id=ORDER_1021, lines=[{"line_item_id": 1, "quantity": 1}])

    assert (caught.value.code, caught.value.fields) == ("INVALID_LINE_ITEM", ["lines.0.line_item_id"])
    assert caught.value.message == "order line 1 is not a line of this order"
    assert POST_FULFILLMENTS not in calls_of(sandbox)


def test_fulfillment_of_cancelled_order_fails_as_not_fulfillable(shopify, sandbox):
    order = order_by_name(sandbox, "#1017")
    line = order["line_items"][0]["id"]

    with pytest.raises(FatalError) as caught:
        fulfil(shopify, order_id=order["id"], lines=[{"line_item_id": line, "quantity": 1}])

    assert caught.value.code == "NOT_FULFILLABLE"
    assert caught.value.message == (
        f"order {order['id']} has nothing open to fulfil for lines {line}: they were refunded, or their fulfillment orders are closed or on hold"
    )


def test_fulfillment_of_unknown_order_fails_not_found(shopify):
    with pytest.raises(FatalError) as caught:
        fulfil(shopify, order_id=1)

    assert (caught.value.code, caught.value.status) == ("NOT_FOUND", 404)


def test_fulfillment_quantity_must_be_positive(shopify):
    with pytest.raises(FatalError) as caught:
        fulfil(shopify, order_id=ORDER_1021, lines=[{"line_item_id": SLV_LINE, "quantity": 0}])

    assert (caught.value.code, caught.value.fields, caught.value.message) == ("INVALID_INPUT", ["lines.0.quantity"], "lines.0.quantity must be at least 1, not 0")
