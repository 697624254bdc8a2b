"""The read actions against the sandbox: orders, transactions, variants, locations, and `check`."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.shopify.connector import ShopifyConnector
from engine import jsoncodec
from engine.errors import ConfigurationError, FatalError, SkipEventError

from shopify_connector_helpers import calls_of, clock, order_by_name, sandbox, sandbox_settings, shopify, sleep  # noqa: F401

CLASSIC_TEE_M = {
    "id": 42000000000205,
    "admin_graphql_api_id": "gid://shopify/ProductVariant/42000000000205",
    "sku": "SKU-001-M",
    "title": "M",
    "display_name": "Classic Tee - M",
    "price": Decimal("19.99"),
    "inventory_quantity": 207,
    "inventory_item_id": 44000000000480,
    "product_id": 7100000000332,
    "product_title": "Classic Tee",
}


def as_json(value):
    return jsoncodec.loads(jsoncodec.dumps(value))


def test_check_names_the_shop_and_version(shopify, sandbox):
    assert shopify.check() == "Shopify shop 'Sandbox Store' (sandbox-store.myshopify.com), Admin API 2026-10"
    assert calls_of(sandbox) == {"GET /admin/api/{version}/shop.json": 1}
    assert shopify.round_trips == 1


def test_check_with_bad_token_says_so(sandbox):
    connector = ShopifyConnector(sandbox_settings(sandbox, access_token="shpat_wrong_token"))

    with pytest.raises(ConfigurationError) as caught:
        connector.check()

    assert str(caught.value) == "Shopify rejected the access token for sandbox-store.myshopify.com (HTTP 401); check the connection's access_token"


def test_get_order_returns_the_rest_order(shopify, sandbox):
    order = order_by_name(sandbox, "#1006")

    result = shopify.call("get_order", {"order_id": str(order["id"])})

    assert result == as_json(order)
    assert result["presentment_currency"] == "EUR"
    assert calls_of(sandbox) == {"GET /admin/api/{version}/orders/{id}.json": 1}


def test_get_order_unknown_fails_not_found(shopify):
    with pytest.raises(FatalError) as caught:
        shopify.call("get_order", {"order_id": 1})

    assert (caught.value.code, caught.value.status) == ("NOT_FOUND", 404)
    assert caught.value.message == "Shopify rejected GET orders/1.json: Not Found"


def test_get_order_unknown_with_if_missing_skip_skips(shopify):
    with pytest.raises(SkipEventError) as caught:
        shopify.call("get_order", {"order_id": 1, "if_missing": "skip"})

    assert (caught.value.code, caught.value.message) == ("NOT_FOUND", "Shopify order 1 no longer exists; nothing to do")


def test_get_order_rejects_non_numeric_id(shopify, sandbox):
    with pytest.raises(FatalError) as caught:
        shopify.call("get_order", {"order_id": "#1001"})

    assert (caught.value.code, caught.value.fields, caught.value.message) == ("INVALID_INPUT", ["order_id"], "order_id must be a whole number, not '#1001'")
    assert calls_of(sandbox) == {}


def test_list_transactions_of_partially_paid_order(shopify, sandbox):
    order = order_by_name(sandbox, "#1009")

    result = shopify.call("list_transactions", {"order_id": order["id"]})

    assert result == {"transactions": as_json(sandbox.state.transactions[order["id"]]), "count": 1}
    assert [(t["kind"], t["status"], t["amount"]) for t in result["transactions"]] == [("sale", "success", "100.00")]


def test_list_transactions_of_refunded_order_include_refund(shopify, sandbox):
    order = order_by_name(sandbox, "#1010")

    result = shopify.call("list_transactions", {"order_id": order["id"]})

    assert [t["kind"] for t in result["transactions"]] == ["sale", "refund"]


def test_find_variants_by_sku_and_id(shopify, sandbox):
    result = shopify.call("find_variants", {"skus": ["SKU-001-M", "SKU-404"], "ids": ["gid://shopify/ProductVariant/42000000000205", 1]})

    assert result == {"variants": [CLASSIC_TEE_M], "missing_skus": ["SKU-404"], "missing_ids": [1]}
    assert calls_of(sandbox) == {"POST /admin/api/{version}/graphql.json": 1}


def test_find_variants_every_sku_in_one_query(shopify, sandbox):
    skus = [variant["sku"] for variant in sandbox.state.variants.values()]

    result = shopify.call("find_variants", {"skus": skus})

    assert sorted(variant["sku"] for variant in result["variants"]) == sorted(skus)
    assert result["missing_skus"] == []
    assert all(isinstance(variant["price"], Decimal) for variant in result["variants"])
    assert calls_of(sandbox) == {"POST /admin/api/{version}/graphql.json": 1}


def test_find_variants_keeps_only_exact_skus(shopify):
    # The search term sku:"SKU-013-SLV" is exact; SKU-013 alone matches no variant.
    result = shopify.call("find_variants", {"skus": ["SKU-013"]})

    assert result == {"variants": [], "missing_skus": ["SKU-013"], "missing_ids": []}


def test_find_variants_without_skus_or_ids_fails(shopify):
    with pytest.raises(FatalError) as caught:
        shopify.call("find_variants", {"skus": [], "ids": []})

    assert (caught.value.code, caught.value.fields) == ("MISSING_INPUT", ["skus", "ids"])


def test_find_variants_rejects_a_gid_of_another_kind(shopify):
    with pytest.raises(FatalError) as caught:
        shopify.call("find_variants", {"ids": ["gid://shopify/Product/7100000000332"]})

    assert caught.value.message == "ids 'gid://shopify/Product/7100000000332' is a Product id, not a ProductVariant id"


def test_list_locations_returns_both_locations(shopify, sandbox):
    result = shopify.call("list_locations", {})

    assert result == {
        "locations": [
            {
                "id": 65000001,
                "admin_graphql_api_id": "gid://shopify/Location/65000001",
                "name": "Main Warehouse",
                "is_active": True,
                "fulfills_online_orders": True,
                "address": {"address1": "200 Kent Avenue", "address2": None, "city": "Brooklyn", "zip": "11249", "province": "New York", "province_code": "NY", "country": "United States", "country_code": "US"},
            },
            {
                "id": 65000002,
                "admin_graphql_api_id": "gid://shopify/Location/65000002",
                "name": "SoHo Pop-up",
                "is_active": True,
                "fulfills_online_orders": False,
                "address": {"address1": "120 Prince Street", "address2": None, "city": "New York", "zip": "10012", "province": "New York", "province_code": "NY", "country": "United States", "country_code": "US"},
            },
        ]
    }
    assert calls_of(sandbox) == {"POST /admin/api/{version}/graphql.json": 1}


def test_connector_counts_one_round_trip_per_request(shopify, sandbox):
    shopify.call("get_order", {"order_id": order_by_name(sandbox, "#1001")["id"]})
    shopify.call("list_locations", {})
    shopify.poll("new_orders", {}, None, None, 5)

    assert shopify.round_trips == sum(calls_of(sandbox).values()) == 3
