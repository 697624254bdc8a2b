"""carton-packed-to-fulfillment end to end: cartons packed in the Salesforce sandbox become
fulfillments in the Shopify sandbox, exactly once each."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.sandbox.local import LocalSandbox
from engine.connections import ConnectionBook
from engine.registry import Registry
from engine.run import RecipeRun, RunSummary, open_connectors
from engine.store import JobStatus, SQLiteStore
from engine.validate import load_recipe

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
RECIPE = RECIPES / "carton-packed-to-fulfillment.yaml"
ORDER_RECIPE = RECIPES / "shopify-order-to-ascent.yaml"

ORDER = "PBSI__PBSI_Sales_Order__c"
LINE = "PBSI__PBSI_Sales_Order_Line__c"
CARTON = "PBSI__Carton__c"

GET_FULFILLMENT_ORDERS = "GET /admin/api/{version}/orders/{id}/fulfillment_orders.json"
GET_FULFILLMENTS = "GET /admin/api/{version}/orders/{id}/fulfillments.json"
POST_FULFILLMENTS = "POST /admin/api/{version}/fulfillments.json"

TRACKING_1 = "1Z999AA10123456784"
TRACKING_2 = "781234567890"


def run_recipe(tmp_path: Path, store: SQLiteStore, dry_run: bool = False, replay: int | None = None, path: Path = RECIPE) -> RunSummary:
    registry = Registry()
    recipe = load_recipe(path, registry)
    with open_connectors(recipe, registry, ConnectionBook({}, "tests", {}), True, tmp_path) as (connectors, redactor):
        run = RecipeRun(recipe, connectors, store, redactor, dry_run=dry_run, sleep=lambda seconds: None)
        return run.replay(replay) if replay is not None else run.poll_and_run()


def new_order(local: LocalSandbox) -> dict[str, Any]:
    """Create a Shopify order of three lines and its Ascent sales order with lines, as the order recipe would."""
    order = local.shopify.state.create_order(
        {
            "customer": {"email": "grace.hopper@example.com", "first_name": "Grace", "last_name": "Hopper"},
            "shipping_address": {"address1": "1 Navy Way", "city": "Arlington", "province_code": "VA", "zip": "22202", "country_code": "US"},
            "line_items": [{"sku": "SKU-001-M", "quantity": 3}, {"sku": "SKU-002", "quantity": 1}, {"sku": "SKU-004-42", "quantity": 2}],
        },
        payment={"kind": "sale"},
    )
    records = local.salesforce.records
    sales_order = records.create(ORDER, {"PBSI__Order_Date__c": "2026-11-02", "Shopify_Order_Id__c": str(order["id"]), "Shopify_Order_Name__c": order["name"]})
    line_ids = [
        records.create(LINE, {"PBSI__Sales_Order__c": sales_order, "PBSI__Quantity_Needed__c": line["quantity"], "PBSI__Price__c": line["price"], "Shopify_Line_Id__c": str(line["id"])})
        for line in order["line_items"]
    ]
    return {"shopify": order, "sales_order": sales_order, "lines": line_ids}


def shopify_order(local: LocalSandbox, order: dict[str, Any]) -> dict[str, Any]:
    return local.shopify.state.orders[order["shopify"]["id"]]


def shipped_lines(fulfillment: dict[str, Any]) -> list[tuple[int, int]]:
    return [(line["id"], line["quantity"]) for line in fulfillment["line_items"]]


def test_carton_becomes_fulfillment_of_packed_units(tmp_path, local, store):
    order = new_order(local)
    tee, mug, shoe = order["shopify"]["line_items"]
    packed = local.salesforce.records.pack_carton(order["sales_order"], {order["lines"][0]: 2, order["lines"][1]: 1}, TRACKING_1, "UPS Ground")

    summary = run_recipe(tmp_path, store)

    assert [(job.status, job.event_id) for job in summary.jobs] == [(JobStatus.SUCCEEDED, packed["carton_id"])]
    stored = shopify_order(local, order)
    [fulfillment] = stored["fulfillments"]
    assert shipped_lines(fulfillment) == [(tee["id"], 2), (mug["id"], 1)]
    assert fulfillment["tracking_number"] == TRACKING_1
    assert fulfillment["tracking_company"] == "UPS"
    assert fulfillment["status"] == "success"
    assert fulfillment["notify_customer"] is True
    assert fulfillment["location_id"] == 65000001
    assert [(line["id"], line["fulfillable_quantity"]) for line in stored["line_items"]] == [(tee["id"], 1), (mug["id"], 0), (shoe["id"], 2)]
    assert stored["fulfillment_status"] == "partial"
    assert local.salesforce.records.get(CARTON, packed["carton_id"])["Shopify_Fulfillment_Id__c"] == str(fulfillment["id"])


def test_carton_costs_one_shopify_write_after_two_reads(tmp_path, local, store):
    order = new_order(local)
    local.salesforce.records.pack_carton(order["sales_order"], {order["lines"][0]: 3}, TRACKING_1, "UPS")
    local.shopify.calls.clear()
    local.salesforce.calls.clear()

    run_recipe(tmp_path, store)

    assert dict(local.shopify.calls) == {GET_FULFILLMENT_ORDERS: 1, GET_FULFILLMENTS: 1, POST_FULFILLMENTS: 1}
    # The trigger's poll, the packed lines and the sales order lines; the order; the write-back.
    assert dict(local.salesforce.calls) == {"GET query": 3, "GET sobjects.get": 1, "PATCH sobjects.update": 1}


def test_second_carton_makes_second_fulfillment_for_rest(tmp_path, local, store):
    order = new_order(local)
    tee, mug, shoe = order["shopify"]["line_items"]
    records = local.salesforce.records
    first = records.pack_carton(order["sales_order"], {order["lines"][0]: 2, order["lines"][1]: 1}, TRACKING_1, "UPS Ground")
    run_recipe(tmp_path, store)
    second = records.pack_carton(order["sales_order"], {order["lines"][0]: 1, order["lines"][2]: 2}, TRACKING_2, "FedEx Ground")

    summary = run_recipe(tmp_path, store)

    assert [(job.status, job.event_id) for job in summary.jobs] == [(JobStatus.SUCCEEDED, second["carton_id"])]
    stored = shopify_order(local, order)
    earlier, later = stored["fulfillments"]
    assert shipped_lines(later) == [(tee["id"], 1), (shoe["id"], 2)]
    assert (later["tracking_number"], later["tracking_company"]) == (TRACKING_2, "FedEx")
    assert [(line["id"], line["fulfillable_quantity"]) for line in stored["line_items"]] == [(tee["id"], 0), (mug["id"], 0), (shoe["id"], 0)]
    assert stored["fulfillment_status"] == "fulfilled"
    assert records.get(CARTON, first["carton_id"])["Shopify_Fulfillment_Id__c"] == str(earlier["id"])
    assert records.get(CARTON, second["carton_id"])["Shopify_Fulfillment_Id__c"] == str(later["id"])
    assert local.shopify.calls[POST_FULFILLMENTS] == 2


def test_second_parcel_same_tracking_fulfilled(tmp_path, local, store):
    # Freight carriers give every parcel of one shipment the same tracking (PRO) number.
    order = new_order(local)
    tee, mug, shoe = order["shopify"]["line_items"]
    records = local.salesforce.records
    records.pack_carton(order["sales_order"], {order["lines"][0]: 3}, "PRO-448812", "Estes Express")
    second = records.pack_carton(order["sales_order"], {order["lines"][1]: 1, order["lines"][2]: 2}, "PRO-448812", "Estes Express")

    summary = run_recipe(tmp_path, store)

    assert [job.status for job in summary.jobs] == [JobStatus.SUCCEEDED, JobStatus.SUCCEEDED]
    earlier, later = shopify_order(local, order)["fulfillments"]
    assert shipped_lines(earlier) == [(tee["id"], 3)]
    assert shipped_lines(later) == [(mug["id"], 1), (shoe["id"], 2)]
    assert (later["tracking_number"], later["tracking_company"]) == ("PRO-448812", "Estes Express")
    assert records.get(CARTON, second["carton_id"])["Shopify_Fulfillment_Id__c"] == str(later["id"])


def test_second_run_creates_nothing(tmp_path, local, store):
    order = new_order(local)
    local.salesforce.records.pack_carton(order["sales_order"], {order["lines"][0]: 3}, TRACKING_1, "UPS")
    run_recipe(tmp_path, store)
    local.shopify.calls.clear()

    summary = run_recipe(tmp_path, store)

    assert summary.jobs == []
    assert len(shopify_order(local, order)["fulfillments"]) == 1
    assert dict(local.shopify.calls) == {}


def test_replayed_job_does_not_fulfil_carton_again(tmp_path, local, store):
    order = new_order(local)
    packed = local.salesforce.records.pack_carton(order["sales_order"], {order["lines"][1]: 1}, TRACKING_1, "UPS")
    [job] = run_recipe(tmp_path, store).jobs

    replay = run_recipe(tmp_path, store, replay=job.id)

    assert [entry.status for entry in replay.jobs] == [JobStatus.SUCCEEDED]
    [fulfillment] = shopify_order(local, order)["fulfillments"]
    assert local.shopify.calls[POST_FULFILLMENTS] == 1
    assert local.salesforce.records.get(CARTON, packed["carton_id"])["Shopify_Fulfillment_Id__c"] == str(fulfillment["id"])


def test_replay_after_failed_write_back(tmp_path, local, store):
    order = new_order(local)
    packed = local.salesforce.records.pack_carton(order["sales_order"], {order["lines"][2]: 2}, TRACKING_1, "UPS")
    # The update is tried three times (the default two retries), and the sandbox rejects each try.
    local.salesforce.records.write_faults.unable_to_lock_row_next = 3

    [failed] = run_recipe(tmp_path, store).jobs
    replay = run_recipe(tmp_path, store, replay=failed.id)

    assert failed.status is JobStatus.FAILED
    assert failed.error["code"] == "UNABLE_TO_LOCK_ROW"
    assert [job.status for job in replay.jobs] == [JobStatus.SUCCEEDED]
    [fulfillment] = shopify_order(local, order)["fulfillments"]
    assert shipped_lines(fulfillment) == [(order["shopify"]["line_items"][2]["id"], 2)]
    assert local.shopify.calls[POST_FULFILLMENTS] == 1
    assert local.salesforce.records.get(CARTON, packed["carton_id"])["Shopify_Fulfillment_Id__c"] == str(fulfillment["id"])


def test_dry_run_creates_nothing_and_plans_both_writes(tmp_path, local, store):
    order = new_order(local)
    tee = order["shopify"]["line_items"][0]
    packed = local.salesforce.records.pack_carton(order["sales_order"], {order["lines"][0]: 2}, TRACKING_1, "DHL")

    dry = run_recipe(tmp_path, store, dry_run=True)

    [job] = dry.jobs
    planned = dry.planned[job.id]
    assert [(write.step, write.connector, write.action) for write in planned] == [
        ("fulfillment", "shopify", "create_fulfillment"),
        ("carton", "salesforce", "update"),
    ]
    assert planned[0].payload == {
        "order_id": str(order["shopify"]["id"]),
        "lines": [{"line_item_id": str(tee["id"]), "quantity": 2}],
        "tracking_number": TRACKING_1,
        "tracking_company": "DHL Express",
        "notify_customer": True,
    }
    assert shopify_order(local, order)["fulfillments"] == []
    assert local.shopify.calls[POST_FULFILLMENTS] == 0
    assert local.salesforce.records.get(CARTON, packed["carton_id"])["Shopify_Fulfillment_Id__c"] is None
    assert [job.status for job in run_recipe(tmp_path, store).jobs] == [JobStatus.SUCCEEDED]


def test_carton_without_tracking_number_waits_for_one(tmp_path, local, store):
    order = new_order(local)
    records = local.salesforce.records
    carton = records.create(CARTON, {"PBSI__Sales_Order__c": order["sales_order"], "PBSI__Carrier__c": "UPS"})

    waiting = run_recipe(tmp_path, store)
    records.update(CARTON, carton, {"PBSI__Tracking_Number__c": TRACKING_1})
    records.create("PBSI__Shipped_Sales_Order_Line__c", {"PBSI__Carton__c": carton, "PBSI__Sales_Order_Line__c": order["lines"][1], "PBSI__Quantity_Shipped__c": Decimal(1)})
    tracked = run_recipe(tmp_path, store)

    assert waiting.jobs == []
    assert [(job.status, job.event_id) for job in tracked.jobs] == [(JobStatus.SUCCEEDED, carton)]
    [fulfillment] = shopify_order(local, order)["fulfillments"]
    assert shipped_lines(fulfillment) == [(order["shopify"]["line_items"][1]["id"], 1)]


@pytest.mark.skipif(not ORDER_RECIPE.exists(), reason="needs recipes/shopify-order-to-ascent.yaml")
def test_synced_order_fulfilled_carton_by_carton(tmp_path, local, store):
    shopify = local.shopify.state.create_order(
        {
            "customer": {"email": "grace.hopper@example.com", "first_name": "Grace", "last_name": "Hopper"},
            "line_items": [{"sku": "SKU-001-M", "quantity": 3}, {"sku": "SKU-002", "quantity": 1}],
        },
        payment={"kind": "sale"},
    )
    tee, mug = shopify["line_items"]
    synced = run_recipe(tmp_path, store, path=ORDER_RECIPE)
    assert [job.status for job in synced.jobs if job.event_id == str(shopify["id"])] == [JobStatus.SUCCEEDED]
    records = local.salesforce.records
    [sales_order] = [record["Id"] for record in records.all(ORDER) if record["Shopify_Order_Id__c"] == str(shopify["id"])]
    line_ids = {record["Shopify_Line_Id__c"]: record["Id"] for record in records.all(LINE) if record["PBSI__Sales_Order__c"] == sales_order}
    records.pack_carton(sales_order, {line_ids[str(tee["id"])]: 2}, TRACKING_1, "UPS")

    first = run_recipe(tmp_path, store)
    records.pack_carton(sales_order, {line_ids[str(tee["id"])]: 1, line_ids[str(mug["id"])]: 1}, TRACKING_2, "FedEx")
    second = run_recipe(tmp_path, store)

    assert [job.status for job in first.jobs + second.jobs] == [JobStatus.SUCCEEDED, JobStatus.SUCCEEDED]
    stored = local.shopify.state.orders[shopify["id"]]
    assert [shipped_lines(fulfillment) for fulfillment in stored["fulfillments"]] == [[(tee["id"], 2)], [(tee["id"], 1), (mug["id"], 1)]]
    assert [fulfillment["tracking_number"] for fulfillment in stored["fulfillments"]] == [TRACKING_1, TRACKING_2]
    assert stored["fulfillment_status"] == "fulfilled"
