"""Scenario 3 as a test: the Shopify requests of each stock push, counted, and the shop's final stock.

Counts are deterministic at the `zero` profile with 20 changed items; timings are never asserted.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.stock import run_stock


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    return {result["contender"]: result for result in run_stock(20, "zero")}


def test_recipe_reads_and_writes_20_items_in_2_requests(results: dict[str, dict[str, Any]]) -> None:
    # One job for the poll's 20 items: one read of their levels, one inventorySetQuantities.
    assert results["ours"]["full"]["shopify_calls"] == {"POST /admin/api/{version}/graphql.json": 2}


def test_tuned_script_reads_and_writes_20_items_in_2_requests(results: dict[str, dict[str, Any]]) -> None:
    assert results["tuned"]["full"]["shopify_calls"] == {"POST /admin/api/{version}/graphql.json": 2}


def test_naive_script_sets_each_item_with_its_own_request(results: dict[str, dict[str, Any]]) -> None:
    assert results["naive"]["full"]["shopify_calls"] == {"GET /admin/api/{version}/products.json": 1, "POST /admin/api/{version}/inventory_levels/set.json": 20}


@pytest.mark.parametrize("contender", ["ours", "tuned", "naive"])
def test_repeat_with_nothing_changed_sends_no_shopify_request(results: dict[str, dict[str, Any]], contender: str) -> None:
    assert results[contender]["unchanged_shopify_total"] == 0


@pytest.mark.parametrize("contender", ["ours", "tuned", "naive"])
def test_every_changed_item_ends_with_the_erp_quantity(results: dict[str, dict[str, Any]], contender: str) -> None:
    assert results[contender]["check"] == {"items_checked": 20, "wrong_quantity": 0, "missing": 0}
