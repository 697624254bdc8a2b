"""SOQL through `query` and `queryAll`: selection, filters, ordering, paging and errors."""

from __future__ import annotations

import pytest
from salesforce_sandbox_helpers import RawApi
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.salesforce.sandbox import SalesforceSandbox

ITEM = "PBSI__PBSI_Item__c"


def _names(result: dict) -> list[str]:  # type: ignore[type-arg]
    return [record["Name"] for record in result["records"]]


def _error(failure: pytest.ExceptionInfo) -> dict:  # type: ignore[type-arg]
    content = failure.value.content
    assert isinstance(content, list) and len(content) == 1
    return content[0]


def test_select_fields_with_parent_fields(salesforce_client: Salesforce) -> None:
    result = salesforce_client.query(
        "SELECT Name, Account.Name, Account.BillingCountry FROM Contact WHERE Email = 'ada@example.com'"
    )

    record = result["records"][0]
    assert (result["totalSize"], result["done"]) == (1, True)
    assert record["attributes"]["type"] == "Contact"
    assert record["Name"] == "Ada Lovelace"
    assert record["Account"]["attributes"]["type"] == "Account"
    assert (record["Account"]["Name"], record["Account"]["BillingCountry"]) == ("Ada Lovelace", "United Kingdom")


def test_custom_relationship_path_and_null_parent(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox) -> None:
    account = salesforce_sandbox.records.all("Account")[0]["Id"]
    salesforce_sandbox.records.create("PBSI__PBSI_Sales_Order__c", {"PBSI__Order_Date__c": "2026-11-02", "PBSI__Customer__c": account})
    salesforce_sandbox.records.create("PBSI__PBSI_Sales_Order__c", {"PBSI__Order_Date__c": "2026-11-03"})

    result = salesforce_client.query("SELECT Name, PBSI__Customer__r.Name FROM PBSI__PBSI_Sales_Order__c ORDER BY Name")

    assert result["records"][0]["PBSI__Customer__r"]["Name"] == "Ada Lovelace"
    assert result["records"][1]["PBSI__Customer__r"] is None


def test_count_query(salesforce_client: Salesforce) -> None:
    result = salesforce_client.query("SELECT COUNT() FROM PBSI__PBSI_Item__c WHERE PBSI__Taxable__c = false")

    assert result == {"totalSize": 3, "done": True, "records": []}


def test_where_with_and_or_not_and_parentheses(salesforce_client: Salesforce) -> None:
    result = salesforce_client.query(
        "SELECT Name FROM PBSI__PBSI_Item__c WHERE (PBSI__salesprice__c >= 89.95 OR Shopify_SKU__c = 'SKU-002') "
        "AND NOT Name IN ('ITEM-01005') ORDER BY Name"
    )

    assert _names(result) == ["ITEM-01004", "ITEM-01006", "ITEM-01007", "ITEM-01008", "ITEM-01009"]


def test_comparison_operators(salesforce_client: Salesforce) -> None:
    def count(condition: str) -> int:
        return salesforce_client.query(f"SELECT COUNT() FROM PBSI__PBSI_Item__c WHERE {condition}")["totalSize"]

    assert count("PBSI__salesprice__c = 19.99") == 2
    assert count("PBSI__salesprice__c != 19.99") == 20
    assert count("PBSI__salesprice__c <> 19.99") == 20
    assert count("PBSI__salesprice__c < 12.50") == 2
    assert count("PBSI__salesprice__c <= 12.50") == 3
    assert count("PBSI__salesprice__c > 89.95") == 2
    assert count("Name NOT IN ('ITEM-01001', 'ITEM-01002')") == 20
    assert count("PBSI__Cost__c = null") == 22
    assert count("PBSI__Cost__c != null") == 0


