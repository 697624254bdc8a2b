"""The connector under the engine: a recipe polls cartons and marks their orders, once per change."""

from __future__ import annotations

import textwrap
from pathlib import Path

from salesforce_connector_helpers import token_settings

from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.sandbox import SalesforceSandbox
from engine.registry import Registry
from engine.run import RecipeRun
from engine.store import JobStatus, SQLiteStore
from engine.validate import load_recipe

RECIPE = """\
    name: cartons-mark-orders
    connections:
      salesforce: ascent
    trigger:
      connector: salesforce
      event: updated_records
      input:
        object: carton
        fields: [sales_order, tracking_number]
        condition:
          tracking_number: {"!=": null}
    steps:
      - id: order
        action: salesforce.update
        input:
          object: sales_order
          id: "{{ trigger.sales_order }}"
          record:
            stage: Packed
    """


def test_recipe_runs_each_carton_once(tmp_path: Path, salesforce_sandbox: SalesforceSandbox) -> None:
    path = tmp_path / "recipe.yaml"
    path.write_text(textwrap.dedent(RECIPE), encoding="utf-8")
    registry = Registry({"salesforce": SalesforceConnector})
    recipe = load_recipe(path, registry)
    order = salesforce_sandbox.records.create("PBSI__PBSI_Sales_Order__c", {"PBSI__Order_Date__c": "2026-11-02"})
    salesforce_sandbox.records.create("PBSI__Carton__c", {"PBSI__Sales_Order__c": order})
    salesforce_sandbox.records.create("PBSI__Carton__c", {"PBSI__Sales_Order__c": order, "PBSI__Tracking_Number__c": "1Z999"})
    store = SQLiteStore(tmp_path / "recipe.db")

    with SalesforceConnector(token_settings(salesforce_sandbox)) as connector:
        first = RecipeRun(recipe, {"salesforce": connector}, store, sleep=lambda seconds: None).poll_and_run()
        second = RecipeRun(recipe, {"salesforce": connector}, store, sleep=lambda seconds: None).poll_and_run()

    assert [job.status for job in first.jobs] == [JobStatus.SUCCEEDED]
    assert second.jobs == []
    assert salesforce_sandbox.records.get("PBSI__PBSI_Sales_Order__c", order)["PBSI__Stage__c"] == "Packed"
    assert salesforce_sandbox.calls["PATCH sobjects.update"] == 1
