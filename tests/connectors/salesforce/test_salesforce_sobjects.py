"""sObject describe and rows: create, get, update, delete, upsert and the validation errors."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from salesforce_sandbox_helpers import RawApi
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceMoreThanOneRecord, SalesforceResourceNotFound

from connectors.salesforce.sandbox import SCHEMA, SalesforceSandbox

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000\Z")
ORDER = "PBSI__PBSI_Sales_Order__c"
LINE = "PBSI__PBSI_Sales_Order_Line__c"


def _error(failure: pytest.ExceptionInfo) -> dict:  # type: ignore[type-arg]
    content = failure.value.content
    assert isinstance(content, list) and len(content) == 1
    return content[0]


# ----- describe ------------------------------------------------------------------------------


def test_describe_global_lists_every_object(salesforce_client: Salesforce) -> None:
    body = salesforce_client.describe()

    names = [item["name"] for item in body["sobjects"]]
    assert names == list(SCHEMA)
    assert body["sobjects"][0]["keyPrefix"] == "001"


def test_describe_reports_field_flags(salesforce_client: Salesforce) -> None:
    fields = {field["name"]: field for field in salesforce_client.PBSI__PBSI_Sales_Order_Line__c.describe()["fields"]}

    master = fields["PBSI__Sales_Order__c"]
    assert (master["type"], master["createable"], master["updateable"], master["nillable"]) == ("reference", True, False, False)
    assert master["referenceTo"] == ["PBSI__PBSI_Sales_Order__c"]
    assert master["relationshipName"] == "PBSI__Sales_Order__r"
    assert master["cascadeDelete"] is True
    needed = fields["PBSI__Quantity_Needed__c"]
    assert (needed["type"], needed["precision"], needed["scale"], needed["nillable"]) == ("double", 18, 6, False)
    total = fields["PBSI__Total_Price__c"]
    assert (total["type"], total["calculated"], total["createable"], total["updateable"]) == ("currency", True, False, False)
    line_id = fields["Shopify_Line_Id__c"]
    assert (line_id["externalId"], line_id["unique"], line_id["length"]) == (True, True, 40)


def test_describe_reports_picklists_and_autonumbers(salesforce_client: Salesforce) -> None:
    fields = {field["name"]: field for field in salesforce_client.PBSI__PBSI_Sales_Order__c.describe()["fields"]}

    assert [value["value"] for value in fields["PBSI__Stage__c"]["picklistValues"]] == [
        "Open",
        "Packed",
        "Waiting Pick Up",
        "On Route",
        "Delivered",
    ]
    assert fields["Name"]["autoNumber"] is True
    assert fields["Name"]["createable"] is False
    assert fields["PBSI__Order_Date__c"]["type"] == "date"


def test_describe_unknown_object_is_not_found(raw_api: RawApi) -> None:
    response = raw_api.get("sobjects/Nope__c/describe")

    assert response.status_code == 404
    assert response.json() == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND", "fields": []}]


def test_schema_marks_assumed_names() -> None:
    item = SCHEMA["PBSI__PBSI_Item__c"]

    assert item.field("PBSI__Vendor_Item_ID__c").confirmed is True  # type: ignore[union-attr]
    assert item.field("Shopify_SKU__c").confirmed is False  # type: ignore[union-attr]
    assert SCHEMA["PBSI__Carton__c"].confirmed is False
    assert SCHEMA["PBSI__Shipped_Sales_Order_Line__c"].field("PBSI__Sales_Order_Line__c").confirmed is True  # type: ignore[union-attr]


# ----- create, get, update, delete -----------------------------------------------------------


def test_create_answers_201_with_id(raw_api: RawApi) -> None:
    response = raw_api.post("sobjects/Account/", json={"Name": "Acme"})

    body = response.json()
    assert response.status_code == 201
    assert body == {"id": body["id"], "success": True, "errors": []}
    assert re.fullmatch(r"001[A-Za-z0-9]{12}[A-Z0-5]{3}", body["id"])


def test_get_returns_attributes_and_audit_fields(salesforce_client: Salesforce) -> None:
    record_id = salesforce_client.Account.create({"Name": "Acme", "BillingCity": "Zürich"})["id"]

    record = salesforce_client.Account.get(record_id)

    assert record["attributes"] == {"type": "Account", "url": f"/services/data/v62.0/sobjects/Account/{record_id}"}
    assert (record["Id"], record["Name"], record["BillingCity"], record["IsDeleted"]) == (record_id, "Acme", "Zürich", False)
    assert TIMESTAMP.match(record["CreatedDate"])
    assert record["SystemModstamp"] == record["LastModifiedDate"] == record["CreatedDate"]


def test_get_with_fields_parameter(raw_api: RawApi) -> None:
    record_id = raw_api.post("sobjects/Account", json={"Name": "Acme"}).json()["id"]

    response = raw_api.get(f"sobjects/Account/{record_id}", params={"fields": "Name"})

    assert response.json() == {"attributes": {"type": "Account", "url": f"/services/data/v62.0/sobjects/Account/{record_id}"}, "Name": "Acme"}


def test_update_answers_204_and_moves_system_modstamp(salesforce_client: Salesforce) -> None:
    record_id = salesforce_client.Account.create({"Name": "Acme"})["id"]
    before = salesforce_client.Account.get(record_id)

    status = salesforce_client.Account.update(record_id, {"Phone": "+41 44 000 00 00"})

    after = salesforce_client.Account.get(record_id)
    assert status == 204
    assert after["Phone"] == "+41 44 000 00 00"
    assert after["SystemModstamp"] > before["SystemModstamp"]
    assert after["CreatedDate"] == before["CreatedDate"]


def test_delete_answers_204_then_get_is_deleted(salesforce_client: Salesforce, raw_api: RawApi) -> None:
    record_id = salesforce_client.Account.create({"Name": "Acme"})["id"]

    status = salesforce_client.Account.delete(record_id)

    response = raw_api.get(f"sobjects/Account/{record_id}")
    assert status == 204
    assert response.status_code == 404
    assert response.json() == [{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}]


def test_get_unknown_id_is_not_found(salesforce_client: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound) as failure:
        salesforce_client.Account.get("001000000000000AAA")

    assert failure.value.status == 404
    assert _error(failure) == {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND", "fields": []}


def test_numbers_arrive_and_leave_exact(raw_api: RawApi, salesforce_sandbox: SalesforceSandbox) -> None:
    group = salesforce_sandbox.records.all("PBSI__PBSI_Item_Group__c")[0]["Id"]
    body = '{"Name": "ITEM-X", "PBSI__Item_Group__c": "%s", "PBSI__salesprice__c": 0.10, "PBSI__Cost__c": 12345678901234.57}' % group

    record_id = raw_api.post("sobjects/PBSI__PBSI_Item__c", data=body, headers={"Content-Type": "application/json"}).json()["id"]

    text = raw_api.get(f"sobjects/PBSI__PBSI_Item__c/{record_id}").text
    assert '"PBSI__salesprice__c": 0.1,' in text
    assert '"PBSI__Cost__c": 12345678901234.57,' in text
    assert salesforce_sandbox.records.get("PBSI__PBSI_Item__c", record_id)["PBSI__Cost__c"] == Decimal("12345678901234.57")  # type: ignore[index]


# ----- external ids and upsert ---------------------------------------------------------------


def test_get_by_external_id(salesforce_client: Salesforce) -> None:
    record = salesforce_client.PBSI__PBSI_Item__c.get_by_custom_id("Shopify_SKU__c", "SKU-001-M")

    assert record["Name"] == "ITEM-01002"
    assert record["PBSI__salesprice__c"] == 19.99


def test_upsert_creates_201_then_updates_200(salesforce_client: Salesforce) -> None:
    first = salesforce_client.Account.upsert("Shopify_Customer_Id__c/900", {"Name": "New Customer"}, raw_response=True)
    second = salesforce_client.Account.upsert("Shopify_Customer_Id__c/900", {"Phone": "555"}, raw_response=True)

    assert first.status_code == 201
    assert first.json() == {"id": first.json()["id"], "success": True, "errors": [], "created": True}
    assert second.status_code == 200
    assert second.json() == {"id": first.json()["id"], "success": True, "errors": [], "created": False}
    assert salesforce_client.Account.get(first.json()["id"])["Phone"] == "555"


def test_upsert_before_api_46_updates_with_204(salesforce_sandbox: SalesforceSandbox) -> None:
    client = salesforce_sandbox.client(version="45.0")

    created = client.Account.upsert("Shopify_Customer_Id__c/901", {"Name": "Old API"}, raw_response=True)
    updated = client.Account.upsert("Shopify_Customer_Id__c/901", {"Name": "Old API 2"}, raw_response=True)

    assert created.status_code == 201
    assert created.json() == {"id": created.json()["id"], "success": True, "errors": []}
    assert updated.status_code == 204
    assert updated.content == b""


def test_upsert_matching_several_records_answers_300(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox) -> None:
    first = salesforce_sandbox.records.insert_unchecked("Account", {"Name": "Twin A", "Shopify_Customer_Id__c": "777"})
    second = salesforce_sandbox.records.insert_unchecked("Account", {"Name": "Twin B", "Shopify_Customer_Id__c": "777"})

    with pytest.raises(SalesforceMoreThanOneRecord) as failure:
        salesforce_client.Account.upsert("Shopify_Customer_Id__c/777", {"Phone": "1"})

    assert failure.value.status == 300
    assert failure.value.content == [f"/services/data/v62.0/sobjects/Account/{first}", f"/services/data/v62.0/sobjects/Account/{second}"]


def test_upsert_by_plain_field_is_not_found(raw_api: RawApi) -> None:
    response = raw_api.patch("sobjects/Account/Name/Acme", json={"Phone": "1"})

    assert response.status_code == 404
    assert response.json() == [
        {"message": "Provided external ID field does not exist or is not accessible: Name", "errorCode": "NOT_FOUND", "fields": []}
    ]


def test_upsert_external_id_matches_case_insensitively(salesforce_client: Salesforce) -> None:
    salesforce_client.PBSI__PBSI_Item__c.upsert("Shopify_SKU__c/sku-001-s", {"PBSI__Cost__c": 7})

    assert salesforce_client.PBSI__PBSI_Item__c.get_by_custom_id("Shopify_SKU__c", "SKU-001-S")["PBSI__Cost__c"] == 7.0


# ----- validation errors ---------------------------------------------------------------------


def test_missing_required_field(salesforce_client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as failure:
        salesforce_client.Contact.create({"FirstName": "Ada"})

    assert failure.value.status == 400
    assert _error(failure) == {"message": "Required fields are missing: [LastName]", "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["LastName"]}


def test_clearing_required_field_on_update(salesforce_client: Salesforce) -> None:
    record_id = salesforce_client.Account.create({"Name": "Acme"})["id"]

    with pytest.raises(SalesforceMalformedRequest) as failure:
        salesforce_client.Account.update(record_id, {"Name": None})

    assert _error(failure)["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_string_too_long(salesforce_client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as failure:
        salesforce_client.Contact.create({"LastName": "x", "FirstName": "y" * 41})

    assert _error(failure) == {
        "message": f"First Name: data value too large: {'y' * 41} (max length=40)",
        "errorCode": "STRING_TOO_LONG",
        "fields": ["FirstName"],
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [("PBSI__Quantity_Needed__c", "many"), ("PBSI__Taxable__c", "yes"), ("PBSI__Quantity_Needed__c", True)],
)
def test_value_of_wrong_type(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox, field: str, value: object) -> None:
    order = salesforce_sandbox.records.create(ORDER, {"PBSI__Order_Date__c": "2026-11-02"})
    body = {"PBSI__Sales_Order__c": order, "PBSI__Quantity_Needed__c": 1, field: value}

    with pytest.raises(SalesforceMalformedRequest) as failure:
        salesforce_client.PBSI__PBSI_Sales_Order_Line__c.create(body)

    label = SCHEMA[LINE].field(field).label  # type: ignore[union-attr]
    assert _error(failure) == {"message": f"{label}: value not of required type: {value}", "errorCode": "INVALID_TYPE_ON_FIELD_IN_RECORD", "fields": [field]}


def test_bad_date_is_wrong_type(salesforce_client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as failure:
        salesforce_client.PBSI__PBSI_Sales_Order__c.create({"PBSI__Order_Date__c": "02/11/2026"})

    assert _error(failure)["errorCode"] == "INVALID_TYPE_ON_FIELD_IN_RECORD"
    assert _error(failure)["fields"] == ["PBSI__Order_Date__c"]


def test_duplicate_external_id_value(salesforce_client: Salesforce) -> None:
    first = salesforce_client.Account.create({"Name": "A", "Shopify_Customer_Id__c": "dup-1"})["id"]

    with pytest.raises(SalesforceMalformedRequest) as failure:
        salesforce_client.Account.create({"Name": "B", "Shopify_Customer_Id__c": "DUP-1"})

    assert _error(failure) == {
        "message": f"duplicate value found: Shopify_Customer_Id__c duplicates value on record with id: {first}",
        "errorCode": "DUPLICATE_VALUE",
        "fields": [],
    }


def test_unknown_field(salesforce_client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as failure:
        salesforce_client.Account.create({"Name": "A", "Colour__c": "red"})

    assert _error(failure) == {"message": "No such column 'Colour__c' on sobject of type Account", "errorCode": "INVALID_FIELD", "fields": ["Colour__c"]}


def test_writing_read_only_field_on_create(salesforce_client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as failure:
        salesforce_client.PBSI__PBSI_Sales_Order__c.create({"PBSI__Order_Date__c": "2026-11-02", "Name": "SO-999", "PBSI__Order_Total__c": 5})

    error = _error(failure)
    assert error["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert error["fields"] == ["Name", "PBSI__Order_Total__c"]
    assert error["message"].startswith("Unable to create/update fields: Name, PBSI__Order_Total__c. Please check the security settings")


def test_reparenting_master_detail_is_rejected(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox) -> None:
    order = salesforce_sandbox.records.create(ORDER, {"PBSI__Order_Date__c": "2026-11-02"})
    other = salesforce_sandbox.records.create(ORDER, {"PBSI__Order_Date__c": "2026-11-03"})
    line = salesforce_sandbox.records.create(LINE, {"PBSI__Sales_Order__c": order, "PBSI__Quantity_Needed__c": 1})

    with pytest.raises(SalesforceMalformedRequest) as failure:
        salesforce_client.PBSI__PBSI_Sales_Order_Line__c.update(line, {"PBSI__Sales_Order__c": other})

    assert _error(failure)["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert _error(failure)["fields"] == ["PBSI__Sales_Order__c"]


def test_reference_to_missing_record(salesforce_client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as failure:
        salesforce_client.Contact.create({"LastName": "X", "AccountId": "0015g0000000999AAA"})

    assert _error(failure) == {"message": "invalid cross reference id", "errorCode": "INVALID_CROSS_REFERENCE_KEY", "fields": ["AccountId"]}


def test_reference_to_wrong_object(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox) -> None:
    contact = salesforce_sandbox.records.all("Contact")[0]["Id"]

    with pytest.raises(SalesforceMalformedRequest) as failure:
        salesforce_client.Contact.create({"LastName": "X", "AccountId": contact})

    assert _error(failure)["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_picklist_value_outside_the_list(salesforce_client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as failure:
        salesforce_client.PBSI__PBSI_Sales_Order__c.create({"PBSI__Order_Date__c": "2026-11-02", "PBSI__Status__c": "Shipped"})

    assert _error(failure) == {
        "message": "Status: bad value for restricted picklist field: Shipped",
        "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "fields": ["PBSI__Status__c"],
    }


def test_number_out_of_range(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox) -> None:
    order = salesforce_sandbox.records.create(ORDER, {"PBSI__Order_Date__c": "2026-11-02"})

    with pytest.raises(SalesforceMalformedRequest) as failure:
        salesforce_client.PBSI__PBSI_Sales_Order_Line__c.create(
            {"PBSI__Sales_Order__c": order, "PBSI__Quantity_Needed__c": "1234567890123"}
        )

    assert _error(failure)["errorCode"] == "NUMBER_OUTSIDE_VALID_RANGE"


def test_malformed_json_body(raw_api: RawApi) -> None:
    response = raw_api.post("sobjects/Account", data="{not json", headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


# ----- computed fields -----------------------------------------------------------------------


def test_line_total_and_order_total_are_computed(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox) -> None:
    order = salesforce_client.PBSI__PBSI_Sales_Order__c.create({"PBSI__Order_Date__c": "2026-11-02", "PBSI__Shipping_Amount__c": "4.95"})["id"]
    salesforce_client.PBSI__PBSI_Sales_Order_Line__c.create(
        {"PBSI__Sales_Order__c": order, "PBSI__Quantity_Needed__c": 3, "PBSI__Price__c": "19.99", "PBSI__Discount_Amount__c": "5", "PBSI__Tax_Amount__c": "4.40"}
    )
    line = salesforce_client.PBSI__PBSI_Sales_Order_Line__c.create(
        {"PBSI__Sales_Order__c": order, "PBSI__Quantity_Needed__c": 1, "PBSI__Price__c": "0.10"}
    )["id"]

    stored = salesforce_sandbox.records.get(ORDER, order)
    assert stored["PBSI__Order_Total__c"] == Decimal("64.42")  # type: ignore[index]
    assert salesforce_sandbox.records.get(LINE, line)["PBSI__Total_Price__c"] == Decimal("0.10")  # type: ignore[index]
    assert stored["Name"] == "SO-000001"  # type: ignore[index]

    salesforce_client.PBSI__PBSI_Sales_Order_Line__c.delete(line)
    assert salesforce_sandbox.records.get(ORDER, order)["PBSI__Order_Total__c"] == Decimal("64.32")  # type: ignore[index]


def test_invoice_closes_when_paid(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox) -> None:
    account = salesforce_sandbox.records.all("Account")[0]["Id"]
    invoice = salesforce_client.PBSI__Sales_Invoice__c.create({"PBSI__Account__c": account, "PBSI__Invoice_Date__c": "2026-11-02", "PBSI__Status__c": "Open"})["id"]
    salesforce_client.PBSI__Sales_Invoice_Line__c.create(
        {"PBSI__Sales_Invoice__c": invoice, "PBSI__Quantity__c": 2, "PBSI__Price__c": "10.00", "PBSI__Tax_Amount__c": "1.60"}
    )
    receipt = salesforce_client.PBSI__Cash_Receipt__c.create({"PBSI__Account__c": account, "PBSI__Amount__c": "21.60"})["id"]

    salesforce_client.PBSI__Applied_Cash_Receipt__c.create({"PBSI__Cash_Receipt__c": receipt, "PBSI__Sales_Invoice__c": invoice, "PBSI__Amount_Applied__c": "20.00"})
    partly = salesforce_client.PBSI__Sales_Invoice__c.get(invoice)
    salesforce_client.PBSI__Applied_Cash_Receipt__c.create({"PBSI__Cash_Receipt__c": receipt, "PBSI__Sales_Invoice__c": invoice, "PBSI__Amount_Applied__c": "1.60"})
    paid = salesforce_client.PBSI__Sales_Invoice__c.get(invoice)

    assert (partly["PBSI__Total__c"], partly["PBSI__Amount_Paid__c"], partly["PBSI__Balance__c"], partly["PBSI__Status__c"]) == (21.6, 20.0, 1.6, "Open")
    assert (paid["PBSI__Balance__c"], paid["PBSI__Status__c"]) == (0.0, "Closed")


def test_deleting_order_deletes_its_lines(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox) -> None:
    order = salesforce_sandbox.records.create(ORDER, {"PBSI__Order_Date__c": "2026-11-02"})
    line = salesforce_sandbox.records.create(LINE, {"PBSI__Sales_Order__c": order, "PBSI__Quantity_Needed__c": 1})

    salesforce_client.PBSI__PBSI_Sales_Order__c.delete(order)

    assert salesforce_sandbox.records.get(LINE, line) is None
    assert salesforce_sandbox.records.get(LINE, line, include_deleted=True)["IsDeleted"] is True  # type: ignore[index]
