"""Webhook verification with deliveries the sandbox signs and sends to a local receiver."""

from __future__ import annotations

import pytest

from connectors.shopify.connector import ShopifyConnector
from connectors.shopify.webhooks import WebhookEvent, WebhookRejected, compute_signature
from engine.errors import ConfigurationError, EventInvalid

from shopify_connector_helpers import clock, order_by_name, sandbox, sandbox_settings, shopify, sleep  # noqa: F401


def deliveries(sandbox, webhook_receiver, change):
    """Point the sandbox's webhooks at the receiver, make a change, and return what arrived."""
    sandbox.webhook_target = webhook_receiver.url
    change()
    return webhook_receiver.received


def test_orders_updated_webhook_with_good_signature_is_accepted(shopify, sandbox, webhook_receiver):
    order = order_by_name(sandbox, "#1005")
    hooks = deliveries(sandbox, webhook_receiver, lambda: sandbox.state.update_order(order["id"], {"note": "leave at the door"}))

    event = shopify.verify_webhook(hooks[0].headers, hooks[0].body)

    changed = sandbox.state.orders[order["id"]]
    assert isinstance(event, WebhookEvent)
    assert (event.id, event.version, event.key) == (str(order["id"]), changed["updated_at"], f"customer:{order['customer']['id']}")
    assert (event.topic, event.trigger) == ("orders/updated", "new_or_updated_orders")
    assert event.webhook_id == hooks[0].headers["X-Shopify-Webhook-Id"]
    assert event.shop_domain == "sandbox-store.myshopify.com"
    assert event.api_version == "2026-10"
    assert event.data["note"] == "leave at the door"


def test_webhook_event_matches_the_poll_event(shopify, sandbox, webhook_receiver):
    order = order_by_name(sandbox, "#1005")
    hooks = deliveries(sandbox, webhook_receiver, lambda: sandbox.state.update_order(order["id"], {"tags": "vip"}))

    event = shopify.verify_webhook(hooks[0].headers, hooks[0].body)
    polled = [e for e in shopify.poll("new_or_updated_orders", {}, None, None, 50).events if e.id == event.id]

    assert [(e.id, e.version, e.key, e.data) for e in polled] == [(event.id, event.version, event.key, event.data)]


def test_orders_create_and_paid_webhooks_feed_their_triggers(shopify, sandbox, webhook_receiver):
    def create_and_pay():
        created = sandbox.state.create_order({"line_items": [{"sku": "SKU-002", "quantity": 1}], "email": "new@example.org"})
        sandbox.state.mark_paid(created["id"])

    hooks = deliveries(sandbox, webhook_receiver, create_and_pay)
    events = [shopify.verify_webhook(hook.headers, hook.body) for hook in hooks]

    assert [(event.topic, event.trigger) for event in events] == [
        ("orders/create", "new_orders"),
        ("orders/paid", "paid_orders"),
        ("orders/updated", "new_or_updated_orders"),
    ]
    assert events[0].version == events[0].data["created_at"]
    assert events[1].version == "paid"
    assert len({event.webhook_id for event in events}) == 3


def test_webhook_with_tampered_body_is_rejected(shopify, sandbox, webhook_receiver):
    order = order_by_name(sandbox, "#1005")
    hooks = deliveries(sandbox, webhook_receiver, lambda: sandbox.state.update_order(order["id"], {"note": "x"}))
    tampered = hooks[0].body.replace(b'"note": "x"', b'"note": "y"')

    with pytest.raises(WebhookRejected) as caught:
        shopify.verify_webhook(hooks[0].headers, tampered)

    assert tampered != hooks[0].body
    assert str(caught.value) == "the webhook's X-Shopify-Hmac-Sha256 signature does not match the body; check the connection's app_secret"
    assert isinstance(caught.value, EventInvalid)


