"""The ShopifyAPI library (12.x) driving the sandbox, unchanged, through a replaced site."""

from __future__ import annotations

import json

import pytest
import shopify

from connectors.sandbox.catalog import SHOP_LOCATION_ID


@pytest.fixture
def shopify_session(shopify_sandbox):
    """Activate a normal session, then point the library's site at the sandbox."""
    session = shopify.Session("sandbox-store.myshopify.com", "2026-10", "shpat_sandbox_token")
    shopify.ShopifyResource.activate_session(session)
    shopify.ShopifyResource.set_site(shopify_sandbox.api_url("2026-10"))
    yield shopify_sandbox
    shopify.ShopifyResource.clear_session()


def test_library_pages_through_orders(shopify_session):
    first = shopify.Order.find(limit=5, status="any")
    second = first.next_page()

    assert [order.name for order in first] == ["#1026", "#1025", "#1024", "#1023", "#1022"]
    assert [order.name for order in second] == ["#1021", "#1020", "#1019", "#1018", "#1017"]
    assert second.has_previous_page()


def test_library_reads_an_order_and_its_transactions(shopify_session):
    order = next(o for o in shopify.Order.find(status="any", limit=250) if o.name == "#1010")
    transactions = order.transactions()

    assert order.financial_status == "partially_refunded"
    assert [(t.kind, t.amount) for t in transactions] == [("sale", "240.41"), ("refund", "95.91")]


def test_library_graphql_finds_variants_by_sku(shopify_session):
    query = "query($q: String!) { productVariants(first: 5, query: $q) { nodes { sku inventoryItem { id } } } }"

    result = json.loads(shopify.GraphQL().execute(query, {"q": "sku:SKU-002 OR sku:SKU-012"}))

    assert [node["sku"] for node in result["data"]["productVariants"]["nodes"]] == ["SKU-002", "SKU-012"]
    assert result["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 1000.0


def test_library_sets_inventory_by_graphql_and_rest(shopify_session):
    variant = shopify_session.state.variant_by_sku("SKU-008")
    item_id = variant["inventory_item_id"]
    mutation = """
    mutation($input: InventorySetQuantitiesInput!) {
      inventorySetQuantities(input: $input) { inventoryAdjustmentGroup { changes { name quantityAfterChange } } userErrors { code } }
    }
    """
    payload = {
        "input": {
            "name": "available",
            "reason": "correction",
            "ignoreCompareQuantity": True,
            "quantities": [{"inventoryItemId": f"gid://shopify/InventoryItem/{item_id}", "locationId": f"gid://shopify/Location/{SHOP_LOCATION_ID}", "quantity": 17}],
        }
    }

    result = json.loads(shopify.GraphQL().execute(mutation, payload))
    level = shopify.InventoryLevel.set(SHOP_LOCATION_ID, item_id, 21)

    assert result["data"]["inventorySetQuantities"]["userErrors"] == []
    assert result["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]["changes"][0] == {"name": "available", "quantityAfterChange": 17}
    assert level.available == 21
    assert shopify_session.calls["POST /admin/api/{version}/graphql.json"] == 1
    assert shopify_session.calls["POST /admin/api/{version}/inventory_levels/set.json"] == 1
