"""stock-to-shopify end to end: stock changes in the Salesforce sandbox set the variants' stock at
the configured location of the Shopify sandbox, one job per poll."""

from __future__ import annotations

from pathlib import Path

from connectors.sandbox.local import LocalSandbox
from engine.connections import ConnectionBook
from engine.registry import Registry
from engine.run import RecipeRun, RunSummary, open_connectors
from engine.store import JobStatus, SQLiteStore
from engine.validate import load_recipe

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "stock-to-shopify.yaml"

ITEM = "PBSI__PBSI_Item__c"
GRAPHQL = "POST /admin/api/{version}/graphql.json"
MAIN_WAREHOUSE = 65000001
POPUP = 65000002


def recipe_with(tmp_path: Path, **settings: object) -> Path:
    """Write a copy of the recipe into `tmp_path` that skips the seeded items, with some settings changed.

    The seeded items carry SystemModstamp 2026-01-01T00:00:00Z, so a later `since` leaves out the
    first run's sync of every item and the test gets jobs only for the changes it makes.
    """
    text = RECIPE.read_text(encoding="utf-8").replace("  schedule: every 5m\n", "  schedule: every 5m\n  since: 2026-01-02T00:00:00Z\n")
    for name, value in settings.items():
        line = next(line for line in text.splitlines() if line.startswith(f"  {name}: "))
        text = text.replace(line, f"  {name}: {value}")
    copy = tmp_path / RECIPE.name
    copy.write_text(text, encoding="utf-8")
    return copy


def run_recipe(tmp_path: Path, store: SQLiteStore, path: Path, dry_run: bool = False) -> RunSummary:
    registry = Registry()
    recipe = load_recipe(path, registry)
    with open_connectors(recipe, registry, ConnectionBook({}, "tests", {}), True, tmp_path) as (connectors, redactor):
        return RecipeRun(recipe, connectors, store, redactor, dry_run=dry_run, sleep=lambda seconds: None).poll_and_run()


def level(local: LocalSandbox, sku: str, location: int = MAIN_WAREHOUSE) -> dict:
    variant = local.shopify.state.variant_by_sku(sku)
    return local.shopify.state.inventory_levels[(variant["inventory_item_id"], location)]


def item_id(local: LocalSandbox, sku: str) -> str:
    return next(record["Id"] for record in local.salesforce.records.all(ITEM) if record["Shopify_SKU__c"] == sku)


def test_first_run_sets_every_seeded_item_in_one_job(tmp_path, local, store):
    summary = run_recipe(tmp_path, store, RECIPE)

    items = [record for record in local.salesforce.records.all(ITEM) if record["Shopify_SKU__c"]]
    [job] = summary.jobs
    assert job.status is JobStatus.SUCCEEDED
    assert store.get_job(job.id).event["count"] == len(items) == 22
    # One read of the 22 levels and one inventorySetQuantities.
    assert dict(local.shopify.calls) == {GRAPHQL: 2}
    for record in items:
        assert level(local, record["Shopify_SKU__c"])["available"] == record["PBSI__Available_To_Promise__c"], record["Shopify_SKU__c"]


def test_available_to_promise_becomes_available_at_location(tmp_path, local, store):
    path = recipe_with(tmp_path)
    committed = level(local, "SKU-002")["committed"]
    popup_before = dict(level(local, "SKU-002", POPUP))
    local.salesforce.records.set_stock("SKU-002", 40, 35)

    summary = run_recipe(tmp_path, store, path)

    [job] = summary.jobs
    assert job.status is JobStatus.SUCCEEDED
    assert [item["Id"] for item in store.get_job(job.id).event["events"]] == [item_id(local, "SKU-002")]
    after = level(local, "SKU-002")
    assert (after["available"], after["committed"], after["on_hand"]) == (35, committed, 35 + committed)
    assert level(local, "SKU-002", POPUP) == popup_before
    # The read of the current level and one inventorySetQuantities.
    assert dict(local.shopify.calls) == {GRAPHQL: 2}
    assert dict(local.salesforce.calls) == {"GET query": 1}


def test_quantity_on_hand_setting_sends_on_hand(tmp_path, local, store):
    path = recipe_with(tmp_path, stock_field="quantity_on_hand")
    local.salesforce.records.set_stock("SKU-002", 40, 35)

    run_recipe(tmp_path, store, path)

    assert level(local, "SKU-002")["available"] == 40


def test_location_setting_sets_that_location_only(tmp_path, local, store):
    path = recipe_with(tmp_path, location_id=POPUP)
    warehouse_before = dict(level(local, "SKU-002"))
    local.salesforce.records.set_stock("SKU-002", 9, 7)

    summary = run_recipe(tmp_path, store, path)

    assert [job.status for job in summary.jobs] == [JobStatus.SUCCEEDED]
    assert level(local, "SKU-002", POPUP)["available"] == 7
    assert level(local, "SKU-002") == warehouse_before


def test_unchanged_stock_sends_nothing(tmp_path, local, store):
    path = recipe_with(tmp_path)
    local.salesforce.records.set_stock("SKU-002", 40, 35)
    run_recipe(tmp_path, store, path)
    before = dict(level(local, "SKU-002"))
    local.shopify.calls.clear()
    local.salesforce.records.update(ITEM, item_id(local, "SKU-002"), {"PBSI__description__c": "Café Crème Mug, 350 ml"})

    summary = run_recipe(tmp_path, store, path)

    [job] = summary.jobs
    assert job.status is JobStatus.SUCCEEDED
    [stock] = [step.output for step in store.steps(job.id) if step.step_id == "stock"]
    assert stock == {"location_id": MAIN_WAREHOUSE, "changed": [], "unchanged": 1, "skipped": []}
    # The read only: no inventorySetQuantities.
    assert dict(local.shopify.calls) == {GRAPHQL: 1}
    assert level(local, "SKU-002") == before


