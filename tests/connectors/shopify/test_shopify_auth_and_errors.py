"""Authentication and Shopify's error bodies."""

from __future__ import annotations

import requests

INVALID_TOKEN = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


def test_request_without_token_is_unauthorized(shopify_sandbox):
    response = requests.get(f"{shopify_sandbox.api_url()}/orders.json")

    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN


def test_request_with_wrong_token_is_unauthorized(shopify_sandbox):
    response = requests.get(f"{shopify_sandbox.api_url()}/orders.json", headers={"X-Shopify-Access-Token": "shpat_wrong"})

    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN


def test_graphql_without_token_is_unauthorized(shopify_sandbox):
    response = requests.post(f"{shopify_sandbox.api_url()}/graphql.json", json={"query": "{ shop { name } }"})

    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN


def test_unknown_order_is_not_found(client):
    response = client.get("orders/1.json")

    assert response.status_code == 404
    assert response.json() == {"errors": "Not Found"}


def test_unknown_endpoint_is_not_found_with_call_limit(client):
    response = client.get("no_such_thing.json")

    assert response.status_code == 404
    assert response.json() == {"errors": "Not Found"}
    assert response.headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"


def test_any_dated_api_version_is_served_and_echoed(client):
    response = client.session.get(client.url("orders/count.json", version="2024-01"))

    assert response.status_code == 200
    assert response.headers["X-Shopify-API-Version"] == "2024-01"


def test_requests_are_counted_by_endpoint_across_versions(client):
    client.session.get(client.url("orders.json", version="2025-07"))
    client.session.get(client.url("orders.json", version="2026-10"))
    client.get("orders/count.json")

    assert client.sandbox.calls["GET /admin/api/{version}/orders.json"] == 2
    assert client.sandbox.calls["GET /admin/api/{version}/orders/count.json"] == 1


def test_access_scopes_lists_granted_scopes(client):
    response = client.session.get(f"{client.sandbox.base_url}/admin/oauth/access_scopes.json")

    assert response.status_code == 200
    handles = [scope["handle"] for scope in response.json()["access_scopes"]]
    assert "read_orders" in handles
    assert "write_inventory" in handles
