"""GraphQL: variants by SKU, nodes and edges, pagination, inventory, inventorySetQuantities, query cost and throttling."""

from __future__ import annotations

import pytest

from connectors.sandbox.catalog import SHOP_LOCATION_ID, catalog
from connectors.shopify.sandbox import ShopifySandbox

from conftest import SandboxClient

LOCATION_GID = f"gid://shopify/Location/{SHOP_LOCATION_ID}"
SET_QUANTITIES = """
mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { reason referenceDocumentUri changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}
"""


def entry(sku):
    return next(e for e in catalog(7) if e.sku == sku)


def item_gid(sku):
    return f"gid://shopify/InventoryItem/{entry(sku).inventory_item_id}"


def set_input(quantities, **extra):
    body = {"name": "available", "reason": "correction", "referenceDocumentUri": "gid://recipe-engine/ErpSync/1", "quantities": quantities}
    body.update(extra)
    return {"input": body}


def test_product_variants_by_sku_with_or(client):
    query = '{ productVariants(first: 10, query: "sku:SKU-001-M OR sku:SKU-010") { nodes { id sku title price inventoryItem { id } product { title } } pageInfo { hasNextPage hasPreviousPage } } }'
    response = client.graphql(query)

    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    nodes = body["data"]["productVariants"]["nodes"]
    assert [(node["sku"], node["title"], node["price"], node["product"]["title"]) for node in nodes] == [
        ("SKU-001-M", "M", "19.99", "Classic Tee"),
        ("SKU-010", "Default Title", "75.00", "Limited Print — Kyōto"),
    ]
    assert nodes[0]["id"] == f"gid://shopify/ProductVariant/{entry('SKU-001-M').variant_id}"
    assert nodes[0]["inventoryItem"]["id"] == item_gid("SKU-001-M")
    assert body["data"]["productVariants"]["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": False}


def test_product_variants_edges_and_cursor_pagination(client):
    query = "query($after: String) { productVariants(first: 2, after: $after, query: \"sku:SKU-001*\") { edges { cursor node { sku } } pageInfo { hasNextPage endCursor } } }"
    first = client.graphql(query).json()["data"]["productVariants"]
    second = client.graphql(query, {"after": first["pageInfo"]["endCursor"]}).json()["data"]["productVariants"]

    assert [edge["node"]["sku"] for edge in first["edges"]] == ["SKU-001-S", "SKU-001-M"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]
    assert [edge["node"]["sku"] for edge in second["edges"]] == ["SKU-001-L"]
    assert second["pageInfo"]["hasNextPage"] is False


def test_product_variants_first_above_250_is_an_error(client):
    body = client.graphql("{ productVariants(first: 251) { nodes { id } } }").json()

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_product_variant_by_id(client):
    variant_gid = f"gid://shopify/ProductVariant/{entry('SKU-006-GRY').variant_id}"
    body = client.graphql("query($id: ID!) { productVariant(id: $id) { sku displayName legacyResourceId } }", {"id": variant_gid}).json()

    assert body["data"]["productVariant"] == {"sku": "SKU-006-GRY", "displayName": "Wool Socks - Grey", "legacyResourceId": str(entry("SKU-006-GRY").variant_id)}


def test_product_variant_with_malformed_id_is_an_error(client):
    body = client.graphql('{ productVariant(id: "42") { sku } }').json()

    assert body["data"] == {"productVariant": None}
    assert body["errors"][0]["message"] == "Invalid global id '42'"


def test_locations_and_inventory_item_levels(client):
    query = """
    query($item: ID!, $location: ID!) {
      locations(first: 5) { nodes { id name } }
      inventoryItem(id: $item) { sku tracked inventoryLevel(locationId: $location) { quantities(names: ["available", "on_hand", "committed"]) { name quantity } } }
    }
    """
    body = client.graphql(query, {"item": item_gid("SKU-014"), "location": LOCATION_GID}).json()

    assert [node["name"] for node in body["data"]["locations"]["nodes"]] == ["Main Warehouse", "SoHo Pop-up"]
    quantities = {q["name"]: q["quantity"] for q in body["data"]["inventoryItem"]["inventoryLevel"]["quantities"]}
    on_hand = entry("SKU-014").on_hand
    assert quantities == {"available": on_hand - 8, "on_hand": on_hand, "committed": 8}


