"""The naive stock push: one REST `inventory_levels/set` request per changed item.

The script reads the shop's products (250 a page) to map SKUs to inventory items, then sets each
changed item's available quantity at the location, whether or not Shopify already has it, and
waits out each 429 for its Retry-After. At the REST bucket's leak of 2 requests a second, 5,000
items take about 42 minutes.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import requests

from connectors.sandbox.local import LocalSandbox

from bench.baselines.stock_source import ChangedItems

__all__ = ["NaiveStock"]

log = logging.getLogger(__name__)


class NaiveStock:
    """One run per `push()`; the ERP cursor persists between runs."""

    def __init__(self, sandbox: LocalSandbox, since: str, location_id: int) -> None:
        self.changes = ChangedItems(sandbox, since)
        self.base = sandbox.shopify.api_url()
        self.session = requests.Session()
        self.session.headers["X-Shopify-Access-Token"] = sandbox.shopify.access_token
        self.location_id = location_id

    def push(self) -> int:
        """Send every changed item's quantity; return the writes sent."""
        changed = self.changes.read()
        if not changed:
            return 0
        items = self._inventory_items()
        for entry in changed:
            body = {"location_id": self.location_id, "inventory_item_id": items[entry["sku"]], "available": entry["quantity"]}
            self._send("POST", f"{self.base}/inventory_levels/set.json", json=body)
        return len(changed)

    def _inventory_items(self) -> dict[str, int]:
        found: dict[str, int] = {}
        url: str | None = f"{self.base}/products.json"
        params: dict[str, Any] | None = {"limit": 250, "fields": "id,variants"}
        while url:
            response = self._send("GET", url, params=params)
            for product in response.json()["products"]:
                found.update({variant["sku"]: variant["inventory_item_id"] for variant in product["variants"] if variant.get("sku")})
            url = response.links.get("next", {}).get("url")
            params = None
        return found

    def _send(self, method: str, url: str, **options: Any) -> requests.Response:
        for attempt in range(50):
            try:
                response = self.session.request(method, url, timeout=30, **options)
            except requests.Timeout:
                continue
            if response.status_code == 429:
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            if response.status_code >= 500:
                time.sleep(0.5 * (attempt + 1))
                continue
            response.raise_for_status()
            return response
        raise RuntimeError(f"Shopify {method} {url} failed after 50 attempts")
