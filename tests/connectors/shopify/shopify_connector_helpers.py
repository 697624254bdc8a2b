"""Fixtures and helpers for the Shopify connector tests: a sandbox on a manual clock and a connector for it.

Test modules import the fixtures they use by name, since this folder's conftest belongs to the
sandbox tests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterator

import pytest
import requests

from connectors.sandbox.catalog import CatalogVariant, catalog
from connectors.shopify.connector import ShopifyConnector
from connectors.shopify.sandbox import ManualClock, ShopifySandbox
from connectors.shopify.sandbox.catalogue import build_catalogue
from engine import jsoncodec

SHOP = "sandbox-store.myshopify.com"
TOKEN = "shpat_sandbox_token"
APP_SECRET = "sandbox_app_secret"
MAIN_WAREHOUSE = 65_000_001
POPUP = 65_000_002
FAKE_BASE = "https://fake-shop.myshopify.com"
FAKE_API = f"{FAKE_BASE}/admin/api/2026-10"


def sandbox_settings(sandbox: ShopifySandbox, **extra: Any) -> dict[str, Any]:
    """Return connection settings that reach `sandbox`, plus any `extra` settings."""
    return {
        "shop": sandbox.state.profile.domain,
        "access_token": sandbox.access_token,
        "app_secret": sandbox.app_secret,
        "api_version": sandbox.api_version,
        "base_url": sandbox.base_url,
        **extra,
    }


def fake_settings(**extra: Any) -> dict[str, Any]:
    """Return settings for a shop that only `responses` serves, so nothing reaches the network."""
    return {"shop": "fake-shop.myshopify.com", "access_token": TOKEN, "app_secret": APP_SECRET, "max_retries": 2, **extra}


class RecordingSleep:
    """A sleep that moves a manual clock and records each wait."""

    def __init__(self, clock: ManualClock | None = None) -> None:
        self.clock = clock
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.clock is not None:
            self.clock.advance(seconds)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sandbox(clock: ManualClock) -> Iterator[ShopifySandbox]:
    """A seeded sandbox (seed 7) whose rate limits follow `clock`."""
    started = ShopifySandbox(port=0, seed=7, clock=clock).start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def sleep(clock: ManualClock) -> RecordingSleep:
    return RecordingSleep(clock)


@pytest.fixture
def shopify(sandbox: ShopifySandbox, clock: ManualClock, sleep: RecordingSleep) -> Iterator[ShopifyConnector]:
    """An open connector for `sandbox` whose waits advance `clock` instead of sleeping."""
    connector = ShopifyConnector(sandbox_settings(sandbox), monotonic=clock.monotonic, sleep=sleep)
    with connector:
        yield connector


def order_by_name(sandbox: ShopifySandbox, name: str) -> dict[str, Any]:
    return next(order for order in sandbox.state.orders.values() if order["name"] == name)


def calls_of(sandbox: ShopifySandbox) -> dict[str, int]:
    """Return the sandbox's request counts by endpoint, without the admin routes."""
    return {endpoint: count for endpoint, count in sandbox.calls.items() if "/admin/" in endpoint}


class RecordingSession(requests.Session):
    """A requests session that records each request's method, URL and decoded JSON body.

    `before_send(method, url, body)`, when given, runs just before a request goes out.
    """

    def __init__(self, before_send: Callable[[str, str, Any], None] | None = None) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, Any]] = []
        self.before_send = before_send

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        data = kwargs.get("data")
        body = jsoncodec.loads(data) if data else None
        self.sent.append((method, url, body))
        if self.before_send is not None:
            self.before_send(method, url, body)
        return super().request(method, url, *args, **kwargs)

    def graphql_bodies(self, operation: str) -> list[dict[str, Any]]:
        return [body for _, url, body in self.sent if url.endswith("/graphql.json") and body.get("operationName") == operation]


def add_generated_items(sandbox: ShopifySandbox, count: int, on_hand: int = 10) -> list[CatalogVariant]:
    """Add `count` generated variants to the sandbox's catalogue, stocked at the main warehouse."""
    hand_picked = len(catalog(7))
    entries: list[CatalogVariant] = []
    products = 0
    while len(entries) < count:
        products += 100
        entries = catalog(7, extra_products=products)[hand_picked:]
    entries = entries[:count]

    created = "2026-01-05T09:00:00-05:00"
    moment = datetime.fromisoformat(created)
    with sandbox.state.lock:
        new_products, variants, items = build_catalogue(entries, created)
        sandbox.state.load_catalogue(new_products, variants, items, [])
        for entry in entries:
            sandbox.state.connect_inventory(entry.inventory_item_id, MAIN_WAREHOUSE, moment, on_hand=on_hand)
    return entries
