"""`query_many`: several queries of different objects in one Composite request."""

from __future__ import annotations

from decimal import Decimal

import pytest
from salesforce_connector_helpers import connector  # noqa: F401  (fixture)

from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.sandbox import SalesforceSandbox
from engine.errors import FatalError


def test_three_objects_in_one_round_trip(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    result = connector.call(
        "query_many",
        {
            "queries": {
                "maps": {"object": "item_map", "fields": ["shopify_variant_id", "item"], "where": {"shopify_variant_id": ["42000000000205"]}},
                "items": {"object": "item", "fields": ["shopify_sku", "sales_price"], "where": {"shopify_sku": {"in": ["SKU-006-GRY", "SKU-404"]}}},
                "group": {"soql": "SELECT Id, Name FROM PBSI__PBSI_Item_Group__c WHERE Name = :name", "params": {"name": "Default"}},
            }
        },
    )

    assert dict(salesforce_sandbox.calls) == {"POST composite": 1}
    assert connector.round_trips == 1
    assert list(result) == ["maps", "items", "group"]
    assert result["maps"]["count"] == 1
    assert result["maps"]["records"][0]["item"] == "a035g0000000002AAA"
    assert result["maps"]["records"][0]["PBSI__Item__c"] == "a035g0000000002AAA"
    assert result["items"]["count"] == 1
    assert result["items"]["records"][0]["shopify_sku"] == "SKU-006-GRY"
    assert result["items"]["records"][0]["sales_price"] == Decimal("9.9")
    assert [record["Id"] for record in result["group"]["records"]] == ["a015g0000000001AAA"]


def test_single_query_goes_as_plain_query(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    result = connector.call("query_many", {"queries": {"items": {"object": "item", "where": {"shopify_sku": "SKU-002"}}}})

    assert dict(salesforce_sandbox.calls) == {"GET query": 1}
    assert result == {"items": {"records": [{"Id": "a035g0000000004AAA"}], "count": 1}}


def test_empty_in_list_matches_nothing(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    result = connector.call(
        "query_many",
        {"queries": {"items": {"object": "item", "where": {"shopify_sku": {"in": []}}}, "maps": {"object": "item_map", "where": {"shopify_variant_id": []}}}},
    )

    assert result == {"items": {"records": [], "count": 0}, "maps": {"records": [], "count": 0}}
    assert dict(salesforce_sandbox.calls) == {"POST composite": 1}


def test_long_result_follows_its_next_pages(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    salesforce_sandbox.query_batch_size = 5
    all_items = salesforce_sandbox.records.all("PBSI__PBSI_Item__c")

    result = connector.call(
        "query_many",
        {"queries": {"items": {"object": "item", "fields": ["Name"], "order_by": ["Name"]}, "group": {"object": "item_group"}}},
    )

    pages_after_first = (len(all_items) - 1) // 5
    assert result["items"]["count"] == len(all_items)
    assert [record["Name"] for record in result["items"]["records"]] == sorted(item["Name"] for item in all_items)
    assert result["group"]["count"] == 1
    assert dict(salesforce_sandbox.calls) == {"POST composite": 1, "GET query.more": pages_after_first}


def test_limit_keeps_first_records(connector: SalesforceConnector) -> None:
    result = connector.call(
        "query_many",
        {"queries": {"first": {"soql": "SELECT Id FROM PBSI__PBSI_Item__c ORDER BY Name", "limit": 2}, "group": {"object": "item_group"}}},
    )

    assert [record["Id"] for record in result["first"]["records"]] == ["a035g0000000001AAA", "a035g0000000002AAA"]
    assert result["first"]["count"] == 2


def test_more_than_25_queries_take_two_requests(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    queries = {f"q{number}": {"object": "item", "where": {"shopify_sku": "SKU-002"}} for number in range(26)}

    result = connector.call("query_many", {"queries": queries})

    assert dict(salesforce_sandbox.calls) == {"POST composite": 2}
    assert [result[f"q{number}"]["count"] for number in range(26)] == [1] * 26


def test_failed_query_raises_its_error(connector: SalesforceConnector) -> None:
    with pytest.raises(FatalError) as failure:
        connector.call(
            "query_many",
            {"queries": {"group": {"object": "item_group"}, "bad": {"soql": "SELECT Nope__c FROM PBSI__PBSI_Item__c"}}},
        )

    assert failure.value.code == "INVALID_FIELD"
    assert failure.value.status == 400
    assert failure.value.message.startswith("query_many PBSI__PBSI_Item__c: ")
    assert "Nope__c" in failure.value.message


@pytest.mark.parametrize(
    ("queries", "message"),
    [
        ({}, "query_many needs queries: a mapping of names to queries"),
        ({"items": "SELECT Id FROM PBSI__PBSI_Item__c"}, "query_many items: a query is a mapping with soql (and params), or object with fields and where"),
        ({"items": {"soql": "SELECT Id FROM PBSI__PBSI_Item__c", "object": "item"}}, "query_many items: give either soql (with params) or object with fields and where, not both"),
        ({"items": {"fields": ["Name"]}}, "query_many items: a query needs soql, or object with fields and where"),
    ],
)
def test_malformed_queries_are_rejected_before_sending(connector: SalesforceConnector, queries: object, message: str) -> None:
    with pytest.raises(FatalError) as failure:
        connector.call("query_many", {"queries": queries})

    assert failure.value.message == message
    assert failure.value.code == "INVALID_INPUT"
    assert connector.round_trips == 0
