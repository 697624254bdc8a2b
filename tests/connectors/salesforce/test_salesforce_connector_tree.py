"""`save_tree` against the sandbox: orders and payments in few round trips, all or none, idempotent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator

import pytest
from salesforce_connector_helpers import connector, token_settings, total_calls  # noqa: F401  (fixture)

from connectors.salesforce import tree
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.sandbox import SalesforceSandbox
from engine.errors import FatalError, RetryableError

ACCOUNT_1 = "0015g0000000001AAA"
ORDER = "PBSI__PBSI_Sales_Order__c"
LINE = "PBSI__PBSI_Sales_Order_Line__c"


@pytest.fixture
def large_sandbox() -> Iterator[SalesforceSandbox]:
    """A sandbox with more than 200 items, so an order can have 200 lines of different items."""
    sandbox = SalesforceSandbox(port=0, extra_items=100).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


def order_tree(order_id: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "sales_order",
        "external_id_field": "shopify_order_id",
        "record": {"shopify_order_id": order_id, "customer": ACCOUNT_1, "order_date": "2026-11-02", "shipping_amount": Decimal("4.95")},
        "children": [{"object": "sales_order_line", "external_id_field": "shopify_line_id", "parent_field": "sales_order", "records": lines}],
    }


def save_order_with_item_lookup(connector: SalesforceConnector, order_id: str, skus: list[str]) -> dict[str, Any]:
    """What a recipe does: find the items by SKU in one query, then save the order and its lines."""
    found = connector.call("query", {"object": "item", "fields": ["shopify_sku", "sales_price"], "where": {"shopify_sku": {"in": skus}}})
    items = {record["shopify_sku"]: record for record in found["records"]}
    lines = [
        {"shopify_line_id": f"{order_id}-{number}", "item": items[sku]["Id"], "quantity_needed": 1, "price": items[sku]["sales_price"], "tax_amount": Decimal("0.10")}
        for number, sku in enumerate(skus, start=1)
    ]
    return connector.call("save_tree", order_tree(order_id, lines))


def test_order_of_200_lines_in_3_round_trips(large_sandbox: SalesforceSandbox) -> None:
    items = large_sandbox.records.all("PBSI__PBSI_Item__c")[:200]
    skus = [item["Shopify_SKU__c"] for item in items]

    with SalesforceConnector(token_settings(large_sandbox)) as connector:
        large_sandbox.server.reset_calls()
        result = save_order_with_item_lookup(connector, "5001", skus)

    order = large_sandbox.records.get(ORDER, result["id"])
    lines = [line for line in large_sandbox.records.all(LINE) if line["PBSI__Sales_Order__c"] == result["id"]]
    expected_total = sum((item["PBSI__salesprice__c"] + Decimal("0.10") for item in items), Decimal("4.95"))
    assert connector.round_trips == 3
    assert total_calls(large_sandbox) == 3
    assert dict(large_sandbox.calls) == {"GET query": 2, "POST composite.graph": 1}
    assert result["created"] is True
    assert len(result["records"]) == 201
    assert len(lines) == 200
    assert sorted(line["PBSI__Item__c"] for line in lines) == sorted(item["Id"] for item in items)
    assert order["PBSI__Order_Total__c"] == expected_total


def test_repeated_order_changes_nothing_and_fails_nothing(large_sandbox: SalesforceSandbox) -> None:
    skus = [item["Shopify_SKU__c"] for item in large_sandbox.records.all("PBSI__PBSI_Item__c")[:200]]

    with SalesforceConnector(token_settings(large_sandbox)) as connector:
        first = save_order_with_item_lookup(connector, "5001", skus)
        before = connector.round_trips
        second = save_order_with_item_lookup(connector, "5001", skus)

    assert connector.round_trips - before == 3
    assert second["id"] == first["id"]
    assert [record["id"] for record in second["records"]] == [record["id"] for record in first["records"]]
    assert not any(record["created"] for record in second["records"])
    assert len(large_sandbox.records.all(LINE)) == 200
    assert len(large_sandbox.records.all(ORDER)) == 1


def test_repeat_adds_only_new_line(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    item = "a035g0000000001AAA"
    line = {"item": item, "quantity_needed": 1, "price": "19.99"}
    connector.call("save_tree", order_tree("7", [{"shopify_line_id": "7-1", **line}]))

    result = connector.call("save_tree", order_tree("7", [{"shopify_line_id": "7-1", **line}, {"shopify_line_id": "7-2", **line}]))

    assert [(record["external_id"], record["created"]) for record in result["records"]] == [("7", False), ("7-1", False), ("7-2", True)]
    assert {row["PBSI__Sales_Order__c"] for row in salesforce_sandbox.records.all(LINE)} == {result["id"]}


def test_payment_in_2_round_trips(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    payment = {
        "object": "sales_invoice",
        "external_id_field": "shopify_order_id",
        "ref": "invoice",
        "record": {"shopify_order_id": "5001", "account": ACCOUNT_1, "invoice_date": "2026-11-02"},
        "children": [
            {
                "object": "sales_invoice_line",
                "external_id_field": "shopify_line_id",
                "parent_field": "sales_invoice",
                "records": [
                    {"shopify_line_id": "5001-1", "item": "a035g0000000001AAA", "quantity": 2, "price": Decimal("19.99"), "tax_amount": Decimal("3.20")},
                    {"shopify_line_id": "5001-2", "item": "a035g0000000004AAA", "quantity": 1, "price": Decimal("12.50"), "tax_amount": Decimal("1.00")},
                ],
            },
            {
                "object": "cash_receipt",
                "external_id_field": "shopify_transaction_id",
                "ref": "receipt",
                "record": {"shopify_transaction_id": "T-900", "account": ACCOUNT_1, "amount": Decimal("56.68"), "receipt_date": "2026-11-02"},
                "children": [
                    {
                        "object": "applied_cash_receipt",
                        "external_id_field": "shopify_transaction_id",
                        "parent_field": "cash_receipt",
                        "record": {"shopify_transaction_id": "T-900", "sales_invoice": {"$ref": "invoice"}, "amount_applied": Decimal("56.68")},
                    }
                ],
            },
        ],
    }

    result = connector.call("save_tree", payment)

    invoice = salesforce_sandbox.records.get("PBSI__Sales_Invoice__c", result["id"])
    application = salesforce_sandbox.records.all("PBSI__Applied_Cash_Receipt__c")[0]
    assert connector.round_trips == 2
    assert dict(salesforce_sandbox.calls) == {"GET query": 1, "POST composite.graph": 1}
    assert result["refs"] == {"invoice": result["id"], "receipt": result["records"][3]["id"]}
    assert [(record["object"], record["external_id"], record["created"]) for record in result["records"]] == [
        ("PBSI__Sales_Invoice__c", "5001", True),
        ("PBSI__Sales_Invoice_Line__c", "5001-1", True),
        ("PBSI__Sales_Invoice_Line__c", "5001-2", True),
        ("PBSI__Cash_Receipt__c", "T-900", True),
        ("PBSI__Applied_Cash_Receipt__c", "T-900", True),
    ]
    assert (invoice["PBSI__Total__c"], invoice["PBSI__Amount_Paid__c"], invoice["PBSI__Balance__c"]) == (Decimal("56.68"), Decimal("56.68"), Decimal("0.00"))
    assert invoice["PBSI__Status__c"] == "Closed"
    assert (application["PBSI__Cash_Receipt__c"], application["PBSI__Sales_Invoice__c"]) == (result["refs"]["receipt"], result["id"])


def test_failed_line_writes_nothing_and_reports_its_error(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    lines = [
        {"shopify_line_id": "9-1", "item": "a035g0000000001AAA", "quantity_needed": 1, "price": "19.99"},
        {"shopify_line_id": "9-2", "item": "a035g0000000099AAA", "quantity_needed": 1, "price": "19.99"},
    ]

    with pytest.raises(FatalError) as failure:
        connector.call("save_tree", order_tree("9", lines))

    assert (failure.value.code, failure.value.status, failure.value.fields) == ("INVALID_CROSS_REFERENCE_KEY", 400, ["PBSI__Item__c"])
    assert failure.value.message == (
        "save_tree PBSI__PBSI_Sales_Order__c: PBSI__PBSI_Sales_Order_Line__c Shopify_Line_Id__c 9-2: invalid cross reference id"
    )
    assert salesforce_sandbox.records.all(ORDER) == []
    assert salesforce_sandbox.records.all(LINE) == []


def test_account_contact_and_order_in_one_tree(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    customer = {
        "object": "account",
        "external_id_field": "shopify_customer_id",
        "ref": "account",
        "record": {"shopify_customer_id": "C-42", "name": "Grace Hopper"},
        "children": [
            {"object": "contact", "external_id_field": "shopify_customer_id", "parent_field": "account", "ref": "contact", "record": {"shopify_customer_id": "C-42", "last_name": "Hopper"}},
            {
                "object": "sales_order",
                "external_id_field": "shopify_order_id",
                "parent_field": "customer",
                "record": {"shopify_order_id": "42", "order_date": "2026-11-02", "contact": {"$ref": "contact"}},
            },
        ],
    }

    result = connector.call("save_tree", customer)

    order = salesforce_sandbox.records.all(ORDER)[0]
    assert (order["PBSI__Customer__c"], order["PBSI__Contact__c"]) == (result["refs"]["account"], result["refs"]["contact"])
    assert connector.round_trips == 1


def test_tree_larger_than_one_graph_goes_in_several(
    connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tree, "MAX_GRAPH_NODES", 3)
    lines = [{"shopify_line_id": f"8-{number}", "item": "a035g0000000001AAA", "quantity_needed": 1, "price": "1.00"} for number in range(5)]

    result = connector.call("save_tree", order_tree("8", lines))

    assert salesforce_sandbox.calls["POST composite.graph"] == 2
    assert {row["PBSI__Sales_Order__c"] for row in salesforce_sandbox.records.all(LINE)} == {result["id"]}
    assert len(salesforce_sandbox.records.all(LINE)) == 5


@pytest.mark.parametrize(
    ("tree_input", "message"),
    [
        (
            {"object": "account", "external_id_field": "shopify_customer_id", "record": {"shopify_customer_id": "1", "name": "A", "Phone": {"$ref": "later"}}},
            "save_tree root: Phone refers to 'later', which is not the ref of an earlier node (parents come before children)",
        ),
        (
            {
                "object": "account",
                "external_id_field": "shopify_customer_id",
                "record": {"shopify_customer_id": "1", "name": "A"},
                "children": [{"object": "account", "external_id_field": "shopify_customer_id", "record": {"shopify_customer_id": "1", "name": "B"}}],
            },
            "save_tree root.children[0]: Account Shopify_Customer_Id__c 1 appears twice in the tree",
        ),
        (
            {"object": "account", "external_id_field": "shopify_customer_id", "records": [{"shopify_customer_id": "1"}]},
            "save_tree needs a root node with object, external_id_field and record",
        ),
        (
            {
                "object": "account",
                "external_id_field": "shopify_customer_id",
                "record": {"shopify_customer_id": "1", "name": "A"},
                "children": [{"object": "contact", "external_id_field": "shopify_customer_id", "records": [{"shopify_customer_id": "1"}], "ref": "c"}],
            },
            "save_tree root.children[0]: ref and children belong to a node with one record, not to records",
        ),
        (
            {"object": "account", "external_id_field": "shopify_customer_id", "record": {"name": "A"}},
            "the record has no value for its external id field Shopify_Customer_Id__c",
        ),
    ],
)
def test_malformed_tree_is_rejected_before_sending(connector: SalesforceConnector, tree_input: dict[str, Any], message: str) -> None:
    with pytest.raises(FatalError) as failure:
        connector.call("save_tree", tree_input)

    assert failure.value.message == message
    assert connector.round_trips == 0


def test_detail_checks_share_one_request(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    order_and_invoice = order_tree("6", [{"shopify_line_id": "6-1", "item": "a035g0000000001AAA", "quantity_needed": 1, "price": "19.99"}])
    order_and_invoice["children"].append(
        {
            "object": "sales_invoice",
            "external_id_field": "shopify_order_id",
            "parent_field": "sales_order",
            "record": {"shopify_order_id": "6", "invoice_date": "2026-11-03"},
            "children": [
                {"object": "sales_invoice_line", "external_id_field": "shopify_line_id", "parent_field": "sales_invoice", "records": [{"shopify_line_id": "6-1", "quantity": 1, "price": "19.99"}]}
            ],
        }
    )

    first = connector.call("save_tree", order_and_invoice)
    second = connector.call("save_tree", order_and_invoice)

    assert [record["created"] for record in first["records"]] == [True, True, True, True]
    assert [record["created"] for record in second["records"]] == [False, False, False, False]
    assert dict(salesforce_sandbox.calls) == {"POST composite": 2, "POST composite.graph": 2}
    assert connector.round_trips == 4


def invoice_tree(line_ids: list[str], existing: list[str] | None) -> dict[str, Any]:
    tree: dict[str, Any] = {
        "object": "sales_invoice",
        "external_id_field": "shopify_order_id",
        "record": {"shopify_order_id": "7001", "account": ACCOUNT_1, "invoice_date": "2026-11-02"},
        "children": [
            {
                "object": "sales_invoice_line",
                "external_id_field": "shopify_line_id",
                "parent_field": "sales_invoice",
                "records": [{"shopify_line_id": line_id, "item": "a035g0000000001AAA", "quantity": 1, "price": Decimal("19.99")} for line_id in line_ids],
            }
        ],
    }
    if existing is not None:
        tree["existing"] = {"sales_invoice_line": existing}
    return tree


def test_known_existing_records_skip_the_existence_query(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    salesforce_sandbox.server.reset_calls()

    first = connector.call("save_tree", invoice_tree(["7001-1"], existing=[]))

    assert dict(salesforce_sandbox.calls) == {"POST composite.graph": 1}
    assert first["created"] is True


def test_known_existing_line_keeps_its_parent_out_of_the_update(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    connector.call("save_tree", invoice_tree(["7001-1"], existing=[]))
    salesforce_sandbox.server.reset_calls()

    again = connector.call("save_tree", invoice_tree(["7001-1", "7001-2"], existing=["7001-1"]))

    assert dict(salesforce_sandbox.calls) == {"POST composite.graph": 1}
    assert [(record["external_id"], record["created"]) for record in again["records"]] == [("7001", False), ("7001-1", False), ("7001-2", True)]
    assert len(salesforce_sandbox.records.all("PBSI__Sales_Invoice_Line__c")) == 2


def test_existing_must_map_objects_to_lists(connector: SalesforceConnector) -> None:
    tree = invoice_tree(["7001-1"], existing=None)
    tree["existing"] = {"sales_invoice_line": "7001-1"}

    with pytest.raises(FatalError) as failure:
        connector.call("save_tree", tree)

    assert failure.value.message == "save_tree existing must map object names to lists of external id values"
    assert connector.round_trips == 0


def test_duplicate_external_id_from_a_racing_insert_is_retryable() -> None:
    # The Composite Graph response when another request inserted the same SKU a moment before.
    item_node = tree._Node(index=0, name="new_item:sku-9", object="PBSI__PBSI_Item__c", external_field="Shopify_SKU__c", external_value="SKU-9", body={})
    items = {
        "node0": {
            "httpStatusCode": 400,
            "body": [{"errorCode": "DUPLICATE_VALUE", "message": "duplicate value found: Shopify_SKU__c duplicates value on record with id: a035g0000000099AAA", "fields": []}],
        },
    }

    error = tree._graph_error([item_node], items, "save_tree graph 1 of 1")

    assert isinstance(error, RetryableError)
    assert (error.code, error.retry_after) == ("DUPLICATE_VALUE", tree.RACING_INSERT_RETRY_SECONDS)
    assert error.message == (
        "save_tree graph 1 of 1: PBSI__PBSI_Item__c Shopify_SKU__c SKU-9: duplicate value found: Shopify_SKU__c duplicates value on record "
        "with id: a035g0000000099AAA (if another job inserted this Shopify_SKU__c at the same moment, the retry updates it)"
    )
