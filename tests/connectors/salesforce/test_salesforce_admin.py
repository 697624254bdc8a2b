"""Admin actions: packing cartons, changing stock and reading records back, in Python and over HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest
from salesforce_sandbox_helpers import new_order
from simple_salesforce import Salesforce

from connectors.salesforce.sandbox import ApiError, SalesforceSandbox

LINE = "PBSI__PBSI_Sales_Order_Line__c"
CARTON = "PBSI__Carton__c"
SHIPPED = "PBSI__Shipped_Sales_Order_Line__c"
ITEM = "PBSI__PBSI_Item__c"


def test_pack_carton_creates_carton_and_packed_lines(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox) -> None:
    ids = new_order(salesforce_client, salesforce_sandbox)

    result = salesforce_sandbox.records.pack_carton(
        ids["order"], {ids["line1"]: 2, ids["line2"]: 1}, tracking_number="1Z999AA10123456784", carrier="UPS", ship_date="2026-11-03"
    )

    carton = salesforce_sandbox.records.get(CARTON, result["carton_id"])
    shipped = salesforce_sandbox.records.all(SHIPPED)
    assert carton is not None
    assert (carton["PBSI__Sales_Order__c"], carton["PBSI__Tracking_Number__c"], carton["PBSI__Carrier__c"]) == (ids["order"], "1Z999AA10123456784", "UPS")
    assert carton["PBSI__Ship_Date__c"] == "2026-11-03"
    assert [row["Id"] for row in shipped] == result["shipped_line_ids"]
    assert [(row["PBSI__Sales_Order_Line__c"], row["PBSI__Quantity_Shipped__c"], row["PBSI__Carton__c"]) for row in shipped] == [
        (ids["line1"], Decimal("2"), result["carton_id"]),
        (ids["line2"], Decimal("1"), result["carton_id"]),
    ]
    assert salesforce_sandbox.records.get(LINE, ids["line1"])["PBSI__Quantity_Packed__c"] == Decimal("2")  # type: ignore[index]


def test_carton_is_visible_to_soql(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox) -> None:
    ids = new_order(salesforce_client, salesforce_sandbox)
    salesforce_sandbox.records.pack_carton(ids["order"], {ids["line1"]: 1}, tracking_number="TRACK-1", carrier="DHL")

    result = salesforce_client.query(
        "SELECT PBSI__Tracking_Number__c, PBSI__Sales_Order__r.Shopify_Order_Id__c FROM PBSI__Carton__c"
    )

    record = result["records"][0]
    assert record["PBSI__Tracking_Number__c"] == "TRACK-1"
    assert record["PBSI__Sales_Order__r"]["Shopify_Order_Id__c"] == "5001"


def test_packing_more_than_ordered_writes_nothing(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox) -> None:
    ids = new_order(salesforce_client, salesforce_sandbox)

    with pytest.raises(ApiError) as failure:
        salesforce_sandbox.records.pack_carton(ids["order"], {ids["line1"]: 1, ids["line2"]: 9}, tracking_number="T", carrier="UPS")

    assert failure.value.code == "INVALID_INPUT"
    assert salesforce_sandbox.records.all(CARTON) == []
    assert salesforce_sandbox.records.get(LINE, ids["line1"])["PBSI__Quantity_Packed__c"] is None  # type: ignore[index]


def test_pack_carton_over_http(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox) -> None:
    ids = new_order(salesforce_client, salesforce_sandbox)

    response = salesforce_sandbox.http_session().post(
        f"{salesforce_sandbox.base_url}/sandbox/cartons",
        json={"sales_order_id": ids["order"], "lines": [{"line_id": ids["line2"], "quantity": 3}], "tracking_number": "T-9", "carrier": "FedEx"},
    )

    body = response.json()
    assert response.status_code == 201
    assert sorted(body) == ["carton_id", "shipped_line_ids"]
    assert salesforce_sandbox.records.get(CARTON, body["carton_id"])["PBSI__Carrier__c"] == "FedEx"  # type: ignore[index]
    assert salesforce_sandbox.calls["POST sandbox.cartons"] == 1
    # Only the four creates of new_order count; the admin call is free.
    assert salesforce_sandbox.usage.used == 4


def test_set_stock_moves_system_modstamp(salesforce_sandbox: SalesforceSandbox) -> None:
    before = salesforce_sandbox.records.match_external_id(ITEM, "Shopify_SKU__c", "SKU-002")
    old = salesforce_sandbox.records.get(ITEM, before[0])

    item = salesforce_sandbox.records.set_stock("SKU-002", on_hand=40, available_to_promise=35)

    inventory = salesforce_sandbox.records.children("PBSI__PBSI_Inventory__c", "PBSI__item_lookup__c", item["Id"])
    assert (item["PBSI__Quantity_On_Hand__c"], item["PBSI__Available_To_Promise__c"]) == (Decimal("40"), Decimal("35"))
    assert item["SystemModstamp"] > old["SystemModstamp"]  # type: ignore[index]
    assert [row["PBSI__Quantity_Available__c"] for row in inventory] == [Decimal("40")]


def test_set_stock_over_http_by_item_number(salesforce_sandbox: SalesforceSandbox) -> None:
    response = salesforce_sandbox.http_session().post(f"{salesforce_sandbox.base_url}/sandbox/stock", json={"item": "ITEM-01001", "on_hand": 7})

    body = response.json()
    assert response.status_code == 200
    assert (body["Name"], body["PBSI__Quantity_On_Hand__c"], body["PBSI__Available_To_Promise__c"]) == ("ITEM-01001", 7.0, 7.0)


def test_set_stock_for_unknown_item_is_not_found(salesforce_sandbox: SalesforceSandbox) -> None:
    response = salesforce_sandbox.http_session().post(f"{salesforce_sandbox.base_url}/sandbox/stock", json={"item": "NOPE", "on_hand": 1})

    assert response.status_code == 404
    assert response.json()[0]["errorCode"] == "NOT_FOUND"


def test_stock_change_is_found_by_modstamp_poll(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox) -> None:
    salesforce_sandbox.records.set_stock("SKU-003-L", on_hand=1)

    result = salesforce_client.query(
        "SELECT Shopify_SKU__c, PBSI__Available_To_Promise__c FROM PBSI__PBSI_Item__c WHERE SystemModstamp > 2026-01-01T00:00:00Z"
    )

    assert [(record["Shopify_SKU__c"], record["PBSI__Available_To_Promise__c"]) for record in result["records"]] == [("SKU-003-L", 1.0)]


def test_read_records_over_http(salesforce_sandbox: SalesforceSandbox) -> None:
    response = salesforce_sandbox.http_session().get(f"{salesforce_sandbox.base_url}/sandbox/records/Shopify_Item_Map__c")

    body = response.json()
    assert response.status_code == 200
    assert body["totalSize"] == 19
    assert body["records"][0]["attributes"]["type"] == "Shopify_Item_Map__c"
    assert "Sforce-Limit-Info" in response.headers


def test_expire_sessions_over_http(salesforce_sandbox: SalesforceSandbox, salesforce_client: Salesforce) -> None:
    response = salesforce_sandbox.http_session().post(f"{salesforce_sandbox.base_url}/sandbox/sessions/expire")

    assert response.status_code == 204
    assert salesforce_client.session.get(f"{salesforce_client.base_url}limits", headers=salesforce_client.headers).status_code == 401