def test_every_answer_carries_the_cost_extension(client):
    body = client.graphql("{ shop { name currencyCode } }").json()

    assert body["data"]["shop"] == {"name": "Sandbox Store", "currencyCode": "USD"}
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 1
    assert cost["actualQueryCost"] == 1
    assert cost["throttleStatus"]["maximumAvailable"] == 1000.0
    assert cost["throttleStatus"]["restoreRate"] == 50.0


def test_connection_cost_counts_first_then_returned_nodes(client):
    body = client.graphql('{ productVariants(first: 50, query: "sku:SKU-001*") { nodes { sku product { title } } } }').json()

    assert body["extensions"]["cost"]["requestedQueryCost"] == 2 + 50 * 2
    assert body["extensions"]["cost"]["actualQueryCost"] == 2 + 3 * 2


def test_inventory_set_quantities_with_matching_compare_quantity(client):
    level = client.sandbox.state.inventory_levels[(entry("SKU-012").inventory_item_id, SHOP_LOCATION_ID)]
    before = dict(level)

    body = client.graphql(SET_QUANTITIES, set_input([{"inventoryItemId": item_gid("SKU-012"), "locationId": LOCATION_GID, "quantity": 50, "compareQuantity": before["available"]}])).json()

    payload = body["data"]["inventorySetQuantities"]
    assert payload["userErrors"] == []
    assert payload["inventoryAdjustmentGroup"]["reason"] == "correction"
    assert payload["inventoryAdjustmentGroup"]["changes"] == [
        {"name": "available", "delta": 50 - before["available"], "quantityAfterChange": 50},
        {"name": "on_hand", "delta": 50 - before["available"], "quantityAfterChange": before["on_hand"] + 50 - before["available"]},
    ]
    assert level["available"] == 50
    assert body["extensions"]["cost"]["requestedQueryCost"] == 10


def test_inventory_set_quantities_stale_compare_quantity_changes_nothing(client):
    level = client.sandbox.state.inventory_levels[(entry("SKU-012").inventory_item_id, SHOP_LOCATION_ID)]
    before = level["available"]

    body = client.graphql(SET_QUANTITIES, set_input([{"inventoryItemId": item_gid("SKU-012"), "locationId": LOCATION_GID, "quantity": 50, "compareQuantity": before + 1}])).json()

    payload = body["data"]["inventorySetQuantities"]
    assert payload["inventoryAdjustmentGroup"] is None
    assert payload["userErrors"] == [
        {"field": ["input", "quantities", "0", "compareQuantity"], "message": "The compareQuantity value does not match the persisted quantity.", "code": "COMPARE_QUANTITY_STALE"}
    ]
    assert level["available"] == before


def test_inventory_set_quantities_without_compare_quantity_needs_ignore(client):
    quantities = [{"inventoryItemId": item_gid("SKU-012"), "locationId": LOCATION_GID, "quantity": 7}]

    refused = client.graphql(SET_QUANTITIES, set_input(quantities)).json()["data"]["inventorySetQuantities"]
    accepted = client.graphql(SET_QUANTITIES, set_input(quantities, ignoreCompareQuantity=True)).json()["data"]["inventorySetQuantities"]

    assert [error["code"] for error in refused["userErrors"]] == ["COMPARE_QUANTITY_REQUIRED"]
    assert accepted["userErrors"] == []
    assert accepted["inventoryAdjustmentGroup"]["changes"][0]["quantityAfterChange"] == 7


def test_set_quantities_null_change_from_skips_check(client):
    quantities = [{"inventoryItemId": item_gid("SKU-012"), "locationId": LOCATION_GID, "quantity": 9, "changeFromQuantity": None}]

    payload = client.graphql(SET_QUANTITIES, set_input(quantities)).json()["data"]["inventorySetQuantities"]

    assert payload["userErrors"] == []
    assert payload["inventoryAdjustmentGroup"]["changes"][0]["quantityAfterChange"] == 9


