"""Composite requests, sObject Collections and Composite Graph."""

from __future__ import annotations

from salesforce_sandbox_helpers import RawApi
from simple_salesforce import Salesforce

from connectors.salesforce.sandbox import SalesforceSandbox

BASE = "/services/data/v62.0"
ORDER = "PBSI__PBSI_Sales_Order__c"
LINE = "PBSI__PBSI_Sales_Order_Line__c"
ROLLED_BACK = [
    {"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back since another operation in the same transaction failed."}
]


def _order_subrequests(quantity: object = 2) -> list[dict]:  # type: ignore[type-arg]
    return [
        {"method": "GET", "url": f"{BASE}/query?q=SELECT+Id+FROM+PBSI__PBSI_Item__c+WHERE+Shopify_SKU__c+=+'SKU-001-S'", "referenceId": "item"},
        {
            "method": "PATCH",
            "url": f"{BASE}/sobjects/Account/Shopify_Customer_Id__c/C-1",
            "referenceId": "customer",
            "body": {"Name": "Grace Hopper"},
        },
        {
            "method": "POST",
            "url": f"{BASE}/sobjects/{ORDER}",
            "referenceId": "order",
            "body": {"PBSI__Customer__c": "@{customer.id}", "PBSI__Order_Date__c": "2026-11-02", "Shopify_Order_Id__c": "1001"},
        },
        {
            "method": "POST",
            "url": f"{BASE}/sobjects/{LINE}",
            "referenceId": "line",
            "body": {"PBSI__Sales_Order__c": "@{order.id}", "PBSI__Item__c": "@{item.records[0].Id}", "PBSI__Quantity_Needed__c": quantity, "PBSI__Price__c": 19.99},
        },
    ]


def test_composite_resolves_references(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox) -> None:
    body = salesforce_client.restful("composite", method="POST", json={"allOrNone": True, "compositeRequest": _order_subrequests()})

    items = body["compositeResponse"]
    order_id = items[2]["body"]["id"]
    line = salesforce_sandbox.records.get(LINE, items[3]["body"]["id"])
    assert [item["httpStatusCode"] for item in items] == [200, 201, 201, 201]
    assert [item["referenceId"] for item in items] == ["item", "customer", "order", "line"]
    assert items[2]["httpHeaders"] == {"Location": f"{BASE}/sobjects/{ORDER}/{order_id}"}
    assert items[2]["body"] == {"id": order_id, "success": True, "errors": []}
    assert line["PBSI__Sales_Order__c"] == order_id  # type: ignore[index]
    assert line["PBSI__Item__c"] == items[0]["body"]["records"][0]["Id"]  # type: ignore[index]
    assert salesforce_sandbox.calls["POST composite"] == 1


def test_composite_all_or_none_rolls_back_every_write(raw_api: RawApi, salesforce_sandbox: SalesforceSandbox) -> None:
    accounts_before = len(salesforce_sandbox.records.all("Account"))

    response = raw_api.post("composite", json={"allOrNone": True, "compositeRequest": _order_subrequests(quantity="lots")})

    items = response.json()["compositeResponse"]
    assert response.status_code == 200
    assert [item["httpStatusCode"] for item in items] == [400, 400, 400, 400]
    assert items[0]["body"] == ROLLED_BACK
    assert items[1]["body"] == ROLLED_BACK
    assert items[2]["body"] == ROLLED_BACK
    assert items[3]["body"] == [
        {"message": "Quantity Needed: value not of required type: lots", "errorCode": "INVALID_TYPE_ON_FIELD_IN_RECORD", "fields": ["PBSI__Quantity_Needed__c"]}
    ]
    assert len(salesforce_sandbox.records.all("Account")) == accounts_before
    assert salesforce_sandbox.records.all(ORDER) == []


def test_composite_without_all_or_none_keeps_earlier_writes(raw_api: RawApi, salesforce_sandbox: SalesforceSandbox) -> None:
    subrequests = _order_subrequests()
    subrequests[2]["body"]["PBSI__Order_Date__c"] = None
    subrequests.append({"method": "GET", "url": f"{BASE}/sobjects/Account/@{{customer.id}}", "referenceId": "again"})

    items = raw_api.post("composite", json={"compositeRequest": subrequests}).json()["compositeResponse"]

    assert [item["httpStatusCode"] for item in items] == [200, 201, 400, 400, 200]
    assert items[2]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert items[3]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert items[3]["body"][0]["message"].startswith("Invalid reference specified. No value for order.id found in order.")
    assert items[4]["body"]["Name"] == "Grace Hopper"
    assert len(salesforce_sandbox.records.all("Account")) == 3


def test_composite_rejects_more_than_25_subrequests(raw_api: RawApi) -> None:
    subrequest = {"method": "GET", "url": f"{BASE}/limits", "referenceId": "r"}

    response = raw_api.post("composite", json={"compositeRequest": [subrequest] * 26})

    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "LIMIT_EXCEEDED"


def test_graph_rejects_more_than_500_nodes(raw_api: RawApi, salesforce_sandbox: SalesforceSandbox) -> None:
    node = {"method": "POST", "url": f"{BASE}/sobjects/Account", "referenceId": "a", "body": {"Name": "Never"}}

    response = raw_api.post("composite/graph", json={"graphs": [{"graphId": "big", "compositeRequest": [node] * 501}]})

    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "LIMIT_EXCEEDED"
    assert len(salesforce_sandbox.records.all("Account")) == 2


