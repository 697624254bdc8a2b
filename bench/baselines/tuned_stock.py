"""The hand-tuned stock push: GraphQL reads of 332 items a request and batched writes.

Per run: the ERP's changed items, then `inventoryItems` queries by SKU, two aliased connections
of 166 items each (3 points an item, under the 1,000-point query limit), and one
`inventorySetQuantities` mutation request holding up to 10 aliased batches of 250 quantities,
with only the quantities that differ. Before each request the script waits until the GraphQL
bucket holds the request's cost, as the last response's `extensions.cost` reported it, so it
is never throttled. This is the plan the Shopify connector's `set_stock` follows.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import requests

from connectors.sandbox.local import LocalSandbox

from bench.baselines.stock_source import ChangedItems

__all__ = ["TunedStock"]

log = logging.getLogger(__name__)

PER_CONNECTION = 166
CONNECTIONS = 2
PER_MUTATION = 250
MUTATIONS_PER_REQUEST = 10

_READ = """query Levels($q0: String!, $n0: Int!, $q1: String!, $n1: Int!, $location: ID!) {
  c0: inventoryItems(first: $n0, query: $q0) { nodes { id sku inventoryLevel(locationId: $location) { quantities(names: ["available"]) { name quantity } } } }
  c1: inventoryItems(first: $n1, query: $q1) { nodes { id sku inventoryLevel(locationId: $location) { quantities(names: ["available"]) { name quantity } } } }
}"""


class TunedStock:
    """One run per `push()`; the ERP cursor persists between runs."""

    def __init__(self, sandbox: LocalSandbox, since: str, location_id: int) -> None:
        self.changes = ChangedItems(sandbox, since)
        self.url = f"{sandbox.shopify.api_url()}/graphql.json"
        self.session = requests.Session()
        self.session.headers["X-Shopify-Access-Token"] = sandbox.shopify.access_token
        self.location = f"gid://shopify/Location/{location_id}"
        self.available = 1000.0
        self.restore_rate = 50.0
        self.waited = 0.0
        self._seen = time.monotonic()

    def push(self) -> int:
        """Send the quantities Shopify does not have yet; return how many were sent."""
        changed = self.changes.read()
        if not changed:
            return 0
        current = self._read_levels([entry["sku"] for entry in changed])
        writes = [(current[entry["sku"]][0], current[entry["sku"]][1], entry["quantity"]) for entry in changed if current[entry["sku"]][1] != entry["quantity"]]
        batches = [writes[start : start + PER_MUTATION] for start in range(0, len(writes), PER_MUTATION)]
        for first in range(0, len(batches), MUTATIONS_PER_REQUEST):
            self._write(batches[first : first + MUTATIONS_PER_REQUEST])
        return len(writes)

    def _read_levels(self, skus: list[str]) -> dict[str, tuple[str, int]]:
        """Return each SKU's inventory item id and available quantity at the location."""
        found: dict[str, tuple[str, int]] = {}
        size = PER_CONNECTION * CONNECTIONS
        for start in range(0, len(skus), size):
            chunk = skus[start : start + size]
            halves = [chunk[:PER_CONNECTION], chunk[PER_CONNECTION:]]
            variables = {"location": self.location}
            for index, half in enumerate(halves):
                # An empty query would match everything, so an empty half asks for nothing.
                variables[f"q{index}"] = " OR ".join(f'sku:"{sku}"' for sku in half) or 'sku:"-"'
                variables[f"n{index}"] = max(len(half), 1)
            data = self._graphql(_READ, variables, sum(2 + 3 * len(half) for half in halves))
            for index in range(CONNECTIONS):
                for node in data[f"c{index}"]["nodes"]:
                    quantity = next(entry["quantity"] for entry in node["inventoryLevel"]["quantities"] if entry["name"] == "available")
                    found[node["sku"]] = (node["id"], quantity)
        return found

    def _write(self, group: list[list[tuple[str, int, int]]]) -> None:
        declarations, fields, variables = [], [], {}
        for number, batch in enumerate(group):
            declarations.append(f"$input{number}: InventorySetQuantitiesInput!, $key{number}: String!")
            fields.append(f"b{number}: inventorySetQuantities(input: $input{number}) @idempotent(key: $key{number}) {{ userErrors {{ field message code }} }}")
            variables[f"input{number}"] = {
                "name": "available",
                "reason": "correction",
                "quantities": [{"inventoryItemId": item, "locationId": self.location, "quantity": target, "changeFromQuantity": now} for item, now, target in batch],
            }
            variables[f"key{number}"] = str(uuid.uuid4())
        query = f"mutation Set({', '.join(declarations)}) {{ {' '.join(fields)} }}"
        data = self._graphql(query, variables, 10 * len(group))
        problems = [error for number in range(len(group)) for error in data[f"b{number}"]["userErrors"]]
        if problems:
            raise RuntimeError(f"inventorySetQuantities failed: {problems[:3]}")

    def _graphql(self, query: str, variables: dict[str, Any], cost: float) -> dict[str, Any]:
        for attempt in range(20):
            self.available = min(1000.0, self.available + (time.monotonic() - self._seen) * self.restore_rate)
            if self.available < cost:
                pause = (cost - self.available) / self.restore_rate
                self.waited += pause
                time.sleep(pause)
            response = self.session.post(self.url, json={"query": query, "variables": variables}, timeout=30)
            if response.status_code == 429 or response.status_code >= 500:
                time.sleep(1.0)
                continue
            response.raise_for_status()
            payload = response.json()
            status = payload.get("extensions", {}).get("cost", {}).get("throttleStatus", {})
            self.available = float(status.get("currentlyAvailable", self.available))
            self.restore_rate = float(status.get("restoreRate", self.restore_rate))
            self._seen = time.monotonic()
            errors = payload.get("errors") or []
            if any(error.get("extensions", {}).get("code") == "THROTTLED" for error in errors):
                self.available = 0.0
                continue
            if errors:
                raise RuntimeError(f"GraphQL errors: {errors[:3]}")
            return payload["data"]
        raise RuntimeError("GraphQL request still throttled or failing after 20 attempts")
