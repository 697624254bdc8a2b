"""`ShopifyConnector`: Shopify Admin API triggers and actions for recipes.

Orders are read through REST (the shape webhooks deliver); variants, locations and stock through
GraphQL, because Shopify deprecated the REST product and variant endpoints. HTTP, rate limits and
errors are in `client.py`; each concept has its own module (`orders`, `webhooks`, `catalogue`,
`inventory`, `fulfillment`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Mapping

import requests

from engine.connector import Connector, Event, Poll, action, trigger
from engine.errors import ActionError, ConfigurationError, SkipEventError

from . import catalogue, fulfillment, inventory
from .client import ShopifyClient
from .inputs import whole_number
from .orders import FEEDS, ORDER_STATUSES, order_event, poll_orders
from .settings import CONNECTION_SCHEMA, ShopifySettings
from .webhooks import WebhookEvent, verify_webhook

__all__ = ["ShopifyConnector"]

_ID = {"type": ["integer", "string"], "description": "Numeric id (or its digits as text)."}
_ORDER_INPUTS = {
    "type": "object",
    "properties": {"status": {"type": "string", "enum": list(ORDER_STATUSES), "default": "any", "description": "Order status to include (Shopify's `status` filter)."}},
    "additionalProperties": False,
}
_ORDER_ID_INPUT = {"type": "object", "properties": {"order_id": _ID}, "required": ["order_id"], "additionalProperties": False}


class ShopifyConnector(Connector):
    """A Shopify store, through the Admin API with an access token."""

    name = "shopify"
    title = "Shopify"
    connection_schema = CONNECTION_SCHEMA

    def __init__(
        self,
        settings: dict[str, Any],
        connection_name: str | None = None,
        *,
        monotonic: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        """`monotonic` and `sleep` drive the rate-limit waits; tests pass a manual clock's."""
        super().__init__(settings, connection_name)
        self._monotonic = monotonic
        self._sleep = sleep
        self._session = session
        self._client: ShopifyClient | None = None
        self._settings: ShopifySettings | None = None

    @classmethod
    def sandbox_settings(cls, state_dir: str) -> dict[str, Any]:
        from connectors.sandbox.local import shared_sandbox

        return shared_sandbox(state_dir).shopify_settings()

    @classmethod
    def close_sandbox(cls, state_dir: str) -> None:
        from connectors.sandbox.local import release_shared

        release_shared(state_dir)

    @classmethod
    def prepare_sandbox(cls, state_dir: str, given: Any) -> None:
        from connectors.sandbox.local import prepare_shopify

        prepare_shopify(state_dir, given)

    # Lifecycle ---------------------------------------------------------------------------------

    def open(self) -> None:
        """Validate the settings and prepare the HTTP session. Raises ConfigurationError."""
        if self._client is not None:
            return
        self._settings = ShopifySettings.from_dict(self.settings)
        options: dict[str, Any] = {"on_request": self._count_round_trip, "session": self._session}
        if self._monotonic is not None:
            options["monotonic"] = self._monotonic
        if self._sleep is not None:
            options["sleep"] = self._sleep
        self._client = ShopifyClient(self._settings, **options)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def client(self) -> ShopifyClient:
        """The open client; opened on first use when the connector is used outside `with`."""
        if self._client is None:
            self.open()
        assert self._client is not None
        return self._client

    @property
    def config(self) -> ShopifySettings:
        """The validated settings."""
        if self._settings is None:
            self.open()
        assert self._settings is not None
        return self._settings

    def _count_round_trip(self) -> None:
        self.round_trips += 1

    def check(self) -> str:
        """Read `shop.json` and return the shop's name, domain and API version.

        Raises ConfigurationError for a rejected token (401), a missing scope (403) and an unknown
        shop or API version (404).
        """
        config = self.config
        try:
            shop = self.client.get("shop.json").body.get("shop") or {}
        except ActionError as error:
            if error.status == 401:
                raise ConfigurationError(f"Shopify rejected the access token for {config.shop} (HTTP 401); check the connection's access_token") from None
            if error.status == 403:
                raise ConfigurationError(f"the access token for {config.shop} may not read the shop (HTTP 403); grant the app the scopes it needs") from None
            if error.status == 404:
                raise ConfigurationError(
                    f"Shopify returned 404 for {config.api_root}/shop.json: check the shop domain {config.shop!r} and the API version {config.api_version!r}"
                ) from None
            raise

        line = f"Shopify shop {shop.get('name')!r} ({shop.get('myshopify_domain') or config.shop}), Admin API {config.api_version}"
        served = self.client.served_version
        if served and served != config.api_version:
            line += f"; Shopify served version {served} instead, so {config.api_version} is not supported"
        return line

    # Triggers ----------------------------------------------------------------------------------

    @trigger("new_orders", input_schema=_ORDER_INPUTS, webhook_topics=("orders/create",))
    def new_orders(self, inputs: dict[str, Any], cursor: Any, since: datetime | None, limit: int) -> Poll:
        """Orders created after the cursor, oldest first; each order once (version = created_at)."""
        return self._poll("new_orders", inputs, cursor, since, limit)

    @trigger("new_or_updated_orders", input_schema=_ORDER_INPUTS, webhook_topics=("orders/updated",))
    def new_or_updated_orders(self, inputs: dict[str, Any], cursor: Any, since: datetime | None, limit: int) -> Poll:
        """Orders created or changed after the cursor, oldest change first (version = updated_at)."""
        return self._poll("new_or_updated_orders", inputs, cursor, since, limit)

    @trigger("paid_orders", input_schema=_ORDER_INPUTS, webhook_topics=("orders/paid",))
    def paid_orders(self, inputs: dict[str, Any], cursor: Any, since: datetime | None, limit: int) -> Poll:
        """Orders that became paid or partially paid; one event per payment state (version = financial_status)."""
        return self._poll("paid_orders", inputs, cursor, since, limit)

    def _poll(self, trigger_name: str, inputs: dict[str, Any], cursor: Any, since: datetime | None, limit: int) -> Poll:
        config = self.config
        return poll_orders(self.client, FEEDS[trigger_name], inputs or {}, cursor, since, limit, config.poll_overlap_seconds, config.page_size)

    def event_from_payload(self, trigger_name: str, payload: Any) -> Event:
        """Shape an order (from `--event` or a webhook body) as the trigger's polls do."""
        return order_event(FEEDS[trigger_name], payload)

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes, trigger_name: str | None = None) -> WebhookEvent:
        """Verify an orders/create, orders/updated or orders/paid webhook and return its event.

        With `trigger_name` the event is shaped as that trigger's polls shape it, whatever the
        topic; without it, as the topic's own trigger does (orders/paid feeds paid_orders).
        Raises WebhookRejected (an EventInvalid) for a missing or wrong signature and
        ConfigurationError when the connection has no `app_secret`.
        """
        config = self.config
        if not config.app_secret:
            raise ConfigurationError(f"connection '{self.connection_name}' has no app_secret; webhooks cannot be verified without it")
        return verify_webhook(headers, raw_body, config.app_secret, config.shop, trigger_name)

    # Actions -----------------------------------------------------------------------------------

    @action(
        "get_order",
        writes=False,
        input_schema={
            "type": "object",
            "properties": {
                "order_id": _ID,
                "if_missing": {"type": "string", "enum": ["fail", "skip"], "default": "fail", "description": "What a deleted or unknown order does to the job: fail it, or end it as skipped."},
            },
            "required": ["order_id"],
            "additionalProperties": False,
        },
    )
    def get_order(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Read one order through REST, in the shape the order triggers deliver."""
        order_id = whole_number(inputs["order_id"], "order_id", 1)
        try:
            return self.client.get(f"orders/{order_id}.json").body["order"]
        except ActionError as error:
            if error.status == 404 and inputs.get("if_missing") == "skip":
                raise SkipEventError(f"Shopify order {order_id} no longer exists; nothing to do", code="NOT_FOUND") from None
            raise

    @action("list_transactions", writes=False, input_schema=_ORDER_ID_INPUT)
    def list_transactions(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """List an order's transactions (sales, captures, authorizations, voids, refunds)."""
        order_id = whole_number(inputs["order_id"], "order_id", 1)
        transactions = self.client.get(f"orders/{order_id}/transactions.json").body.get("transactions") or []
        return {"transactions": transactions, "count": len(transactions)}

    @action(
        "find_variants",
        writes=False,
        input_schema={
            "type": "object",
            "properties": {
                "skus": {"type": "array", "items": {"type": "string"}, "description": "SKUs to find."},
                "ids": {"type": "array", "items": _ID, "description": "Variant ids (numeric or gid) to find."},
            },
            "additionalProperties": False,
        },
    )
    def find_variants(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Find variants by SKU and/or id through GraphQL; lists the SKUs and ids not found."""
        return catalogue.find_variants(self.client, list(inputs.get("skus") or []), list(inputs.get("ids") or []))

    @action("list_locations", writes=False, input_schema={"type": "object", "properties": {}, "additionalProperties": False})
    def list_locations(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """List the shop's locations through GraphQL."""
        return inventory.list_locations(self.client)

    @action(
        "create_fulfillment",
        writes=True,
        target="order_id",
        input_schema={
            "type": "object",
            "properties": {
                "order_id": _ID,
                "lines": {
                    "type": "array",
                    "description": "Order lines and units to fulfil; all open lines when left out.",
                    "items": {
                        "type": "object",
                        "properties": {"line_item_id": _ID, "quantity": {"type": ["integer", "string"]}},
                        "required": ["line_item_id", "quantity"],
                        "additionalProperties": False,
                    },
                },
                "tracking_number": {"type": ["string", "null"]},
                "tracking_company": {"type": ["string", "null"]},
                "tracking_url": {"type": ["string", "null"]},
                "notify_customer": {"type": "boolean", "default": False},
            },
            "required": ["order_id"],
            "additionalProperties": False,
        },
    )
    def create_fulfillment(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Fulfil order lines through their fulfillment orders; a repeat returns the first fulfillment."""
        return fulfillment.create_fulfillment(self.client, inputs)

    @action(
        "set_stock",
        writes=True,
        target="location_id",
        input_schema={
            "type": "object",
            "properties": {
                "location_id": _ID,
                "items": {
                    "type": "array",
                    "description": "Each names an item by inventory_item_id, sku or variant_id, with its quantity.",
                    "items": {
                        "type": "object",
                        "properties": {"inventory_item_id": _ID, "sku": {"type": "string"}, "variant_id": _ID, "quantity": {"type": ["integer", "string"]}},
                        "required": ["quantity"],
                        "additionalProperties": False,
                    },
                },
                "name": {"type": "string", "enum": ["available", "on_hand"], "default": "available"},
                "reason": {"type": "string", "default": "correction", "description": "Shopify's reason for the change, such as correction or received."},
                "reference_document_uri": {"type": "string", "description": "URI of the source document, such as gid://ascent-erp/StockCount/42."},
                "on_missing": {"type": "string", "enum": ["fail", "skip"], "default": "fail", "description": "Unknown items, unstocked items and SKUs shared by several items: fail before writing, or skip them and set the others."},
            },
            "required": ["location_id", "items"],
            "additionalProperties": False,
        },
    )
    def set_stock(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Set stock of many items at a location with inventorySetQuantities; unchanged ones are not sent."""
        return inventory.set_stock(self.client, inputs)
