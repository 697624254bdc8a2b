"""Fulfillment orders and fulfillments, including the over-fulfil 422."""

from __future__ import annotations

from connectors.sandbox.catalog import SHOP_LOCATION_ID

INVALID_QUANTITY = {"errors": ["Invalid fulfillment order line item quantity requested."]}


def fulfillment_order_of(client, order_id):
    response = client.get(f"orders/{order_id}/fulfillment_orders.json")
    assert response.status_code == 200
    (fulfillment_order,) = response.json()["fulfillment_orders"]
    return fulfillment_order


def test_order_has_one_open_fulfillment_order(client, order_id):
    order = client.get(f"orders/{order_id('#1004')}.json").json()["order"]
    fulfillment_order = fulfillment_order_of(client, order["id"])

    assert fulfillment_order["status"] == "open"
    assert fulfillment_order["order_id"] == order["id"]
    assert fulfillment_order["assigned_location_id"] == SHOP_LOCATION_ID
    assert [(line["line_item_id"], line["quantity"], line["fulfillable_quantity"]) for line in fulfillment_order["line_items"]] == [
        (line["id"], line["quantity"], line["quantity"]) for line in order["line_items"]
    ]
    assert all(isinstance(line["id"], int) for line in fulfillment_order["line_items"])


def test_partial_fulfillment_leaves_rest_open(client, order_id):
    fulfillment_order = fulfillment_order_of(client, order_id("#1004"))
    wallet = fulfillment_order["line_items"][1]
    body = {
        "fulfillment": {
            "line_items_by_fulfillment_order": [
                {"fulfillment_order_id": fulfillment_order["id"], "fulfillment_order_line_items": [{"id": wallet["id"], "quantity": 2}]}
            ],
            "tracking_info": {"number": "1Z999AA10123456784", "company": "UPS", "url": "https://www.ups.com/track?tracknum=1Z999AA10123456784"},
            "notify_customer": False,
        }
    }
    before = client.get(f"orders/{order_id('#1004')}.json").json()["order"]

    response = client.post("fulfillments.json", body)

    assert response.status_code == 201
    fulfillment = response.json()["fulfillment"]
    assert fulfillment["status"] == "success"
    assert fulfillment["order_id"] == order_id("#1004")
    assert fulfillment["name"] == "#1004.1"
    assert fulfillment["tracking_number"] == "1Z999AA10123456784"
    assert fulfillment["tracking_company"] == "UPS"
    assert fulfillment["tracking_urls"] == ["https://www.ups.com/track?tracknum=1Z999AA10123456784"]
    assert [(line["id"], line["quantity"]) for line in fulfillment["line_items"]] == [(wallet["line_item_id"], 2)]

    after = client.get(f"orders/{order_id('#1004')}.json").json()["order"]
    assert after["fulfillment_status"] == "partial"
    assert after["line_items"][1]["fulfillable_quantity"] == 3
    assert after["updated_at"] > before["updated_at"]
    assert fulfillment_order_of(client, order_id("#1004"))["status"] == "in_progress"
    assert fulfillment_order_of(client, order_id("#1004"))["line_items"][1]["fulfillable_quantity"] == 3


def test_fulfillment_of_everything_closes_the_fulfillment_order(client, order_id):
    fulfillment_order = fulfillment_order_of(client, order_id("#1001"))
    body = {"fulfillment": {"line_items_by_fulfillment_order": [{"fulfillment_order_id": fulfillment_order["id"]}]}}

    response = client.post("fulfillments.json", body)

    assert response.status_code == 201
    order = client.get(f"orders/{order_id('#1001')}.json").json()["order"]
    assert order["fulfillment_status"] == "fulfilled"
    assert [line["fulfillable_quantity"] for line in order["line_items"]] == [0, 0]
    assert fulfillment_order_of(client, order_id("#1001"))["status"] == "closed"
    listed = client.get(f"orders/{order_id('#1001')}/fulfillments.json").json()["fulfillments"]
    assert [f["id"] for f in listed] == [response.json()["fulfillment"]["id"]]
    assert client.sandbox.state.fulfillments[listed[0]["id"]]["order_id"] == order_id("#1001")


def test_over_fulfilment_is_refused_with_422(client, order_id):
    fulfillment_order = fulfillment_order_of(client, order_id("#1004"))
    pour_over = fulfillment_order["line_items"][0]
    body = {
        "fulfillment": {
            "line_items_by_fulfillment_order": [
                {"fulfillment_order_id": fulfillment_order["id"], "fulfillment_order_line_items": [{"id": pour_over["id"], "quantity": 4}]}
            ]
        }
    }

    response = client.post("fulfillments.json", body)

    assert response.status_code == 422
    assert response.json() == INVALID_QUANTITY
    assert fulfillment_order_of(client, order_id("#1004"))["line_items"][0]["fulfillable_quantity"] == 3


def test_fulfilment_of_an_already_fulfilled_line_is_refused(client, order_id):
    fulfillment_order = fulfillment_order_of(client, order_id("#1019"))
    shipped = fulfillment_order["line_items"][1]
    body = {
        "fulfillment": {
            "line_items_by_fulfillment_order": [
                {"fulfillment_order_id": fulfillment_order["id"], "fulfillment_order_line_items": [{"id": shipped["id"], "quantity": 1}]}
            ]
        }
    }

    response = client.post("fulfillments.json", body)

    assert response.status_code == 422
    assert response.json() == INVALID_QUANTITY


def test_fulfillment_without_body_is_a_bad_request(client):
    response = client.post("fulfillments.json", {"tracking_info": {}})

    assert response.status_code == 400
    assert response.json() == {"errors": {"fulfillment": "Required parameter missing or invalid"}}


def test_fulfillment_of_unknown_fulfillment_order_is_not_found(client):
    body = {"fulfillment": {"line_items_by_fulfillment_order": [{"fulfillment_order_id": 1}]}}

    response = client.post("fulfillments.json", body)

    assert response.status_code == 404
    assert response.json() == {"errors": "Not Found"}


def test_fulfillment_of_cancelled_order_is_refused(client, order_id):
    fulfillment_order = fulfillment_order_of(client, order_id("#1017"))
    body = {"fulfillment": {"line_items_by_fulfillment_order": [{"fulfillment_order_id": fulfillment_order["id"]}]}}

    response = client.post("fulfillments.json", body)

    assert fulfillment_order["status"] == "cancelled"
    assert response.status_code == 422


def test_fulfillment_ships_committed_stock(client, order_id):
    state = client.sandbox.state
    fulfillment_order = fulfillment_order_of(client, order_id("#1013"))
    line = fulfillment_order["line_items"][0]
    level = state.inventory_levels[(line["inventory_item_id"], SHOP_LOCATION_ID)]
    before = dict(level)

    client.post("fulfillments.json", {"fulfillment": {"line_items_by_fulfillment_order": [{"fulfillment_order_id": fulfillment_order["id"]}]}})

    assert level["committed"] == before["committed"] - 2
    assert level["on_hand"] == before["on_hand"] - 2
    assert level["available"] == before["available"]
