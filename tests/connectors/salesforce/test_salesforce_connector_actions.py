"""Reads and writes of one object against the sandbox, with exact results and stored records."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import responses
from salesforce_connector_helpers import connector, fake_settings, fake_url  # noqa: F401  (fixture)

from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.sandbox import SalesforceSandbox
from engine.errors import FatalError, SkipEventError

ACCOUNT_1 = "0015g0000000001AAA"
ORDER = "PBSI__PBSI_Sales_Order__c"


def new_order(sandbox: SalesforceSandbox, shopify_order_id: str = "5001") -> str:
    return sandbox.records.create(ORDER, {"PBSI__Order_Date__c": "2026-11-02", "Shopify_Order_Id__c": shopify_order_id})


# ----- query ---------------------------------------------------------------------------------


def test_query_with_params_returns_exact_records(connector: SalesforceConnector) -> None:
    result = connector.call(
        "query",
        {"soql": "SELECT Id, Name, PBSI__salesprice__c FROM PBSI__PBSI_Item__c WHERE Shopify_SKU__c IN :skus ORDER BY Name", "params": {"skus": ["SKU-002", "SKU-001-M"]}},
    )

    assert result == {
        "records": [
            {"Id": "a035g0000000002AAA", "Name": "ITEM-01002", "PBSI__salesprice__c": Decimal("19.99"), "name": "ITEM-01002", "sales_price": Decimal("19.99")},
            {"Id": "a035g0000000004AAA", "Name": "ITEM-01004", "PBSI__salesprice__c": Decimal("12.5"), "name": "ITEM-01004", "sales_price": Decimal("12.5")},
        ],
        "count": 2,
    }


def test_query_from_logical_names_builds_bound_soql(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    result = connector.call(
        "query",
        {"object": "contact", "fields": ["last_name", "account.shopify_customer_id"], "where": {"email": "ada@example.com"}, "order_by": ["last_name desc"], "limit": 5},
    )

    assert result["records"] == [
        {
            "Id": "0035g0000000001AAA",
            "LastName": "Lovelace",
            "Account": {"Shopify_Customer_Id__c": "8100000000001", "shopify_customer_id": "8100000000001"},
            "last_name": "Lovelace",
        }
    ]


def test_query_follows_every_page(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    salesforce_sandbox.query_batch_size = 5

    result = connector.call("query", {"object": "item", "fields": ["name"]})

    assert result["count"] == 22
    assert salesforce_sandbox.calls["GET query"] == 1
    assert salesforce_sandbox.calls["GET query.more"] == 4


def test_query_with_soql_and_object_is_rejected(connector: SalesforceConnector) -> None:
    with pytest.raises(FatalError) as failure:
        connector.call("query", {"soql": "SELECT Id FROM Account", "object": "account"})

    assert failure.value.message == "give either soql (with params) or object with fields and where, not both"


def test_malformed_query_is_fatal_with_api_code(connector: SalesforceConnector) -> None:
    with pytest.raises(FatalError) as failure:
        connector.call("query", {"soql": "SELECT Id FROM Account WHERE"})

    assert failure.value.code == "MALFORMED_QUERY"
    assert failure.value.status == 400
    assert failure.value.message.startswith("query Account: \nSELECT Id FROM Account WHERE\n")


def test_unknown_field_in_query_is_invalid_field(connector: SalesforceConnector) -> None:
    with pytest.raises(FatalError) as failure:
        connector.call("query", {"object": "item", "fields": ["Colour__c"]})

    assert failure.value.code == "INVALID_FIELD"


# ----- get -----------------------------------------------------------------------------------


def test_get_returns_record_with_logical_names(connector: SalesforceConnector) -> None:
    record = connector.call("get", {"object": "account", "id": ACCOUNT_1, "fields": ["name", "shopify_customer_id"]})

    assert record == {"Id": ACCOUNT_1, "Name": "Ada Lovelace", "Shopify_Customer_Id__c": "8100000000001", "name": "Ada Lovelace", "shopify_customer_id": "8100000000001"}


def test_get_missing_record_is_fatal_not_found(connector: SalesforceConnector) -> None:
    with pytest.raises(FatalError) as failure:
        connector.call("get", {"object": "account", "id": "0015g0000000099AAA"})

    assert (failure.value.code, failure.value.status) == ("NOT_FOUND", 404)
    assert failure.value.message == "get Account: The requested resource does not exist"


def test_get_deleted_record_skips_event(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    order = new_order(salesforce_sandbox)
    salesforce_sandbox.records.delete(ORDER, order)

    with pytest.raises(SkipEventError) as failure:
        connector.call("get", {"object": "sales_order", "id": order})

    assert (failure.value.code, failure.value.status) == ("ENTITY_IS_DELETED", 404)


def test_get_with_malformed_id_sends_nothing(connector: SalesforceConnector) -> None:
    with pytest.raises(FatalError) as failure:
        connector.call("get", {"object": "account", "id": "../limits"})

    assert failure.value.code == "MALFORMED_ID"
    assert connector.round_trips == 0


def test_get_by_external_id_returns_record(connector: SalesforceConnector) -> None:
    record = connector.call("get_by_external_id", {"object": "account", "external_id_field": "shopify_customer_id", "value": "8100000000002"})

    assert (record["Id"], record["name"]) == ("0015g0000000002AAA", "José Núñez")


def test_get_by_external_id_missing_ok_returns_none(connector: SalesforceConnector) -> None:
    record = connector.call("get_by_external_id", {"object": "account", "external_id_field": "shopify_customer_id", "value": "nobody", "missing_ok": True})

    assert record is None


def test_missing_ok_still_fails_on_unknown_field(connector: SalesforceConnector) -> None:
    with pytest.raises(FatalError) as failure:
        connector.call("get_by_external_id", {"object": "account", "external_id_field": "Name", "value": "Ada Lovelace", "missing_ok": True})

    assert (failure.value.code, failure.value.status) == ("NOT_FOUND", 404)
    assert failure.value.message == "get Account by Name: Provided external ID field does not exist or is not accessible: Name"


def test_external_id_on_two_records_is_fatal(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    first = salesforce_sandbox.records.insert_unchecked("Account", {"Name": "A", "Shopify_Customer_Id__c": "dup"})
    second = salesforce_sandbox.records.insert_unchecked("Account", {"Name": "B", "Shopify_Customer_Id__c": "dup"})

    with pytest.raises(FatalError) as failure:
        connector.call("get_by_external_id", {"object": "account", "external_id_field": "shopify_customer_id", "value": "dup"})

    assert (failure.value.code, failure.value.status) == ("MULTIPLE_CHOICES", 300)
    assert failure.value.message == f"get Account by Shopify_Customer_Id__c: more than one record has this external id: {first}, {second}"


# ----- create, update, upsert ----------------------------------------------------------------


def test_create_stores_exact_values(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    result = connector.call(
        "create",
        {"object": "sales_order", "record": {"order_date": date(2026, 11, 2), "shipping_amount": Decimal("1234567890123456.78"), "customer": ACCOUNT_1}},
    )

    stored = salesforce_sandbox.records.get(ORDER, result["id"])
    assert result == {"id": "a055g0000000001AAA", "created": True}
    assert stored["PBSI__Order_Date__c"] == "2026-11-02"
    assert stored["PBSI__Shipping_Amount__c"] == Decimal("1234567890123456.78")
    assert stored["PBSI__Customer__c"] == ACCOUNT_1


def test_repeated_create_with_external_id_is_no_op(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    inputs = {"object": "account", "record": {"name": "Grace Hopper", "shopify_customer_id": "C77"}, "external_id_field": "shopify_customer_id"}

    first = connector.call("create", inputs)
    second = connector.call("create", inputs)

    assert first == {"id": "0015g0000000003AAA", "created": True}
    assert second == {"id": "0015g0000000003AAA", "created": False}
    assert len(salesforce_sandbox.records.all("Account")) == 3


def test_create_without_required_field_is_fatal_with_fields(connector: SalesforceConnector) -> None:
    with pytest.raises(FatalError) as failure:
        connector.call("create", {"object": "sales_order", "record": {"customer": ACCOUNT_1}})

    assert (failure.value.code, failure.value.status, failure.value.fields) == ("REQUIRED_FIELD_MISSING", 400, ["PBSI__Order_Date__c"])
    assert failure.value.message == "create PBSI__PBSI_Sales_Order__c: Required fields are missing: [PBSI__Order_Date__c]"


def test_create_with_long_text_fails(connector: SalesforceConnector) -> None:
    with pytest.raises(FatalError) as failure:
        connector.call("create", {"object": "carton", "record": {"tracking_number": "X" * 81}})

    assert (failure.value.code, failure.value.fields) == ("STRING_TOO_LONG", ["PBSI__Tracking_Number__c"])


def test_create_with_unknown_reference_fails(connector: SalesforceConnector) -> None:
    with pytest.raises(FatalError) as failure:
        connector.call("create", {"object": "sales_order", "record": {"order_date": "2026-11-02", "customer": "0015g0000000099AAA"}})

    assert (failure.value.code, failure.value.fields) == ("INVALID_CROSS_REFERENCE_KEY", ["PBSI__Customer__c"])


def test_update_changes_given_fields(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    order = new_order(salesforce_sandbox)

    result = connector.call("update", {"object": "sales_order", "id": order, "record": {"status": "Packed", "shipping_amount": "4.95"}})

    stored = salesforce_sandbox.records.get(ORDER, order)
    assert result == {"id": order}
    assert (stored["PBSI__Status__c"], stored["PBSI__Shipping_Amount__c"]) == ("Packed", Decimal("4.95"))


def test_upsert_creates_then_updates(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    inputs = {"object": "account", "external_id_field": "shopify_customer_id", "record": {"shopify_customer_id": "C9", "name": "Before"}}

    created = connector.call("upsert", inputs)
    inputs["record"]["name"] = "After"
    updated = connector.call("upsert", inputs)

    assert created == {"id": "0015g0000000003AAA", "created": True}
    assert updated == {"id": "0015g0000000003AAA", "created": False}
    assert salesforce_sandbox.records.get("Account", created["id"])["Name"] == "After"
    assert salesforce_sandbox.calls["PATCH sobjects.upsert"] == 2


def test_create_with_taken_unique_value_is_duplicate_value(connector: SalesforceConnector) -> None:
    with pytest.raises(FatalError) as failure:
        connector.call("create", {"object": "account", "record": {"name": "Copy", "shopify_customer_id": "8100000000001"}})

    assert (failure.value.code, failure.value.status) == ("DUPLICATE_VALUE", 400)
    assert failure.value.message == f"create Account: duplicate value found: Shopify_Customer_Id__c duplicates value on record with id: {ACCOUNT_1}"


def test_upsert_without_external_id_value_sends_nothing(connector: SalesforceConnector) -> None:
    with pytest.raises(FatalError) as failure:
        connector.call("upsert", {"object": "account", "external_id_field": "shopify_customer_id", "record": {"name": "No Id"}})

    assert (failure.value.code, failure.value.fields) == ("REQUIRED_FIELD_MISSING", ["Shopify_Customer_Id__c"])
    assert connector.round_trips == 0


def test_upsert_many_writes_200_per_request(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    records = [{"shopify_customer_id": f"C{number}", "name": f"Customer {number}"} for number in range(250)]

    result = connector.call("upsert", {"object": "account", "external_id_field": "shopify_customer_id", "records": records})

    assert (result["count"], result["created"], result["updated"]) == (250, 250, 0)
    assert result["records"][0] == {"id": "0015g0000000003AAA", "created": True}
    assert salesforce_sandbox.calls["PATCH composite.sobjects.upsert"] == 2
    assert connector.round_trips == 2
    assert len(salesforce_sandbox.records.all("Account")) == 252


def test_upsert_many_failure_rolls_back(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    records = [{"shopify_customer_id": "C1", "name": "Fine"}, {"shopify_customer_id": "C2", "name": "N" * 300}]

    with pytest.raises(FatalError) as failure:
        connector.call("upsert", {"object": "account", "external_id_field": "shopify_customer_id", "records": records})

    assert (failure.value.code, failure.value.fields) == ("STRING_TOO_LONG", ["Name"])
    assert failure.value.message.startswith("upsert Account by Shopify_Customer_Id__c, record 2 of 2: Account Name: data value too large")
    assert len(salesforce_sandbox.records.all("Account")) == 2


def test_update_many_by_id(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    first, second = new_order(salesforce_sandbox, "1"), new_order(salesforce_sandbox, "2")

    result = connector.call("update", {"object": "sales_order", "records": [{"Id": first, "status": "Closed"}, {"Id": second, "stage": "Packed"}]})

    assert result == {"records": [{"id": first, "created": False}, {"id": second, "created": False}], "count": 2, "created": 0, "updated": 2}
    assert salesforce_sandbox.records.get(ORDER, first)["PBSI__Status__c"] == "Closed"
    assert salesforce_sandbox.records.get(ORDER, second)["PBSI__Stage__c"] == "Packed"


def test_unknown_field_on_write_is_invalid_field(connector: SalesforceConnector) -> None:
    with pytest.raises(FatalError) as failure:
        connector.call("update", {"object": "account", "id": ACCOUNT_1, "record": {"Colour__c": "red"}})

    assert (failure.value.code, failure.value.fields) == ("INVALID_FIELD", ["Colour__c"])


# ----- the wire --------------------------------------------------------------------------------


@responses.activate
def test_wire_values_are_exact() -> None:
    responses.add(responses.POST, fake_url("sobjects/PBSI__Cash_Receipt__c"), json={"id": "a0B5g0000000001AAA", "success": True, "errors": []}, status=201)
    record = {
        "amount": Decimal("1234567890123456.78"),
        "PBSI__Tax__c": Decimal("0.10"),
        "Float_Field__c": 0.1,
        "receipt_date": date(2026, 11, 2),
        "Received_At__c": datetime(2026, 11, 2, 9, 15, 0, 250000, tzinfo=timezone(timedelta(hours=-5))),
    }

    with SalesforceConnector(fake_settings()) as connector:
        connector.call("create", {"object": "cash_receipt", "record": record})

    sent = responses.calls[0].request.body.decode("utf-8")
    assert sent == (
        '{"PBSI__Amount__c": 1234567890123456.78, "PBSI__Tax__c": 0.10, "Float_Field__c": 0.1, '
        '"PBSI__Receipt_Date__c": "2026-11-02", "Received_At__c": "2026-11-02T14:15:00.250Z"}'
    )
    assert json.loads(sent)["PBSI__Amount__c"] != Decimal("1234567890123456.78")  # what a float parser would lose


def test_naive_datetime_is_rejected_before_sending(connector: SalesforceConnector) -> None:
    with pytest.raises(FatalError) as failure:
        connector.call("create", {"object": "cash_receipt", "record": {"Received_At__c": datetime(2026, 11, 2, 9, 15)}})

    assert failure.value.message == "Received_At__c: the date-time 2026-11-02T09:15:00 has no time zone; convert it with to_datetime or sf_datetime"
    assert connector.round_trips == 0