def test_webhook_signed_with_another_secret_is_rejected(shopify, sandbox, webhook_receiver):
    order = order_by_name(sandbox, "#1005")
    hooks = deliveries(sandbox, webhook_receiver, lambda: sandbox.state.update_order(order["id"], {"note": "x"}))
    headers = {**hooks[0].headers, "X-Shopify-Hmac-Sha256": compute_signature(hooks[0].body, "another_secret")}

    with pytest.raises(WebhookRejected, match="does not match the body"):
        shopify.verify_webhook(headers, hooks[0].body)


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        (None, "the webhook has no X-Shopify-Hmac-Sha256 signature; rejecting it"),
        ("", "the webhook has no X-Shopify-Hmac-Sha256 signature; rejecting it"),
        ("not base64!", "the webhook's X-Shopify-Hmac-Sha256 signature is not base64; rejecting it"),
    ],
)
def test_webhook_without_valid_signature_is_rejected(shopify, signature, message):
    body = b'{"id": 1, "updated_at": "2026-11-01T10:00:00-05:00", "created_at": "2026-11-01T10:00:00-05:00"}'
    headers = {"X-Shopify-Topic": "orders/updated", "X-Shopify-Webhook-Id": "w-1"}
    if signature is not None:
        headers["X-Shopify-Hmac-Sha256"] = signature

    with pytest.raises(WebhookRejected) as caught:
        shopify.verify_webhook(headers, body)

    assert str(caught.value) == message


def signed(body: bytes, **headers: str) -> dict[str, str]:
    return {"X-Shopify-Hmac-Sha256": compute_signature(body, "sandbox_app_secret"), "X-Shopify-Webhook-Id": "w-1", **headers}


def test_webhook_topic_not_taken_is_rejected(shopify):
    body = b'{"id": 1}'

    with pytest.raises(WebhookRejected) as caught:
        shopify.verify_webhook(signed(body, **{"X-Shopify-Topic": "orders/cancelled"}), body)

    assert str(caught.value) == "unsupported Shopify webhook topic 'orders/cancelled'; the connector takes orders/create, orders/updated, orders/paid"


def test_webhook_from_another_shop_is_rejected(shopify):
    body = b'{"id": 1, "updated_at": "2026-11-01T10:00:00-05:00"}'
    headers = signed(body, **{"X-Shopify-Topic": "orders/updated", "X-Shopify-Shop-Domain": "other.myshopify.com"})

    with pytest.raises(WebhookRejected) as caught:
        shopify.verify_webhook(headers, body)

    assert str(caught.value) == "the webhook is from shop 'other.myshopify.com', but this connection is for 'sandbox-store.myshopify.com'"


def test_webhook_headers_are_matched_without_case(shopify):
    body = b'{"id": 7, "updated_at": "2026-11-01T10:00:00-05:00", "created_at": "2026-11-01T10:00:00-05:00"}'
    headers = {key.lower(): value for key, value in signed(body, **{"X-Shopify-Topic": "orders/updated"}).items()}

    event = shopify.verify_webhook(headers, body)

    assert (event.id, event.version, event.webhook_id) == ("7", "2026-11-01T10:00:00-05:00", "w-1")


def test_paid_webhook_for_unpaid_order_is_rejected(shopify):
    body = b'{"id": 7, "updated_at": "2026-11-01T10:00:00-05:00", "financial_status": "pending"}'

    with pytest.raises(EventInvalid) as caught:
        shopify.verify_webhook(signed(body, **{"X-Shopify-Topic": "orders/paid"}), body)

    assert str(caught.value) == "order 7 is not paid (financial_status 'pending'); the paid_orders trigger takes only orders whose financial_status is paid or partially_paid"


def test_webhook_without_app_secret_is_a_configuration_error(sandbox):
    settings = sandbox_settings(sandbox)
    del settings["app_secret"]
    connector = ShopifyConnector(settings, "shop-main")

    with pytest.raises(ConfigurationError) as caught:
        connector.verify_webhook({}, b"{}")

    assert str(caught.value) == "connection 'shop-main' has no app_secret; webhooks cannot be verified without it"


def test_webhook_shaped_for_the_recipe_trigger(shopify, sandbox, webhook_receiver):
    pending = order_by_name(sandbox, "#1002")
    hooks = deliveries(sandbox, webhook_receiver, lambda: sandbox.state.mark_paid(pending["id"]))
    updated = next(hook for hook in hooks if hook.headers["X-Shopify-Topic"] == "orders/updated")

    event = shopify.verify_webhook(updated.headers, updated.body, "paid_orders")

    assert (event.topic, event.trigger, event.version) == ("orders/updated", "paid_orders", "paid")
