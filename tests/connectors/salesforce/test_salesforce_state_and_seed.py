"""The seeded catalogue, its determinism, and saving and loading the org's state."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from salesforce_sandbox_helpers import new_order

from connectors.sandbox.catalog import ERP_LOCATION_NAME, catalog
from connectors.salesforce.sandbox import SalesforceSandbox

ITEM = "PBSI__PBSI_Item__c"
ORDER = "PBSI__PBSI_Sales_Order__c"


def test_seed_builds_items_from_the_catalogue() -> None:
    sandbox = SalesforceSandbox()
    variants = catalog(seed=7)

    items = sandbox.records.all(ITEM)
    maps = sandbox.records.all("Shopify_Item_Map__c")
    locations = sandbox.records.all("PBSI__PBSI_Location__c")

    in_erp = [variant for variant in variants if variant.in_erp]
    assert [item["Shopify_SKU__c"] for item in items] == [variant.sku for variant in in_erp]
    assert [item["PBSI__Vendor_Item_ID__c"] for item in items] == [variant.sku for variant in in_erp]
    assert [item["Name"] for item in items] == [variant.item_number for variant in in_erp]
    assert [item["PBSI__salesprice__c"] for item in items] == [variant.price for variant in in_erp]
    assert [item["PBSI__Quantity_On_Hand__c"] for item in items] == [Decimal(variant.on_hand) for variant in in_erp]
    assert [row["Shopify_Variant_Id__c"] for row in maps] == [str(variant.variant_id) for variant in variants if variant.in_lookup]
    assert [location["Name"] for location in locations] == [ERP_LOCATION_NAME]
    assert len(sandbox.records.all("PBSI__PBSI_Inventory__c")) == len(in_erp)


def test_same_seed_gives_same_org() -> None:
    first = SalesforceSandbox(seed=11).state()
    second = SalesforceSandbox(seed=11).state()
    other = SalesforceSandbox(seed=12).state()

    assert first == second
    assert first != other


def test_extra_items_grow_the_catalogue() -> None:
    sandbox = SalesforceSandbox(extra_items=10)

    expected = sum(1 for variant in catalog(seed=7, extra_products=10) if variant.in_erp)
    assert len(sandbox.records.all(ITEM)) == expected
    assert expected > 22


def test_state_saved_on_stop_and_loaded_on_start(tmp_path: Path) -> None:
    state_file = tmp_path / "org.json"
    with SalesforceSandbox(state_file=state_file) as sandbox:
        client = sandbox.client()
        ids = new_order(client, sandbox)
        sandbox.records.create("Account", {"Name": "Money", "Shopify_Customer_Id__c": "m-1"})
        saved_state = sandbox.state()

    with SalesforceSandbox(state_file=state_file) as reloaded:
        order = reloaded.client().PBSI__PBSI_Sales_Order__c.get(ids["order"])
        next_order = reloaded.records.create(ORDER, {"PBSI__Order_Date__c": "2026-12-01"})

    assert order["Shopify_Order_Id__c"] == "5001"
    assert order["PBSI__Order_Total__c"] == float(saved_state["store"]["objects"][ORDER][0]["PBSI__Order_Total__c"])
    assert SalesforceSandbox(state_file=state_file).records.get(ORDER, next_order)["Name"] == "SO-000002"  # type: ignore[index]


def test_saved_state_keeps_decimals_exact(tmp_path: Path) -> None:
    sandbox = SalesforceSandbox()
    group = sandbox.records.all("PBSI__PBSI_Item_Group__c")[0]["Id"]
    item = sandbox.records.create(ITEM, {"Name": "X", "PBSI__Item_Group__c": group, "PBSI__Cost__c": "0.10", "PBSI__salesprice__c": "12345678901234.99"})
    path = tmp_path / "state.json"

    sandbox.save(path)
    loaded = SalesforceSandbox(state_file=path)

    assert '"PBSI__Cost__c": 0.10' in path.read_text(encoding="utf-8")
    assert json.loads(path.read_text(encoding="utf-8"))["store"]["format"] == 1
    assert loaded.records.get(ITEM, item) == sandbox.records.get(ITEM, item)
    assert loaded.state() == sandbox.state()


def test_save_over_http(tmp_path: Path, salesforce_sandbox: SalesforceSandbox) -> None:
    path = tmp_path / "http-state.json"

    response = salesforce_sandbox.http_session().post(f"{salesforce_sandbox.base_url}/sandbox/state/save", json={"path": str(path)})

    assert response.status_code == 204
    assert SalesforceSandbox(state_file=path).state() == salesforce_sandbox.state()