def test_composite_rejects_nested_composite(raw_api: RawApi) -> None:
    nested = {"method": "POST", "url": f"{BASE}/composite", "referenceId": "inner", "body": {"compositeRequest": []}}

    items = raw_api.post("composite", json={"compositeRequest": [nested]}).json()["compositeResponse"]

    assert items[0]["httpStatusCode"] == 400
    assert items[0]["body"][0]["errorCode"] == "INVALID_INPUT"


def test_collection_create(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": "One"}, {"attributes": {"type": "Contact"}, "LastName": "Two"}]

    results = salesforce_client.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": records})

    assert [result["success"] for result in results] == [True, True]
    assert results[0] == {"id": results[0]["id"], "success": True, "errors": []}
    assert salesforce_sandbox.records.get("Contact", results[1]["id"])["LastName"] == "Two"  # type: ignore[index]


def test_collection_create_partial_failure(raw_api: RawApi, salesforce_sandbox: SalesforceSandbox) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": "Kept"}, {"attributes": {"type": "Account"}}]

    results = raw_api.post("composite/sobjects", json={"records": records}).json()

    assert results[0]["success"] is True
    assert results[1] == {
        "success": False,
        "errors": [{"statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [Name]", "fields": ["Name"]}],
    }
    assert salesforce_sandbox.records.get("Account", results[0]["id"]) is not None


def test_collection_all_or_none_rolls_back(raw_api: RawApi, salesforce_sandbox: SalesforceSandbox) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": "Undone"}, {"attributes": {"type": "Account"}}]

    results = raw_api.post("composite/sobjects", json={"allOrNone": True, "records": records}).json()

    assert results[0] == {
        "id": None,
        "success": False,
        "errors": [
            {
                "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
                "fields": [],
            }
        ],
    }
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert [record["Name"] for record in salesforce_sandbox.records.all("Account")] == ["Ada Lovelace", "José Núñez"]


def test_collection_update(raw_api: RawApi, salesforce_sandbox: SalesforceSandbox) -> None:
    accounts = salesforce_sandbox.records.all("Account")
    records = [{"attributes": {"type": "Account"}, "Id": account["Id"], "Phone": "555"} for account in accounts]
    records.append({"attributes": {"type": "Account"}, "Phone": "no id"})

    response = raw_api.patch("composite/sobjects", json={"records": records})

    assert response.status_code == 200
    assert response.json() == [
        {"id": accounts[0]["Id"], "success": True, "errors": []},
        {"id": accounts[1]["Id"], "success": True, "errors": []},
        {"success": False, "errors": [{"statusCode": "MISSING_ARGUMENT", "message": "Id not specified in an update call", "fields": []}]},
    ]
    assert [account["Phone"] for account in salesforce_sandbox.records.all("Account")] == ["555", "555"]


def test_collection_upsert_by_external_id(raw_api: RawApi, salesforce_sandbox: SalesforceSandbox) -> None:
    records = [
        {"attributes": {"type": "PBSI__PBSI_Item__c"}, "Shopify_SKU__c": "SKU-001-S", "PBSI__Cost__c": 8},
        {
            "attributes": {"type": "PBSI__PBSI_Item__c"},
            "Shopify_SKU__c": "NEW-SKU",
            "Name": "ITEM-NEW",
            "PBSI__Item_Group__c": salesforce_sandbox.records.all("PBSI__PBSI_Item_Group__c")[0]["Id"],
        },
    ]

    results = raw_api.patch("composite/sobjects/PBSI__PBSI_Item__c/Shopify_SKU__c", json={"allOrNone": True, "records": records}).json()

    assert [(result["success"], result["created"]) for result in results] == [(True, False), (True, True)]
    assert salesforce_sandbox.records.get("PBSI__PBSI_Item__c", results[1]["id"])["Name"] == "ITEM-NEW"  # type: ignore[index]
    assert salesforce_sandbox.calls["PATCH composite.sobjects.upsert"] == 1


def test_collection_rejects_more_than_200_records(raw_api: RawApi) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": f"A{index}"} for index in range(201)]

    response = raw_api.post("composite/sobjects", json={"records": records})

    assert response.status_code == 400
    assert response.json() == [
        {"message": "record limit reached. cannot submit more than 200 records into this call", "errorCode": "EXCEEDED_ID_LIMIT", "fields": []}
    ]


def test_graph_runs_each_graph_all_or_none(raw_api: RawApi, salesforce_sandbox: SalesforceSandbox) -> None:
    good = {"graphId": "good", "compositeRequest": _order_subrequests()}
    bad_requests = _order_subrequests(quantity="lots")
    bad_requests[1]["url"] = f"{BASE}/sobjects/Account/Shopify_Customer_Id__c/C-2"
    bad_requests[2]["body"]["Shopify_Order_Id__c"] = "1002"
    bad = {"graphId": "bad", "compositeRequest": bad_requests}

    response = raw_api.post("composite/graph", json={"graphs": [good, bad]})

    graphs = response.json()["graphs"]
    assert response.status_code == 200
    assert [(graph["graphId"], graph["isSuccessful"]) for graph in graphs] == [("good", True), ("bad", False)]
    assert [item["httpStatusCode"] for item in graphs[0]["graphResponse"]["compositeResponse"]] == [200, 201, 201, 201]
    assert [item["httpStatusCode"] for item in graphs[1]["graphResponse"]["compositeResponse"]] == [400, 400, 400, 400]
    assert [order["Shopify_Order_Id__c"] for order in salesforce_sandbox.records.all(ORDER)] == ["1001"]
    assert salesforce_sandbox.calls["POST composite.graph"] == 1