def test_like_is_case_insensitive_with_wildcards(salesforce_client: Salesforce) -> None:
    assert salesforce_client.query("SELECT COUNT() FROM PBSI__PBSI_Item__c WHERE Shopify_SKU__c LIKE 'sku-001-_'")["totalSize"] == 3
    assert salesforce_client.query("SELECT COUNT() FROM PBSI__PBSI_Item__c WHERE PBSI__description__c LIKE '%tee%'")["totalSize"] == 3


def test_string_literal_with_quote_and_backslash(salesforce_client: Salesforce) -> None:
    record_id = salesforce_client.Account.create({"Name": "O'Brien \\ Sons"})["id"]

    result = salesforce_client.query("SELECT Id, Name FROM Account WHERE Name = 'O\\'Brien \\\\ Sons'")

    assert [record["Id"] for record in result["records"]] == [record_id]
    assert result["records"][0]["Name"] == "O'Brien \\ Sons"


def test_string_equality_ignores_case(salesforce_client: Salesforce) -> None:
    assert salesforce_client.query("SELECT COUNT() FROM Account WHERE Name = 'ADA LOVELACE'")["totalSize"] == 1


def test_date_and_datetime_literals(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox) -> None:
    salesforce_sandbox.records.create("PBSI__PBSI_Sales_Order__c", {"PBSI__Order_Date__c": "2026-11-01"})
    salesforce_sandbox.records.create("PBSI__PBSI_Sales_Order__c", {"PBSI__Order_Date__c": "2026-11-02"})

    by_date = salesforce_client.query("SELECT Name FROM PBSI__PBSI_Sales_Order__c WHERE PBSI__Order_Date__c >= 2026-11-02")
    seeded = salesforce_client.query("SELECT COUNT() FROM Account WHERE CreatedDate = 2026-01-01T00:00:00Z")
    with_offset = salesforce_client.query("SELECT COUNT() FROM Account WHERE CreatedDate = 2026-01-01T01:00:00+01:00")
    later = salesforce_client.query("SELECT COUNT() FROM Account WHERE CreatedDate > 2026-01-01T00:00:00.000Z")

    assert _names(by_date) == ["SO-000002"]
    assert seeded["totalSize"] == 2
    assert with_offset["totalSize"] == 2
    assert later["totalSize"] == 0


def test_order_by_several_fields_with_nulls(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox) -> None:
    for name, city in [("B", "Bern"), ("A", None), ("C", "Bern"), ("D", "Aarau")]:
        salesforce_sandbox.records.create("Account", {"Name": name, "BillingCity": city})
    where = "WHERE Name IN ('A', 'B', 'C', 'D')"

    ascending = salesforce_client.query(f"SELECT Name FROM Account {where} ORDER BY BillingCity, Name DESC")
    nulls_last = salesforce_client.query(f"SELECT Name FROM Account {where} ORDER BY BillingCity ASC NULLS LAST, Name")
    descending = salesforce_client.query(f"SELECT Name FROM Account {where} ORDER BY BillingCity DESC, Name")
    nulls_first = salesforce_client.query(f"SELECT Name FROM Account {where} ORDER BY BillingCity DESC NULLS FIRST, Name")

    assert _names(ascending) == ["A", "D", "C", "B"]
    assert _names(nulls_last) == ["D", "B", "C", "A"]
    assert _names(descending) == ["B", "C", "D", "A"]
    assert _names(nulls_first) == ["A", "B", "C", "D"]


def test_limit_and_offset(salesforce_client: Salesforce) -> None:
    result = salesforce_client.query("SELECT Name FROM PBSI__PBSI_Item__c ORDER BY Name LIMIT 3 OFFSET 2")

    assert result["totalSize"] == 3
    assert _names(result) == ["ITEM-01003", "ITEM-01004", "ITEM-01005"]


