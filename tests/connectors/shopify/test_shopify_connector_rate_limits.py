"""Rate limits against the sandbox on a manual clock: the connector slows down before Shopify refuses."""

from __future__ import annotations

import pytest
import requests

from connectors.shopify.connector import ShopifyConnector
from connectors.shopify.sandbox import Faults, ShopifySandbox
from engine.errors import RetryableError

from shopify_connector_helpers import calls_of, clock, sandbox, sandbox_settings, shopify, sleep  # noqa: F401

ORDER = "GET /admin/api/{version}/orders/{id}.json"
GRAPHQL = "POST /admin/api/{version}/graphql.json"
ORDER_ID = 5900000000000


def test_hundred_rest_calls_get_no_429(shopify, sandbox, sleep):
    for _ in range(100):
        shopify.call("get_order", {"order_id": ORDER_ID})

    assert calls_of(sandbox) == {ORDER: 100}
    assert shopify.client.stats.throttled == 0
    # 39 calls fit the 40-request bucket with one slot kept free; each later call waits for one to drain.
    assert sleep.waits == [0.5] * 61
    assert shopify.round_trips == 100


def test_rest_429_waits_retry_after_and_retries(clock, sleep):
    sandbox = ShopifySandbox(port=0, seed=7, clock=clock, faults=Faults(forced_429=2)).start()
    try:
        with ShopifyConnector(sandbox_settings(sandbox), monotonic=clock.monotonic, sleep=sleep) as connector:
            order = connector.call("get_order", {"order_id": ORDER_ID})
            throttled = connector.client.stats.throttled
            trips = connector.round_trips
    finally:
        sandbox.stop()

    assert order["name"] == "#1001"
    assert throttled == 2
    assert trips == 3
    assert sleep.waits == [0.5, 0.5]
    assert calls_of(sandbox) == {ORDER: 3}


def test_rest_429_after_the_last_retry_is_retryable(clock, sleep):
    sandbox = ShopifySandbox(port=0, seed=7, clock=clock, faults=Faults(forced_429=10)).start()
    try:
        with ShopifyConnector(sandbox_settings(sandbox, max_retries=2), monotonic=clock.monotonic, sleep=sleep) as connector:
            with pytest.raises(RetryableError) as caught:
                connector.call("get_order", {"order_id": ORDER_ID})
    finally:
        sandbox.stop()

    assert (caught.value.code, caught.value.status, caught.value.retry_after) == ("THROTTLED", 429, 0.5)
    assert caught.value.message == (
        "Shopify rejected GET orders/5900000000000.json: Exceeded 2 calls per second for api client. "
        "Reduce request rates to resume uninterrupted service."
    )
    assert calls_of(sandbox) == {ORDER: 3}


def test_graphql_waits_for_points_before_shopify_throttles(clock, sleep):
    # A 200-point bucket restoring 20 a second. Listing locations learns the bucket's size, because
    # its 502-point page gets MAX_COST_EXCEEDED and is read again at 200 points. Each lookup of the
    # 23 SKUs then costs 71 points, so the third waits (71 - 52) / 20 s for its points.
    sandbox = ShopifySandbox(port=0, seed=7, clock=clock, graphql_bucket_size=200, graphql_restore_rate=20).start()
    try:
        with ShopifyConnector(sandbox_settings(sandbox), monotonic=clock.monotonic, sleep=sleep) as connector:
            connector.call("list_locations", {})
            skus = [variant["sku"] for variant in sandbox.state.variants.values()]
            results = [connector.call("find_variants", {"skus": skus}) for _ in range(3)]
            throttled = connector.client.stats.throttled
    finally:
        sandbox.stop()

    assert [len(result["variants"]) for result in results] == [23, 23, 23]
    assert throttled == 0
    assert sleep.waits == [pytest.approx(0.95)]
    assert calls_of(sandbox)[GRAPHQL] == 5


def test_graphql_throttled_answer_waits_and_retries(shopify, sandbox, sleep):
    shopify.call("list_locations", {})
    # Another client of the shop spends the points the connector believes it has.
    drained = sandbox.graphql_bucket.pour(sandbox.graphql_bucket.available())
    assert drained.allowed

    result = shopify.call("list_locations", {})

    assert len(result["locations"]) == 2
    assert shopify.client.stats.throttled == 1
    assert calls_of(sandbox)[GRAPHQL] == 3
    assert sleep.waits[-1] == pytest.approx(502 / 50)


def test_graphql_small_bucket_splits_queries(clock, sleep):
    sandbox = ShopifySandbox(port=0, seed=7, clock=clock, graphql_bucket_size=100, graphql_restore_rate=100).start()
    try:
        with ShopifyConnector(sandbox_settings(sandbox), monotonic=clock.monotonic, sleep=sleep) as connector:
            locations = connector.call("list_locations", {})
            variants = connector.call("find_variants", {"skus": ["SKU-001-M", "SKU-002"]})
    finally:
        sandbox.stop()

    assert [location["name"] for location in locations["locations"]] == ["Main Warehouse", "SoHo Pop-up"]
    assert [variant["sku"] for variant in variants["variants"]] == ["SKU-001-M", "SKU-002"]


def test_sandbox_call_limit_header_matches_the_bucket_model(shopify, sandbox):
    for _ in range(5):
        shopify.call("get_order", {"order_id": ORDER_ID})

    with requests.Session() as session:
        session.trust_env = False
        response = session.get(f"{sandbox.api_url()}/shop.json", headers={"X-Shopify-Access-Token": sandbox.access_token})

    assert response.headers["X-Shopify-Shop-Api-Call-Limit"] == "6/40"
