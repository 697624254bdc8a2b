"""The REST leaky bucket: the call-limit header and 429 with Retry-After, driven by a manual clock."""

from __future__ import annotations

from connectors.shopify.sandbox import ManualClock, ShopifySandbox

from conftest import SandboxClient

THROTTLED = {"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}


def test_every_rest_response_carries_the_call_limit(clocked_client):
    levels = [clocked_client.get("orders/count.json").headers["X-Shopify-Shop-Api-Call-Limit"] for _ in range(3)]

    assert levels == ["1/40", "2/40", "3/40"]


def test_full_bucket_answers_429_with_retry_after(clocked_client):
    for number in range(1, 41):
        response = clocked_client.get("orders/count.json")
        assert response.status_code == 200
        assert response.headers["X-Shopify-Shop-Api-Call-Limit"] == f"{number}/40"

    refused = clocked_client.get("orders/count.json")

    assert refused.status_code == 429
    assert refused.json() == THROTTLED
    assert refused.headers["Retry-After"] == "0.5"
    assert refused.headers["X-Shopify-Shop-Api-Call-Limit"] == "40/40"


def test_bucket_leaks_with_the_clock(clocked_client, manual_clock):
    for _ in range(40):
        clocked_client.get("orders/count.json")
    assert clocked_client.get("orders/count.json").status_code == 429

    manual_clock.advance(0.5)
    after_half_second = clocked_client.get("orders/count.json")
    manual_clock.advance(5.0)
    after_five_seconds = clocked_client.get("orders/count.json")

    assert after_half_second.status_code == 200
    assert after_half_second.headers["X-Shopify-Shop-Api-Call-Limit"] == "40/40"
    assert after_five_seconds.headers["X-Shopify-Shop-Api-Call-Limit"] == "31/40"


def test_graphql_does_not_use_the_rest_bucket(clocked_client):
    clocked_client.graphql("{ shop { name } }")
    response = clocked_client.get("orders/count.json")

    assert response.headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"


def test_bucket_size_and_leak_rate_follow_the_plan():
    clock = ManualClock()
    sandbox = ShopifySandbox(port=0, bucket_size=80, leak_rate=4.0, clock=clock).start()
    client = SandboxClient(sandbox)
    try:
        for _ in range(80):
            client.get("orders/count.json")
        refused = client.get("orders/count.json")
    finally:
        client.session.close()
        sandbox.stop()

    assert refused.status_code == 429
    assert refused.json() == {"errors": "Exceeded 4 calls per second for api client. Reduce request rates to resume uninterrupted service."}
    assert refused.headers["Retry-After"] == "0.3"