def test_paging_with_next_records_url(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox, raw_api: RawApi) -> None:
    salesforce_sandbox.query_batch_size = 5

    first = raw_api.get("query", params={"q": "SELECT Name FROM PBSI__PBSI_Item__c ORDER BY Name"}).json()
    everything = salesforce_client.query_all("SELECT Name FROM PBSI__PBSI_Item__c ORDER BY Name")

    assert (first["totalSize"], first["done"], len(first["records"])) == (22, False, 5)
    assert first["nextRecordsUrl"].startswith("/services/data/v62.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-5")
    assert list(first) == ["totalSize", "done", "nextRecordsUrl", "records"]
    expected = sorted(record["Name"] for record in salesforce_sandbox.records.all(ITEM))
    assert everything["totalSize"] == 22
    assert _names(everything) == expected
    assert salesforce_sandbox.calls["GET query.more"] == 4


def test_query_all_includes_deleted_records(salesforce_client: Salesforce) -> None:
    record_id = salesforce_client.Account.create({"Name": "Gone"})["id"]
    salesforce_client.Account.delete(record_id)

    live = salesforce_client.query("SELECT Id FROM Account WHERE Name = 'Gone'")
    everything = salesforce_client.query("SELECT Id, IsDeleted FROM Account WHERE Name = 'Gone'", include_deleted=True)

    assert live["totalSize"] == 0
    assert everything["records"][0]["IsDeleted"] is True


def test_invalid_locator(raw_api: RawApi) -> None:
    response = raw_api.get("query/01g5g0000000099-2000")

    assert response.status_code == 400
    assert response.json() == [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR", "fields": []}]


def test_malformed_query_names_the_position(salesforce_client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as failure:
        salesforce_client.query("SELECT Id, FROM Account")

    assert failure.value.status == 400
    assert _error(failure) == {
        "message": "\nSELECT Id, FROM Account\n           ^\nERROR at Row:1:Column:12\nunexpected token: FROM",
        "errorCode": "MALFORMED_QUERY",
        "fields": [],
    }


def test_mixing_and_with_or_needs_parentheses(salesforce_client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as failure:
        salesforce_client.query("SELECT Id FROM Account WHERE Name = 'a' AND Phone = 'b' OR Name = 'c'")

    assert _error(failure)["errorCode"] == "MALFORMED_QUERY"
    assert _error(failure)["message"].endswith("ERROR at Row:1:Column:57\nunexpected token: OR")


def test_unknown_column_is_invalid_field(salesforce_client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as failure:
        salesforce_client.query("SELECT Id, Colour__c FROM Account")

    error = _error(failure)
    assert error["errorCode"] == "INVALID_FIELD"
    assert error["message"].startswith("\nSELECT Id, Colour__c FROM Account\n           ^\nERROR at Row:1:Column:12\n")
    assert "No such column 'Colour__c' on entity 'Account'." in error["message"]


def test_unknown_relationship_is_invalid_field(salesforce_client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as failure:
        salesforce_client.query("SELECT PBSI__Customer__c.Name FROM PBSI__PBSI_Sales_Order__c")

    assert _error(failure)["errorCode"] == "INVALID_FIELD"
    assert "Didn't understand relationship 'PBSI__Customer__c' in field path." in _error(failure)["message"]


def test_unknown_object_is_invalid_type(salesforce_client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as failure:
        salesforce_client.query("SELECT Id FROM Order__c")

    assert _error(failure)["errorCode"] == "INVALID_TYPE"
    assert "sObject type 'Order__c' is not supported." in _error(failure)["message"]


def test_quoted_number_is_invalid_filter(salesforce_client: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as failure:
        salesforce_client.query("SELECT Id FROM PBSI__PBSI_Item__c WHERE PBSI__salesprice__c = '19.99'")

    assert _error(failure)["errorCode"] == "INVALID_QUERY_FILTER_OPERATOR"
    assert _error(failure)["message"].endswith(
        "value of filter criterion for field 'PBSI__salesprice__c' must be of type currency and should not be enclosed in quotes"
    )


def test_missing_query_string(raw_api: RawApi) -> None:
    response = raw_api.get("query")

    assert response.status_code == 400
    assert response.json() == [{"message": "A query string has to be specified", "errorCode": "MALFORMED_QUERY", "fields": []}]