def test_unknown_sku_fails_job_others_set(tmp_path, local, store):
    path = recipe_with(tmp_path)
    template = local.salesforce.records.get(ITEM, item_id(local, "SKU-002"))
    local.salesforce.records.create(
        ITEM,
        {"Name": "ITEM-09001", "PBSI__Item_Group__c": template["PBSI__Item_Group__c"], "Shopify_SKU__c": "SKU-ERP-ONLY-1", "PBSI__Quantity_On_Hand__c": 12, "PBSI__Available_To_Promise__c": 12},
    )
    local.salesforce.records.set_stock("SKU-002", 40, 35)

    summary = run_recipe(tmp_path, store, path)

    assert [(job.status, job.reason) for job in summary.jobs] == [
        (
            JobStatus.FAILED,
            "1 of 2 items were not set in Shopify (the others were): SKU SKU-ERP-ONLY-1 (not found). Give each Shopify variant "
            "its own SKU and stock it at the location, or correct the items' Shopify SKUs in Ascent, then replay this job",
        )
    ]
    assert level(local, "SKU-002")["available"] == 35
    assert dict(local.shopify.calls) == {GRAPHQL: 2}


def test_item_without_shopify_sku_gets_no_job(tmp_path, local, store):
    path = recipe_with(tmp_path)
    template = local.salesforce.records.get(ITEM, item_id(local, "SKU-002"))
    local.salesforce.records.create(ITEM, {"Name": "RAW-0001", "PBSI__Item_Group__c": template["PBSI__Item_Group__c"], "PBSI__Quantity_On_Hand__c": 500})

    summary = run_recipe(tmp_path, store, path)

    assert summary.jobs == []
    assert dict(local.shopify.calls) == {}


def test_shared_sku_fails_job_stock_unchanged(tmp_path, local, store):
    path = recipe_with(tmp_path)
    # Give the tote bag the mug's SKU, as a store with a duplicated SKU has.
    tote = local.shopify.state.variant_by_sku("SKU-007")
    tote["sku"] = "SKU-002"
    local.shopify.state.inventory_items[tote["inventory_item_id"]]["sku"] = "SKU-002"
    local.salesforce.records.set_stock("SKU-002", 40, 35)
    before = dict(level(local, "SKU-002"))

    summary = run_recipe(tmp_path, store, path)

    [job] = summary.jobs
    assert job.status is JobStatus.FAILED
    assert job.reason == (
        "1 of 1 items were not set in Shopify (the others were): SKU SKU-002 (shared by 2 inventory items). Give each Shopify "
        "variant its own SKU and stock it at the location, or correct the items' Shopify SKUs in Ascent, then replay this job"
    )
    assert level(local, "SKU-002") == before


def test_variant_not_stocked_at_location_fails(tmp_path, local, store):
    # The pop-up stocks five everyday items only (SKU-002, SKU-005, SKU-012, SKU-013-SLV and SKU-013-MBK).
    path = recipe_with(tmp_path, location_id=POPUP)
    local.salesforce.records.set_stock("SKU-001-M", 30, 30)

    summary = run_recipe(tmp_path, store, path)

    [job] = summary.jobs
    assert job.status is JobStatus.FAILED
    assert job.reason.startswith("1 of 1 items were not set in Shopify (the others were): SKU SKU-001-M (not stocked at the location). ")
    assert (local.shopify.state.variant_by_sku("SKU-001-M")["inventory_item_id"], POPUP) not in local.shopify.state.inventory_levels


def test_second_run_sends_nothing(tmp_path, local, store):
    path = recipe_with(tmp_path)
    local.salesforce.records.set_stock("SKU-002", 40, 35)
    run_recipe(tmp_path, store, path)
    local.shopify.calls.clear()

    summary = run_recipe(tmp_path, store, path)

    assert summary.jobs == []
    assert dict(local.shopify.calls) == {}


def test_dry_run_changes_no_stock(tmp_path, local, store):
    path = recipe_with(tmp_path)
    before = dict(level(local, "SKU-002"))
    local.salesforce.records.set_stock("SKU-002", 40, 35)

    dry = run_recipe(tmp_path, store, path, dry_run=True)

    [job] = dry.jobs
    [write] = dry.planned[job.id]
    assert (write.step, write.action, write.target) == ("stock", "set_stock", MAIN_WAREHOUSE)
    assert write.payload["items"] == [{"sku": "SKU-002", "quantity": 35}]
    assert level(local, "SKU-002") == before
    assert dict(local.shopify.calls) == {}
    assert [job.status for job in run_recipe(tmp_path, store, path).jobs] == [JobStatus.SUCCEEDED]
    assert level(local, "SKU-002")["available"] == 35


def test_item_with_blank_stock_is_left_alone(tmp_path, local, store):
    path = recipe_with(tmp_path)
    before = dict(level(local, "SKU-002"))
    # An item whose stock Ascent never recorded, as the order recipe creates for a new SKU.
    local.salesforce.records.update(ITEM, item_id(local, "SKU-002"), {"PBSI__Quantity_On_Hand__c": None, "PBSI__Available_To_Promise__c": None})

    summary = run_recipe(tmp_path, store, path)

    assert (summary.jobs, summary.filtered) == ([], 1)
    assert level(local, "SKU-002") == before
    assert dict(local.shopify.calls) == {}
