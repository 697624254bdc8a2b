"""The /sandbox admin API and the webhooks it triggers, checked by a receiver on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal

from conftest import SECRET

NEW_ORDER = {
    "order": {
        "customer": {"first_name": "Ines", "last_name": "Böhm", "email": "ines.bohm@example.com"},
        "shipping_address": {"first_name": "Ines", "last_name": "Böhm", "address1": "9 Canal Street", "city": "New York", "zip": "10013", "country_code": "US", "province_code": "NY"},
        "line_items": [{"sku": "SKU-001-S", "quantity": 2}, {"title": "Gift wrap", "price": "3.50", "taxable": False}],
        "shipping_line": {"title": "Standard Shipping", "price": "5.95"},
    }
}


def expected_hmac(body: bytes) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


def test_admin_creates_an_order_and_sends_orders_create(client, webhook_receiver):
    client.sandbox.webhook_target = webhook_receiver.url

    response = client.admin("POST", "orders", NEW_ORDER)

    assert response.status_code == 201
    order = response.json()["order"]
    assert order["name"] == "#1027"
    assert order["financial_status"] == "pending"
    assert order["customer"]["last_name"] == "Böhm"
    assert webhook_receiver.topics() == ["orders/create"]

    hook = webhook_receiver.received[0]
    assert hook.path == "/webhooks"
    assert json.loads(hook.body)["id"] == order["id"]
    assert hook.headers["X-Shopify-Hmac-Sha256"] == expected_hmac(hook.body)
    assert hook.headers["X-Shopify-Shop-Domain"] == "sandbox-store.myshopify.com"
    assert hook.headers["X-Shopify-API-Version"] == "2026-10"
    assert hook.headers["Content-Type"] == "application/json"
    assert hook.headers["X-Shopify-Triggered-At"].endswith("Z")
    assert len(hook.headers["X-Shopify-Webhook-Id"]) == 36


def test_created_order_is_visible_over_rest(client):
    created = client.admin("POST", "orders", NEW_ORDER).json()["order"]

    fetched = client.get(f"orders/{created['id']}.json").json()["order"]

    assert fetched == created
    assert client.get("orders.json", limit=1).json()["orders"][0]["id"] == created["id"]


def test_admin_update_sends_orders_updated(client, webhook_receiver, order_id):
    client.sandbox.webhook_target = webhook_receiver.url
    before = client.get(f"orders/{order_id('#1002')}.json").json()["order"]
    new_address = {"first_name": "Jordan", "last_name": "Lee", "address1": "1 Capitol Mall", "city": "Sacramento", "zip": "95814", "country_code": "US", "province_code": "CA"}

    response = client.admin("PUT", f"orders/{order_id('#1002')}", {"order": {"shipping_address": new_address}})

    assert response.status_code == 200
    after = response.json()["order"]
    assert after["shipping_address"]["address1"] == "1 Capitol Mall"
    assert after["shipping_address"]["province"] == "California"
    assert after["updated_at"] > before["updated_at"]
    assert after["created_at"] == before["created_at"]
    assert webhook_receiver.topics() == ["orders/updated"]
    assert json.loads(webhook_receiver.received[0].body)["shipping_address"]["address1"] == "1 Capitol Mall"


def test_admin_mark_paid_sends_orders_paid(client, webhook_receiver, order_id):
    client.sandbox.webhook_target = webhook_receiver.url

    response = client.admin("POST", f"orders/{order_id('#1002')}/mark_paid", {})

    assert response.status_code == 200
    body = response.json()
    assert body["order"]["financial_status"] == "paid"
    assert body["order"]["total_outstanding"] == "0.00"
    assert (body["transaction"]["kind"], body["transaction"]["amount"], body["transaction"]["status"]) == ("sale", "48.84", "success")
    assert webhook_receiver.topics() == ["orders/paid", "orders/updated"]
    ids = [hook.headers["X-Shopify-Webhook-Id"] for hook in webhook_receiver.received]
    assert len(set(ids)) == 2
    for hook in webhook_receiver.received:
        assert hook.headers["X-Shopify-Hmac-Sha256"] == expected_hmac(hook.body)


def test_admin_mark_paid_captures_an_authorization(client, order_id):
    response = client.admin("POST", f"orders/{order_id('#1016')}/mark_paid")

    transactions = client.get(f"orders/{order_id('#1016')}/transactions.json").json()["transactions"]
    assert response.json()["order"]["financial_status"] == "paid"
    assert [t["kind"] for t in transactions] == ["authorization", "capture"]
    assert transactions[1]["parent_id"] == transactions[0]["id"]


def test_admin_partial_payment_keeps_partially_paid(client, order_id):
    response = client.admin("POST", f"orders/{order_id('#1026')}/mark_paid", {"amount": "37.34"})

    order = response.json()["order"]
    assert order["financial_status"] == "partially_paid"
    assert order["total_outstanding"] == "100.00"


def test_admin_mark_paid_twice_is_rejected(client, order_id):
    response = client.admin("POST", f"orders/{order_id('#1001')}/mark_paid")

    assert response.status_code == 422
    assert "nothing left to pay" in response.json()["errors"]


def test_admin_unknown_order_is_not_found(client):
    response = client.admin("PUT", "orders/1", {"order": {"note": "x"}})

    assert response.status_code == 404


def test_admin_update_rejects_read_only_fields(client, order_id):
    response = client.admin("PUT", f"orders/{order_id('#1001')}", {"order": {"total_price": "1.00"}})

    assert response.status_code == 422
    assert response.json() == {"errors": "cannot update order fields: total_price"}


def test_no_webhook_is_sent_without_a_target(client, webhook_receiver, order_id):
    client.admin("POST", f"orders/{order_id('#1002')}/mark_paid")

    assert webhook_receiver.received == []
    assert client.sandbox.webhooks.deliveries == []


def test_admin_webhook_target_and_deliveries(client, webhook_receiver):
    client.admin("PUT", "webhooks", {"target": webhook_receiver.url})
    client.admin("POST", "orders", NEW_ORDER)

    body = client.admin("GET", "webhooks").json()
    assert body["target"] == webhook_receiver.url
    assert [(d["topic"], d["status"]) for d in body["deliveries"]] == [("orders/create", 200)]


def test_admin_cases_name_the_seeded_orders(client, order_id):
    cases = client.admin("GET", "cases").json()["cases"]

    assert cases["guest_checkout"]["name"] == "#1002"
    assert cases["guest_checkout"]["id"] == order_id("#1002")
    assert len(cases) == 26


def test_admin_created_order_totals_add_up(client):
    order = client.admin("POST", "orders", NEW_ORDER).json()["order"]

    assert order["total_line_items_price"] == "43.48"
    # New York taxes on the two tees (39.98): 1.60 + 1.80 + 0.15; the gift wrap is not taxable.
    assert order["total_tax"] == "3.55"
    assert Decimal(order["total_price"]) == Decimal("43.48") + Decimal("5.95") + Decimal("3.55")
    assert order["line_items"][1]["product_id"] is None
    assert order["line_items"][1]["tax_lines"] == []
