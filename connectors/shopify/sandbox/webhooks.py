"""Webhook delivery: order topics POSTed to one target URL, signed as Shopify signs them.

Each delivery carries the REST order JSON as its body and the headers Shopify sends, among them
`X-Shopify-Hmac-Sha256`: the base64 HMAC-SHA256 of the raw body, keyed with the app secret.
Delivery is synchronous and not retried; every attempt is recorded in `deliveries`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import timezone
from typing import Any

import requests

from engine import jsoncodec

from .clock import Clock

__all__ = ["WebhookDelivery", "WebhookSender", "sign_webhook"]

log = logging.getLogger(__name__)


def sign_webhook(body: bytes, secret: str) -> str:
    """Return the `X-Shopify-Hmac-Sha256` value for a webhook body."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass
class WebhookDelivery:
    """One delivery attempt: what was sent where, and the receiver's status or the error."""

    topic: str
    webhook_id: str
    target: str
    headers: dict[str, str]
    body: bytes = field(repr=False)
    status: int | None = None
    error: str | None = None

    def summary(self) -> dict[str, Any]:
        return {"topic": self.topic, "webhook_id": self.webhook_id, "target": self.target, "status": self.status, "error": self.error}


class WebhookSender:
    """Sends order webhooks to `target` (a URL, or None to send nothing)."""

    def __init__(self, shop_domain: str, app_secret: str, api_version: str, clock: Clock, timeout: float = 5.0) -> None:
        self.shop_domain = shop_domain
        self.api_version = api_version
        self.target: str | None = None
        self.deliveries: list[WebhookDelivery] = []
        self._secret = app_secret
        self._clock = clock
        self._timeout = timeout
        self._lock = threading.Lock()
        self._session = requests.Session()
        # Proxy settings from the environment must not divert loopback deliveries.
        self._session.trust_env = False

    def deliver(self, topic: str, order: dict[str, Any]) -> WebhookDelivery | None:
        """POST `order` as the `topic` webhook; return the delivery, or None when no target is set."""
        target = self.target
        if not target:
            return None

        body = jsoncodec.dumps(order).encode("utf-8")
        webhook_id = str(uuid.uuid4())
        triggered_at = self._clock.now().astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign_webhook(body, self._secret),
            "X-Shopify-Shop-Domain": self.shop_domain,
            "X-Shopify-API-Version": self.api_version,
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Event-Id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{topic}/{order['id']}/{order['updated_at']}")),
            "X-Shopify-Triggered-At": triggered_at,
        }
        delivery = WebhookDelivery(topic, webhook_id, target, headers, body)

        try:
            response = self._session.post(target, data=body, headers=headers, timeout=self._timeout)
            delivery.status = response.status_code
            if response.status_code >= 300:
                log.warning("webhook %s %s for order %s got status %s from %s", topic, webhook_id, order["id"], response.status_code, target)
        except requests.RequestException as error:
            delivery.error = str(error)
            log.warning("webhook %s %s for order %s to %s failed: %s", topic, webhook_id, order["id"], target, error)

        with self._lock:
            self.deliveries.append(delivery)
        return delivery

    def close(self) -> None:
        self._session.close()