def test_inventory_set_quantities_is_all_or_nothing(client):
    good = {"inventoryItemId": item_gid("SKU-012"), "locationId": LOCATION_GID, "quantity": 3}
    unknown = {"inventoryItemId": "gid://shopify/InventoryItem/1", "locationId": LOCATION_GID, "quantity": 3}
    before = client.sandbox.state.inventory_levels[(entry("SKU-012").inventory_item_id, SHOP_LOCATION_ID)]["available"]

    payload = client.graphql(SET_QUANTITIES, set_input([good, unknown], ignoreCompareQuantity=True)).json()["data"]["inventorySetQuantities"]

    assert payload["userErrors"] == [
        {"field": ["input", "quantities", "1", "inventoryItemId"], "message": "The specified inventory item could not be found.", "code": "INVALID_INVENTORY_ITEM"}
    ]
    assert client.sandbox.state.inventory_levels[(entry("SKU-012").inventory_item_id, SHOP_LOCATION_ID)]["available"] == before


def test_inventory_set_quantities_rejects_more_than_250_quantities(client):
    quantities = [{"inventoryItemId": item_gid("SKU-012"), "locationId": LOCATION_GID, "quantity": n} for n in range(251)]

    body = client.graphql(SET_QUANTITIES, set_input(quantities, ignoreCompareQuantity=True)).json()

    assert body["data"] == {"inventorySetQuantities": None}
    assert body["errors"][0]["message"] == "The input array size of 251 is greater than the maximum allowed of 250."
    assert body["errors"][0]["extensions"] == {"code": "MAX_INPUT_SIZE_EXCEEDED"}


def test_inventory_set_quantities_invalid_reason_and_name(client):
    quantities = [{"inventoryItemId": item_gid("SKU-012"), "locationId": LOCATION_GID, "quantity": 1}]
    payload = client.graphql(SET_QUANTITIES, {"input": {"name": "incoming", "reason": "because", "ignoreCompareQuantity": True, "quantities": quantities}}).json()["data"]["inventorySetQuantities"]

    assert [error["code"] for error in payload["userErrors"]] == ["INVALID_NAME", "INVALID_REASON"]


def test_validation_error_is_answered_with_status_200(client):
    response = client.graphql("{ productVariants(first: 1) { nodes { noSuchField } } }")

    assert response.status_code == 200
    assert "noSuchField" in response.json()["errors"][0]["message"]


def test_missing_query_is_a_bad_request(client):
    response = client.session.post(client.url("graphql.json"), json={"variables": {}})

    assert response.status_code == 400
    assert response.json() == {"errors": {"query": "Required parameter missing or invalid"}}


@pytest.fixture
def small_bucket_client(manual_clock):
    sandbox = ShopifySandbox(port=0, graphql_bucket_size=100, graphql_restore_rate=10, clock=manual_clock).start()
    client = SandboxClient(sandbox)
    try:
        yield client
    finally:
        client.session.close()
        sandbox.stop()


def test_graphql_query_costing_more_than_available_is_throttled(small_bucket_client, manual_clock):
    query = "{ productVariants(first: 50) { nodes { id } } }"

    first = small_bucket_client.graphql(query).json()
    second = small_bucket_client.graphql(query).json()
    third = small_bucket_client.graphql(query)

    assert first["extensions"]["cost"]["actualQueryCost"] == 2 + 23
    assert second["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 50
    assert third.status_code == 200
    assert third.json() == {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
        "extensions": {
            "cost": {
                "requestedQueryCost": 52,
                "actualQueryCost": None,
                "throttleStatus": {"maximumAvailable": 100.0, "currentlyAvailable": 50, "restoreRate": 10.0},
            }
        },
    }

    manual_clock.advance(1.0)
    fourth = small_bucket_client.graphql(query).json()
    assert "errors" not in fourth
    assert fourth["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 60 - 25


def test_graphql_query_above_bucket_exceeds_max_cost(small_bucket_client):
    body = small_bucket_client.graphql("{ productVariants(first: 250) { nodes { id } } }").json()

    assert body["errors"][0]["extensions"] == {"code": "MAX_COST_EXCEEDED", "cost": 252, "maxCost": 100}
    assert "data" not in body
