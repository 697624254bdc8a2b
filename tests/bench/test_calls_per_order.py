"""Scenario 2 of the benchmarks as a test: the requests each job sends, counted by endpoint.

Counts are deterministic, so they are asserted exactly; timings are never asserted here.
"""

from __future__ import annotations

import pytest

from bench.calls import CallCount, count_calls

GRAPH = "POST composite.graph"
COMPOSITE = "POST composite"
QUERY = "GET query"
TRANSACTIONS = "GET /admin/api/{version}/orders/{id}/transactions.json"
FULFILLMENT_ORDERS = "GET /admin/api/{version}/orders/{id}/fulfillment_orders.json"
FULFILLMENTS = "GET /admin/api/{version}/orders/{id}/fulfillments.json"
POST_FULFILLMENTS = "POST /admin/api/{version}/fulfillments.json"

# One Composite request of item queries, the existence query of save_tree, one Composite Graph.
THREE_CALLS = {COMPOSITE: 1, QUERY: 1, GRAPH: 1}


@pytest.fixture(scope="module")
def counts() -> dict[str, CallCount]:
    return {count.case: count for count in count_calls()}


@pytest.mark.parametrize("case", ["new customer, 3 lines", "repeat customer, 3 lines", "new customer, 1 lines", "new customer, 5 lines", "new customer, 50 lines", "new customer, 200 lines"])
def test_order_up_to_200_lines_takes_3_salesforce_calls(counts: dict[str, CallCount], case: str) -> None:
    count = counts[case]

    assert count.status == "succeeded"
    assert count.salesforce == THREE_CALLS
    assert count.shopify == {}
    assert count.round_trips == 3


def test_order_of_600_lines_takes_4_salesforce_calls(counts: dict[str, CallCount]) -> None:
    # 600 lines and the account, contact and order are 603 records, over one graph's 500.
    count = counts["new customer, 600 lines"]

    assert count.status == "succeeded"
    assert count.salesforce == {COMPOSITE: 2, GRAPH: 2}
    assert count.shopify == {}
    assert count.round_trips == 4


def test_payment_takes_2_salesforce_calls_and_1_shopify_read(counts: dict[str, CallCount]) -> None:
    # One Composite request reads the order lines and the saved invoice lines; one graph writes.
    count = counts["payment"]

    assert count.status == "succeeded"
    assert count.salesforce == {COMPOSITE: 1, GRAPH: 1}
    assert count.shopify == {TRANSACTIONS: 1}
    assert count.round_trips == 3


def test_fulfillment_takes_1_shopify_write_after_2_reads(counts: dict[str, CallCount]) -> None:
    count = counts["fulfillment"]

    assert count.status == "succeeded"
    assert count.shopify == {FULFILLMENT_ORDERS: 1, FULFILLMENTS: 1, POST_FULFILLMENTS: 1}
    assert count.salesforce == {QUERY: 3, "GET sobjects.get": 1, "PATCH sobjects.update": 1}
    assert count.round_trips == 7
