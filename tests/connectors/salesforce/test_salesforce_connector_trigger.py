"""The `updated_records` trigger against the sandbox: order, cursor, ties, conditions and paging."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from salesforce_connector_helpers import connector  # noqa: F401  (fixture)

from connectors.salesforce import triggers
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.sandbox import SalesforceSandbox
from engine.errors import EventInvalid

SEED_TIME = "2026-01-01T00:00:00.000+0000"
ITEM = "PBSI__PBSI_Item__c"


def item_ids(sandbox: SalesforceSandbox) -> list[str]:
    return sorted(record["Id"] for record in sandbox.records.all(ITEM))


def poll_all(connector: SalesforceConnector, inputs: dict, limit: int) -> tuple[list[str], list[dict], int]:
    """Poll until the trigger has nothing more; return the event ids, the cursors and the number of polls."""
    cursor = None
    seen: list[str] = []
    cursors: list[dict] = []
    polls = 0
    while True:
        polls += 1
        poll = connector.poll("updated_records", inputs, cursor, None, limit)
        seen.extend(event.id for event in poll.events)
        cursor = poll.cursor
        cursors.append(cursor)
        if not poll.more:
            return seen, cursors, polls


def test_first_poll_returns_oldest_records_with_exact_events(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    poll = connector.poll("updated_records", {"object": "item", "fields": ["shopify_sku", "sales_price"]}, None, None, 2)

    assert [(event.id, event.version) for event in poll.events] == [
        ("a035g0000000001AAA", SEED_TIME),
        ("a035g0000000002AAA", SEED_TIME),
    ]
    assert poll.events[0].data == {
        "Id": "a035g0000000001AAA",
        "SystemModstamp": SEED_TIME,
        "Shopify_SKU__c": "SKU-001-S",
        "PBSI__salesprice__c": Decimal("19.99"),
        "shopify_sku": "SKU-001-S",
        "sales_price": Decimal("19.99"),
    }
    assert poll.cursor == {"modstamp": SEED_TIME, "ids": ["a035g0000000001AAA", "a035g0000000002AAA"]}
    assert poll.more is True
    assert salesforce_sandbox.calls["GET query"] == 1
    assert connector.round_trips == 1


def test_tie_across_page_boundary_loses_and_repeats_nothing(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    # Every seeded item has the same SystemModstamp, so each page boundary falls inside a tie.
    expected = item_ids(salesforce_sandbox)

    seen, cursors, polls = poll_all(connector, {"object": "item"}, limit=5)

    assert len(expected) == 22
    assert seen == expected
    assert polls == 5
    assert cursors[-1] == {"modstamp": SEED_TIME, "ids": expected}
    assert salesforce_sandbox.calls["GET query"] == 5


def test_long_tie_switches_to_id_order(
    connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(triggers, "MAX_TIE_IDS", 4)
    expected = item_ids(salesforce_sandbox)

    seen, cursors, _ = poll_all(connector, {"object": "item"}, limit=3)

    assert seen == expected
    assert cursors[1] == {"modstamp": SEED_TIME, "ids": [], "after_id": expected[5]}
    assert cursors[2] == {"modstamp": SEED_TIME, "ids": expected[6:9], "after_id": expected[5]}


def test_changed_record_comes_again_with_new_version(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    _, cursors, _ = poll_all(connector, {"object": "item"}, limit=50)
    first = item_ids(salesforce_sandbox)[3]
    salesforce_sandbox.records.update(ITEM, first, {"PBSI__Cost__c": "5.00"})
    changed = salesforce_sandbox.records.get(ITEM, first)

    poll = connector.poll("updated_records", {"object": "item"}, cursors[-1], None, 50)

    assert [(event.id, event.version) for event in poll.events] == [(first, changed["SystemModstamp"])]
    assert poll.cursor == {"modstamp": changed["SystemModstamp"], "ids": [first]}
    assert poll.more is False


def test_poll_with_nothing_new_keeps_cursor(connector: SalesforceConnector) -> None:
    cursor = {"modstamp": "2030-01-01T00:00:00.000+0000", "ids": ["a035g0000000001AAA"]}

    poll = connector.poll("updated_records", {"object": "item"}, cursor, None, 10)

    assert poll.events == []
    assert poll.cursor == cursor
    assert poll.more is False


def test_since_limits_the_first_poll(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    created = salesforce_sandbox.records.create("Account", {"Name": "New Customer"})

    poll = connector.poll("updated_records", {"object": "account"}, None, datetime(2026, 1, 2, tzinfo=timezone.utc), 10)

    assert [event.id for event in poll.events] == [created]


def test_condition_with_structured_filter_selects_cartons_with_tracking(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    order = salesforce_sandbox.records.create("PBSI__PBSI_Sales_Order__c", {"PBSI__Order_Date__c": "2026-11-02"})
    untracked = salesforce_sandbox.records.create("PBSI__Carton__c", {"PBSI__Sales_Order__c": order})
    tracked = salesforce_sandbox.records.create("PBSI__Carton__c", {"PBSI__Sales_Order__c": order, "PBSI__Tracking_Number__c": "1Z999AA10123456784", "PBSI__Carrier__c": "UPS"})
    inputs = {
        "object": "carton",
        "fields": ["tracking_number", "carrier", "sales_order.shopify_order_id"],
        "condition": {"PBSI__Tracking_Number__c": {"!=": None}},
    }

    poll = connector.poll("updated_records", inputs, None, None, 10)

    assert untracked not in [event.id for event in poll.events]
    assert [event.data for event in poll.events] == [
        {
            "Id": tracked,
            "SystemModstamp": salesforce_sandbox.records.get("PBSI__Carton__c", tracked)["SystemModstamp"],
            "PBSI__Tracking_Number__c": "1Z999AA10123456784",
            "PBSI__Carrier__c": "UPS",
            "PBSI__Sales_Order__r": {"Shopify_Order_Id__c": None, "shopify_order_id": None},
            "tracking_number": "1Z999AA10123456784",
            "carrier": "UPS",
        }
    ]


def test_condition_as_mapping_of_logical_fields(connector: SalesforceConnector) -> None:
    poll = connector.poll("updated_records", {"object": "item", "fields": ["shopify_sku"], "condition": {"shopify_sku": ["SKU-002", "SKU-005"]}}, None, None, 10)

    assert [event.data["shopify_sku"] for event in poll.events] == ["SKU-002", "SKU-005"]


def test_poll_follows_next_records_url(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    salesforce_sandbox.query_batch_size = 4

    poll = connector.poll("updated_records", {"object": "item"}, None, None, 10)

    assert [event.id for event in poll.events] == item_ids(salesforce_sandbox)[:10]
    assert poll.more is True
    assert salesforce_sandbox.calls["GET query"] == 1
    assert salesforce_sandbox.calls["GET query.more"] == 2
    assert connector.round_trips == 3


def test_event_from_payload_uses_id_and_modstamp(connector: SalesforceConnector) -> None:
    event = connector.event_from_payload("updated_records", {"Id": "a075g0000000001AAA", "SystemModstamp": SEED_TIME})

    assert (event.id, event.version) == ("a075g0000000001AAA", SEED_TIME)


def test_event_from_payload_without_id_is_invalid(connector: SalesforceConnector) -> None:
    with pytest.raises(EventInvalid) as failure:
        connector.event_from_payload("updated_records", {"id": 1})

    assert str(failure.value) == "the event has no 'Id' field; give the record's Id (and its SystemModstamp as the version)"
