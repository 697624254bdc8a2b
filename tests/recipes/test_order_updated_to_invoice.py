"""End to end: recipes/order-updated-to-invoice.yaml against the Shopify and Salesforce sandboxes.

Each test invoices #1001 with order-paid-to-invoice, changes the order in the Shopify sandbox,
polls the update recipe as `recipe run --sandbox` does, and checks the invoice's addresses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from invoice_support import INVOICE, SalesOrders, run_recipe, shopify_order

from connectors.sandbox.local import LocalSandbox
from engine.store import JobStatus, SQLiteStore

RECIPE = "order-updated-to-invoice"
OLD_ADDRESS = "Ava Thompson\n45 Joralemon Street\nBrooklyn, NY 11201\nUnited States"
NEW_SHIPPING = {
    "first_name": "Ava",
    "last_name": "Thompson",
    "company": "Northwind Café",
    "address1": "310 West 86th Street",
    "address2": "Apt 5B",
    "city": "New York",
    "province": "New York",
    "province_code": "NY",
    "zip": "10024",
    "country": "United States",
    "country_code": "US",
}
NEW_SHIPPING_TEXT = "Ava Thompson\nNorthwind Café\n310 West 86th Street\nApt 5B\nNew York, NY 10024\nUnited States"


@pytest.fixture
def invoiced(local: LocalSandbox, tmp_path: Path, store: SQLiteStore) -> dict[str, Any]:
    """Order #1001 with its sales order and invoice, after a first poll of the update recipe."""
    order = shopify_order(local, "#1001")
    SalesOrders(local).add(order)
    run_recipe("order-paid-to-invoice", tmp_path, store, event=order)
    run_recipe(RECIPE, tmp_path, store)
    return order


def invoice_of(local: LocalSandbox, order: dict[str, Any]) -> dict[str, Any]:
    (invoice,) = [record for record in local.salesforce.records.all(INVOICE) if record["Shopify_Order_Id__c"] == str(order["id"])]
    return invoice


def test_first_poll_skips_each_order_with_reason(local: LocalSandbox, tmp_path: Path, store: SQLiteStore) -> None:
    order = shopify_order(local, "#1001")
    SalesOrders(local).add(order)
    run_recipe("order-paid-to-invoice", tmp_path, store, event=order)
    local.salesforce.server.reset_calls()

    summary = run_recipe(RECIPE, tmp_path, store)

    reasons = {job.event_id: job.reason for job in summary.jobs}
    assert len(summary.jobs) == 26
    assert {job.status for job in summary.jobs} == {JobStatus.SKIPPED}
    assert reasons.pop("5900000000000") == "The addresses of #1001 match invoice INV-000001; nothing to update"
    assert reasons["5900000000001"] == "Order #1002 has no sales invoice in Ascent; order-paid-to-invoice creates it once the order is paid"
    assert all(reason.endswith("has no sales invoice in Ascent; order-paid-to-invoice creates it once the order is paid") for reason in reasons.values())
    assert dict(local.salesforce.calls) == {"GET sobjects.get_by_external_id": 26}


def test_pos_sale_without_change_writes_nothing(local: LocalSandbox, tmp_path: Path, store: SQLiteStore) -> None:
    order = shopify_order(local, "#1003")
    SalesOrders(local).add(order)
    run_recipe("order-paid-to-invoice", tmp_path, store, event=order)
    local.salesforce.server.reset_calls()

    summary = run_recipe(RECIPE, tmp_path, store, event=order)

    (job,) = summary.jobs
    assert (job.status, job.reason) == (JobStatus.SKIPPED, "The addresses of #1003 match invoice INV-000001; nothing to update")
    assert dict(local.salesforce.calls) == {"GET sobjects.get_by_external_id": 1}


def test_changed_shipping_address_updates_invoice(local: LocalSandbox, tmp_path: Path, store: SQLiteStore, invoiced: dict[str, Any]) -> None:
    local.shopify.state.update_order(invoiced["id"], {"shipping_address": NEW_SHIPPING})
    local.salesforce.server.reset_calls()

    summary = run_recipe(RECIPE, tmp_path, store)

    invoice = invoice_of(local, invoiced)
    assert [(job.event_id, job.status) for job in summary.jobs] == [("5900000000000", JobStatus.SUCCEEDED)]
    assert invoice["PBSI__Shipping_Address__c"] == NEW_SHIPPING_TEXT
    assert invoice["PBSI__Billing_Address__c"] == OLD_ADDRESS
    assert dict(local.salesforce.calls) == {"GET sobjects.get_by_external_id": 1, "PATCH sobjects.update": 1}


def test_changed_billing_address_updates_invoice(local: LocalSandbox, tmp_path: Path, store: SQLiteStore, invoiced: dict[str, Any]) -> None:
    local.shopify.state.update_order(invoiced["id"], {"billing_address": NEW_SHIPPING})

    run_recipe(RECIPE, tmp_path, store)

    invoice = invoice_of(local, invoiced)
    assert invoice["PBSI__Billing_Address__c"] == NEW_SHIPPING_TEXT
    assert invoice["PBSI__Shipping_Address__c"] == OLD_ADDRESS


def test_other_change_writes_nothing(local: LocalSandbox, tmp_path: Path, store: SQLiteStore, invoiced: dict[str, Any]) -> None:
    before = invoice_of(local, invoiced)
    local.shopify.state.update_order(invoiced["id"], {"note": "Leave at the front desk", "tags": "vip"})
    local.salesforce.server.reset_calls()

    summary = run_recipe(RECIPE, tmp_path, store)

    (job,) = summary.jobs
    assert (job.status, job.reason) == (JobStatus.SKIPPED, "The addresses of #1001 match invoice INV-000001; nothing to update")
    assert dict(local.salesforce.calls) == {"GET sobjects.get_by_external_id": 1}
    assert invoice_of(local, invoiced) == before


def test_second_run_writes_nothing(local: LocalSandbox, tmp_path: Path, store: SQLiteStore, invoiced: dict[str, Any]) -> None:
    local.shopify.state.update_order(invoiced["id"], {"shipping_address": NEW_SHIPPING})
    run_recipe(RECIPE, tmp_path, store)
    after_first = invoice_of(local, invoiced)
    local.salesforce.server.reset_calls()

    summary = run_recipe(RECIPE, tmp_path, store)

    assert summary.jobs == []
    assert dict(local.salesforce.calls) == {}
    assert invoice_of(local, invoiced) == after_first


def test_dry_run_writes_nothing(local: LocalSandbox, tmp_path: Path, store: SQLiteStore, invoiced: dict[str, Any]) -> None:
    local.shopify.state.update_order(invoiced["id"], {"shipping_address": NEW_SHIPPING})
    before = invoice_of(local, invoiced)

    summary = run_recipe(RECIPE, tmp_path, store, dry_run=True)

    (planned,) = summary.planned[summary.jobs[0].id]
    assert (planned.step, planned.action, planned.payload["record"]["shipping_address"]) == ("update_invoice", "update", NEW_SHIPPING_TEXT)
    assert invoice_of(local, invoiced) == before
