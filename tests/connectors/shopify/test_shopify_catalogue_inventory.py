"""REST products, variants, locations and inventory levels (list, set, adjust)."""

from __future__ import annotations

from connectors.sandbox.catalog import SHOP_LOCATION_ID, catalog


def test_products_carry_catalogue_skus_and_inventory_item_ids(client):
    response = client.get("products.json", limit=250)

    assert response.status_code == 200
    variants = [variant for product in response.json()["products"] for variant in product["variants"]]
    expected = {(entry.sku, entry.variant_id, entry.inventory_item_id) for entry in catalog(7)}
    assert {(v["sku"], v["id"], v["inventory_item_id"]) for v in variants} == expected


def test_products_page_with_link_header(client):
    first = client.get("products.json", limit=5)

    assert len(first.json()["products"]) == 5
    assert 'rel="next"' in first.headers["Link"]
    next_url = first.headers["Link"].split(";")[0].strip("<>")
    second = client.session.get(next_url)
    first_ids = [p["id"] for p in first.json()["products"]]
    second_ids = [p["id"] for p in second.json()["products"]]
    assert max(first_ids) < min(second_ids)


def test_variant_by_id_includes_inventory_quantity(client):
    entry = next(e for e in catalog(7) if e.sku == "SKU-012")
    response = client.get(f"variants/{entry.variant_id}.json")

    variant = response.json()["variant"]
    assert variant["sku"] == "SKU-012"
    assert variant["price"] == "39.99"
    # Warehouse stock plus 24 at the pop-up, less the 5 mats committed to #1002, #1010, #1015 and #1021.
    assert variant["inventory_quantity"] == entry.on_hand + 24 - 5


def test_locations_list_the_warehouse_and_the_pop_up(client):
    response = client.get("locations.json")

    assert [(location["id"], location["name"]) for location in response.json()["locations"]] == [
        (SHOP_LOCATION_ID, "Main Warehouse"),
        (SHOP_LOCATION_ID + 1, "SoHo Pop-up"),
    ]


def test_inventory_levels_by_item_and_location(client):
    entry = next(e for e in catalog(7) if e.sku == "SKU-014")
    response = client.get("inventory_levels.json", inventory_item_ids=str(entry.inventory_item_id), location_ids=str(SHOP_LOCATION_ID))

    assert response.status_code == 200
    levels = response.json()["inventory_levels"]
    assert len(levels) == 1
    assert levels[0]["inventory_item_id"] == entry.inventory_item_id
    assert levels[0]["location_id"] == SHOP_LOCATION_ID
    assert levels[0]["available"] == entry.on_hand - 8
    assert levels[0]["admin_graphql_api_id"] == f"gid://shopify/InventoryLevel/{SHOP_LOCATION_ID}?inventory_item_id={entry.inventory_item_id}"


def test_inventory_levels_without_item_or_location_are_rejected(client):
    response = client.get("inventory_levels.json")

    assert response.status_code == 422


def test_inventory_level_set_replaces_available(client):
    entry = next(e for e in catalog(7) if e.sku == "SKU-007")
    response = client.post("inventory_levels/set.json", {"location_id": SHOP_LOCATION_ID, "inventory_item_id": entry.inventory_item_id, "available": 42})

    assert response.status_code == 200
    assert response.json()["inventory_level"]["available"] == 42
    level = client.sandbox.state.inventory_levels[(entry.inventory_item_id, SHOP_LOCATION_ID)]
    assert level["available"] == 42
    assert level["on_hand"] == 42 + level["committed"]


def test_inventory_level_adjust_adds_to_available(client):
    entry = next(e for e in catalog(7) if e.sku == "SKU-007")
    before = client.sandbox.state.inventory_levels[(entry.inventory_item_id, SHOP_LOCATION_ID)]["available"]

    response = client.post("inventory_levels/adjust.json", {"location_id": SHOP_LOCATION_ID, "inventory_item_id": entry.inventory_item_id, "available_adjustment": -3})

    assert response.status_code == 200
    assert response.json()["inventory_level"]["available"] == before - 3


def test_inventory_level_adjust_at_unstocked_location_is_rejected(client):
    entry = next(e for e in catalog(7) if e.sku == "SKU-007")
    response = client.post("inventory_levels/adjust.json", {"location_id": SHOP_LOCATION_ID + 1, "inventory_item_id": entry.inventory_item_id, "available_adjustment": 1})

    assert response.status_code == 422
    assert response.json() == {"errors": ["Inventory item is not stocked at the location."]}


def test_inventory_level_set_connects_an_unstocked_location(client):
    entry = next(e for e in catalog(7) if e.sku == "SKU-007")
    response = client.post("inventory_levels/set.json", {"location_id": SHOP_LOCATION_ID + 1, "inventory_item_id": entry.inventory_item_id, "available": 5})

    assert response.status_code == 200
    assert (entry.inventory_item_id, SHOP_LOCATION_ID + 1) in client.sandbox.state.inventory_levels


def test_inventory_level_set_needs_an_item(client):
    response = client.post("inventory_levels/set.json", {"location_id": SHOP_LOCATION_ID, "available": 5})

    assert response.status_code == 400
    assert response.json() == {"errors": {"inventory_item_id": "Required parameter missing or invalid"}}


def test_inventory_level_set_unknown_item_is_unprocessable(client):
    response = client.post("inventory_levels/set.json", {"location_id": SHOP_LOCATION_ID, "inventory_item_id": 1, "available": 5})

    assert response.status_code == 422
    assert response.json() == {"errors": ["Inventory item 1 does not exist."]}
