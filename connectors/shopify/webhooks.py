"""Webhook verification: check Shopify's signature on an order webhook and shape it as an Event.

Shopify signs each webhook with `X-Shopify-Hmac-Sha256`: the base64 HMAC-SHA256 of the raw body,
keyed with the app's client secret. The signature must be checked on the bytes received, before
any JSON parsing, and compared in constant time. Serving the webhook endpoint is not done here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Any, Mapping

from engine import jsoncodec
from engine.connector import Event
from engine.errors import EventInvalid

from .orders import FEEDS, order_event

__all__ = ["TOPIC_TRIGGERS", "WebhookEvent", "WebhookRejected", "compute_signature", "verify_webhook"]

log = logging.getLogger(__name__)

# The order topics the connector accepts, and the trigger each one feeds.
TOPIC_TRIGGERS = {
    "orders/create": "new_orders",
    "orders/updated": "new_or_updated_orders",
    "orders/paid": "paid_orders",
}


class WebhookRejected(EventInvalid):
    """A webhook that failed verification; a server returns 401 for it and does not process it."""


@dataclass
class WebhookEvent(Event):
    """An order event from a verified webhook, with the delivery headers a receiver needs.

    `webhook_id` (X-Shopify-Webhook-Id) is the same on Shopify's retries of one delivery, so a
    receiver can drop repeats before running a job.
    """

    topic: str = ""
    trigger: str = ""
    webhook_id: str = ""
    shop_domain: str = ""
    api_version: str = ""
    triggered_at: str = ""


def compute_signature(raw_body: bytes, app_secret: str) -> str:
    """Return the base64 HMAC-SHA256 of `raw_body` keyed with `app_secret`, as Shopify sends it."""
    digest = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_webhook(headers: Mapping[str, str], raw_body: bytes, app_secret: str, shop: str, trigger: str | None = None) -> WebhookEvent:
    """Check a webhook's signature, topic and shop, and return its order as a WebhookEvent.

    The event is shaped for `trigger` when given (the trigger of the recipe the webhook was
    sent for), else for the trigger its topic feeds. Raises WebhookRejected for a missing or
    wrong signature, a topic the connector does not take, another shop's webhook, or a body that
    is not an order; EventInvalid for an order `trigger` does not take.
    """
    header = {name.lower(): value for name, value in headers.items()}
    _check_signature(header.get("x-shopify-hmac-sha256"), raw_body, app_secret)

    topic = header.get("x-shopify-topic", "")
    trigger = trigger or TOPIC_TRIGGERS.get(topic)
    if topic not in TOPIC_TRIGGERS or trigger not in FEEDS:
        raise WebhookRejected(f"unsupported Shopify webhook topic {topic!r}; the connector takes {', '.join(TOPIC_TRIGGERS)}")

    domain = header.get("x-shopify-shop-domain", "").lower()
    if domain and domain != shop:
        raise WebhookRejected(f"the webhook is from shop {domain!r}, but this connection is for {shop!r}")

    webhook_id = header.get("x-shopify-webhook-id", "")
    if not webhook_id:
        raise WebhookRejected("the webhook has no X-Shopify-Webhook-Id header, so repeats could not be detected")

    try:
        payload = jsoncodec.loads(raw_body)
    except ValueError:
        raise WebhookRejected(f"the {topic} webhook body is not JSON") from None
    event = order_event(FEEDS[trigger], payload)

    log.debug("shopify webhook %s %s verified for order %s", topic, webhook_id, event.id)
    return WebhookEvent(
        id=event.id,
        version=event.version,
        data=event.data,
        key=event.key,
        topic=topic,
        trigger=trigger,
        webhook_id=webhook_id,
        shop_domain=domain,
        api_version=header.get("x-shopify-api-version", ""),
        triggered_at=header.get("x-shopify-triggered-at", ""),
    )


def _check_signature(signature: Any, raw_body: bytes, app_secret: str) -> None:
    if not signature:
        raise WebhookRejected("the webhook has no X-Shopify-Hmac-Sha256 signature; rejecting it")
    try:
        received = base64.b64decode(str(signature).strip(), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookRejected("the webhook's X-Shopify-Hmac-Sha256 signature is not base64; rejecting it") from None

    expected = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).digest()
    if not hmac.compare_digest(received, expected):
        raise WebhookRejected("the webhook's X-Shopify-Hmac-Sha256 signature does not match the body; check the connection's app_secret")
