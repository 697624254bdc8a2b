"""Locations and stock through GraphQL: `locations`, and `inventorySetQuantities` in few calls.

Setting stock reads the current quantities first. Since API version 2026-04 Shopify requires
`changeFromQuantity` on every quantity: the value the caller believes is stored, so a change made
meanwhile by someone else gets CHANGE_FROM_QUANTITY_STALE. The version also requires the
`@idempotent` directive on the mutation. The read also finds the quantities already right, which are not sent at all.

Calls: an item named by inventory item id or SKU costs 3 points to read (the item, its level, the
level's quantities), so one query of at most 1000 points reads 332 of them in two aliased
connections. An item named by variant id costs 4 (its variant too), 249 a query. The writes put up
to `MUTATIONS_PER_REQUEST` aliased `inventorySetQuantities` fields of 250 quantities each into one
request. So K items named by inventory item id or SKU take at most ceil(K / 332) + ceil(K / 2500)
requests, which is within ceil(K / 250) + 1 for every K; by variant id, ceil(K / 249) +
ceil(K / 2500), which exceeds that bound by one request for some K (250, 499, ...).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from engine.errors import FatalError

from .client import ShopifyClient
from .errors import error_from_user_errors
from .inputs import whole_number
from .queries import Search, gid, legacy_id, read_connection, search, search_terms

__all__ = ["MUTATIONS_PER_REQUEST", "QUANTITIES_PER_MUTATION", "list_locations", "set_stock"]

log = logging.getLogger(__name__)

QUANTITIES_PER_MUTATION = 250
# NOTE: Shopify charges 10 points per mutation field and limits each input list to 250; no
# documented limit on aliased fields per request was found, so 10 (100 points) is a choice.
MUTATIONS_PER_REQUEST = 10
MUTATION_COST = 10

_LOCATIONS_QUERY = """
query ListLocations($first: Int!, $after: String) {
  locations(first: $first, after: $after) {
    nodes {
      id legacyResourceId name isActive fulfillsOnlineOrders
      address { address1 address2 city zip province provinceCode country countryCode }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

_LEVEL = "inventoryLevel(locationId: $location) { quantities(names: $names) { name quantity } }"
_SHARED = {"location": "ID!", "names": "[String!]!"}

# Node costs: the item (1), its level (1) and the level's quantities (1); a variant adds its item.
_ITEM_LEVELS = Search("ItemStock", "inventoryItems", f"id legacyResourceId sku {_LEVEL}", 3, _SHARED)
_VARIANT_LEVELS = Search("VariantStock", "productVariants", f"id legacyResourceId sku inventoryItem {{ id legacyResourceId sku {_LEVEL} }}", 4, _SHARED)
_IDENTIFIERS = ("inventory_item_id", "sku", "variant_id")


def list_locations(client: ShopifyClient) -> dict[str, Any]:
    """Return every location of the shop with its numeric id, name, state and address."""
    nodes = read_connection(client, _LOCATIONS_QUERY, {}, ["locations"], "ListLocations", 2)
    return {"locations": [_location_output(node) for node in nodes]}


@dataclass
class _Line:
    """One requested quantity and what the read found for it."""

    index: int
    kind: str
    value: Any
    target: int
    item_gid: str | None = None
    sku: str | None = None
    current: int | None = None
    stocked: bool = False
    # How many inventory items share this line's SKU, when more than one does.
    sharers: int = 0

    @property
    def label(self) -> str:
        return f"{self.kind} {self.value}"


def set_stock(client: ShopifyClient, inputs: dict[str, Any]) -> dict[str, Any]:
    """Set the `name` quantity ("available" or "on_hand") of many items at one location.

    Each entry of `inputs["items"]` names an item by `inventory_item_id`, `variant_id` or `sku`
    and gives its `quantity`. Unknown items and items not stocked at the location fail the call
    before anything is written, unless `on_missing` is "skip". A repeat is a no-op, because
    quantities already right are not sent.
    """
    location = gid("Location", inputs["location_id"], "location_id")
    name = inputs.get("name") or "available"
    lines = [_line(index, entry) for index, entry in enumerate(inputs.get("items") or [])]

    on_missing = inputs.get("on_missing") or "fail"
    variables = {"location": location, "names": [name]}
    _read_item_levels(client, [line for line in lines if line.kind != "variant_id"], variables, name, on_missing)
    _read_variant_levels(client, [line for line in lines if line.kind == "variant_id"], variables, name)

    skipped = _unusable(lines, on_missing)
    usable = [line for line in lines if line.item_gid and line.stocked]
    _reject_conflicting_duplicates(usable)

    changes: dict[str, _Line] = {}
    for line in usable:
        if line.current != line.target:
            changes.setdefault(line.item_gid or "", line)
    unchanged = len({line.item_gid for line in usable}) - len(changes)

    if changes:
        _write(client, list(changes.values()), location, name, inputs)
    log.debug("shopify set_stock at %s: %d changed, %d unchanged, %d skipped", location, len(changes), unchanged, len(skipped))
    return {
        "location_id": legacy_id(location),
        "changed": [
            {"inventory_item_id": legacy_id(line.item_gid or ""), "sku": line.sku, "from": line.current, "to": line.target}
            for line in changes.values()
        ],
        "unchanged": unchanged,
        "skipped": skipped,
    }


def _line(index: int, entry: dict[str, Any]) -> _Line:
    named = [key for key in _IDENTIFIERS if entry.get(key) not in (None, "")]
    if len(named) != 1:
        raise FatalError(f"items[{index}] must name exactly one of {', '.join(_IDENTIFIERS)}", code="INVALID_INPUT", fields=[f"items.{index}"])
    quantity = whole_number(entry.get("quantity"), f"items.{index}.quantity", minimum=-1_000_000_000)
    return _Line(index, named[0], entry[named[0]], quantity)


def _read_item_levels(client: ShopifyClient, lines: list[_Line], variables: dict[str, Any], name: str, on_missing: str) -> None:
    """Fill in the lines named by inventory item id or SKU, through `inventoryItems`."""
    if not lines:
        return
    for line in lines:
        if line.kind == "inventory_item_id":
            line.value = legacy_id(gid("InventoryItem", line.value, f"items.{line.index}.inventory_item_id"))
        else:
            line.value = str(line.value)
    numbers = sorted({line.value for line in lines if line.kind == "inventory_item_id"})
    skus = sorted({line.value for line in lines if line.kind == "sku"})
    nodes = search(client, _ITEM_LEVELS, search_terms("id", numbers) + search_terms("sku", skus), variables)

    by_id = {int(node["legacyResourceId"]): node for node in nodes}
    by_sku: dict[str, list[dict[str, Any]]] = {}
    for node in nodes:
        by_sku.setdefault(node.get("sku") or "", []).append(node)
    for line in lines:
        node = by_id.get(line.value) if line.kind == "inventory_item_id" else _only(by_sku.get(line.value, []), line, on_missing)
        _fill(line, node, name)


def _read_variant_levels(client: ShopifyClient, lines: list[_Line], variables: dict[str, Any], name: str) -> None:
    """Fill in the lines named by variant id, through `productVariants` and their inventory items."""
    if not lines:
        return
    for line in lines:
        line.value = legacy_id(gid("ProductVariant", line.value, f"items.{line.index}.variant_id"))
    nodes = search(client, _VARIANT_LEVELS, search_terms("id", sorted({line.value for line in lines})), variables)
    by_id = {int(node["legacyResourceId"]): node for node in nodes}
    for line in lines:
        _fill(line, (by_id.get(line.value) or {}).get("inventoryItem"), name)


def _only(matches: list[dict[str, Any]], line: _Line, on_missing: str) -> dict[str, Any] | None:
    """Return the one item with a line's SKU; when several items share it, raise FatalError, or
    with `on_missing: skip` note the line as one to skip."""
    if len(matches) > 1 and on_missing == "skip":
        line.sharers = len(matches)
        return None
    if len(matches) > 1:
        raise FatalError(
            f"SKU {line.value!r} belongs to {len(matches)} inventory items; give items[{line.index}] by inventory_item_id",
            code="AMBIGUOUS_SKU",
            fields=[f"items.{line.index}.sku"],
        )
    return matches[0] if matches else None


def _fill(line: _Line, item: dict[str, Any] | None, name: str) -> None:
    if not item:
        return
    line.item_gid = item["id"]
    line.sku = item.get("sku")
    level = item.get("inventoryLevel")
    if level is None:
        return
    line.stocked = True
    line.current = next((quantity["quantity"] for quantity in level.get("quantities") or [] if quantity.get("name") == name), None)


def _unusable(lines: list[_Line], on_missing: str) -> list[dict[str, Any]]:
    """Return the lines that cannot be set, or raise FatalError listing them when `on_missing` is "fail"."""
    skipped = []
    for line in lines:
        if line.sharers:
            skipped.append({"item": line.label, "reason": f"shared by {line.sharers} inventory items"})
        elif line.item_gid is None:
            skipped.append({"item": line.label, "reason": "not found"})
        elif not line.stocked:
            skipped.append({"item": line.label, "reason": "not stocked at the location"})
    if skipped and on_missing != "skip":
        listed = "; ".join(f"{entry['item']}: {entry['reason']}" for entry in skipped[:10])
        more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        code = "NOT_FOUND" if any(entry["reason"] == "not found" for entry in skipped) else "ITEM_NOT_STOCKED_AT_LOCATION"
        raise FatalError(
            f"set_stock wrote nothing: {listed}{more}. Fix the items, or set on_missing: skip to set the others",
            code=code,
            fields=[f"items.{line.index}" for line in lines if line.item_gid is None or not line.stocked][:10],
        )
    return skipped


def _reject_conflicting_duplicates(lines: list[_Line]) -> None:
    targets: dict[str, _Line] = {}
    for line in lines:
        earlier = targets.setdefault(line.item_gid or "", line)
        if earlier.target != line.target:
            raise FatalError(
                f"items[{earlier.index}] and items[{line.index}] name the same inventory item with different quantities ({earlier.target} and {line.target})",
                code="DUPLICATE_ITEM",
                fields=[f"items.{earlier.index}", f"items.{line.index}"],
            )


def _write(client: ShopifyClient, changes: list[_Line], location: str, name: str, inputs: dict[str, Any]) -> None:
    """Send the changes in batches of 250, several batches per request; raise on any userErrors."""
    batches = [changes[start : start + QUANTITIES_PER_MUTATION] for start in range(0, len(changes), QUANTITIES_PER_MUTATION)]
    applied = 0
    for first in range(0, len(batches), MUTATIONS_PER_REQUEST):
        group = batches[first : first + MUTATIONS_PER_REQUEST]
        query, variables = _mutation(group, location, name, inputs)
        data = client.graphql(query, variables, "SetStock", MUTATION_COST * len(group))

        for number, batch in enumerate(group):
            payload = data.get(f"batch{number}") or {}
            problems = payload.get("userErrors") or []
            if problems:
                raise _batch_error(problems, batch, applied, len(changes))
            applied += len(batch)


def _mutation(group: list[list[_Line]], location: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Return one mutation document with an aliased inventorySetQuantities field per batch."""
    declarations, fields, variables = [], [], {}
    for number, batch in enumerate(group):
        declarations.append(f"$input{number}: InventorySetQuantitiesInput!, $key{number}: String!")
        fields.append(
            f"batch{number}: inventorySetQuantities(input: $input{number}) @idempotent(key: $key{number}) "
            "{ inventoryAdjustmentGroup { id } userErrors { field message code } }"
        )
        variables[f"input{number}"] = {
            "name": name,
            "reason": inputs.get("reason") or "correction",
            "referenceDocumentUri": inputs.get("reference_document_uri"),
            "quantities": [
                {"inventoryItemId": line.item_gid, "locationId": location, "quantity": line.target, "changeFromQuantity": line.current}
                for line in batch
            ],
        }
        # A fresh key per call: a retried HTTP request reuses it, and a later call re-reads the levels first.
        variables[f"key{number}"] = str(uuid.uuid4())
    query = f"mutation SetStock({', '.join(declarations)}) {{\n  " + "\n  ".join(fields) + "\n}"
    return query, variables


def _batch_error(problems: list[dict[str, Any]], batch: list[_Line], applied: int, total: int) -> Exception:
    def describe(path: list[str]) -> str | None:
        # A path such as ["input", "quantities", "3", "changeFromQuantity"] points into this batch.
        if len(path) >= 3 and path[1] == "quantities" and path[2].isdigit() and int(path[2]) < len(batch):
            line = batch[int(path[2])]
            return f"inventory item {legacy_id(line.item_gid or '')} ({line.label})"
        return None

    error = error_from_user_errors(problems, "inventorySetQuantities", describe)
    error.message += f" ({applied} of {total} quantities were set before this batch)"
    error.args = (error.message,)
    return error


def _location_output(node: dict[str, Any]) -> dict[str, Any]:
    address = node.get("address") or {}
    return {
        "id": int(node["legacyResourceId"]),
        "admin_graphql_api_id": node["id"],
        "name": node.get("name"),
        "is_active": node.get("isActive"),
        "fulfills_online_orders": node.get("fulfillsOnlineOrders"),
        "address": {
            "address1": address.get("address1"),
            "address2": address.get("address2"),
            "city": address.get("city"),
            "zip": address.get("zip"),
            "province": address.get("province"),
            "province_code": address.get("provinceCode"),
            "country": address.get("country"),
            "country_code": address.get("countryCode"),
        },
    }
