"""Inventory levels: how many units of an inventory item a location has, and the ways they change.

Each level stores `available`, `committed` (sold but not shipped) and `on_hand`, with
on_hand = available + committed. An order commits units, a fulfillment ships them, and REST and
GraphQL calls set or adjust them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .errors import ApiError

if TYPE_CHECKING:
    from .state import ShopState

__all__ = [
    "QUANTITY_NAMES",
    "REASONS",
    "QuantityChange",
    "QuantityUserError",
    "adjust_available",
    "level_json",
    "move_for_order",
    "set_available",
    "set_quantities",
]

QUANTITY_NAMES = ("available", "on_hand")
MAX_QUANTITY = 1_000_000_000

# The reasons Shopify accepts for an inventory change.
REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_canceled",
        "movement_created",
        "movement_received",
        "movement_updated",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)


@dataclass(frozen=True)
class QuantityChange:
    """One quantity that an inventory change moved: its name, the delta and the value after."""

    name: str
    delta: int
    quantity_after_change: int
    inventory_item_id: int
    location_id: int


@dataclass(frozen=True)
class QuantityUserError:
    """A rejected part of an inventorySetQuantities input, in Shopify's userErrors shape."""

    field: list[str]
    message: str
    code: str


def level_json(level: dict[str, Any]) -> dict[str, Any]:
    """Return a level in the REST shape, which shows only the available quantity."""
    return {
        "inventory_item_id": level["inventory_item_id"],
        "location_id": level["location_id"],
        "available": level["available"],
        "updated_at": level["updated_at"],
        "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{level['location_id']}?inventory_item_id={level['inventory_item_id']}",
    }


def _check_item_and_location(state: "ShopState", item_id: int, location_id: int) -> None:
    # NOTE: Shopify's exact 422 wording for an unknown item or location was not checked.
    if item_id not in state.inventory_items:
        raise ApiError(422, [f"Inventory item {item_id} does not exist."])
    if location_id not in state.locations:
        raise ApiError(422, [f"Location {location_id} does not exist."])


def set_available(state: "ShopState", item_id: int, location_id: int, available: int, at: datetime) -> dict[str, Any]:
    """Set the available quantity, connecting the item to the location first if needed (as REST set.json does)."""
    _check_item_and_location(state, item_id, location_id)
    level = state.inventory_levels.get((item_id, location_id))
    if level is None:
        level = state.connect_inventory(item_id, location_id, at)

    delta = available - level["available"]
    level["available"] = available
    level["on_hand"] += delta
    level["updated_at"] = state.format_time(at)
    return level


def adjust_available(state: "ShopState", item_id: int, location_id: int, delta: int, at: datetime) -> dict[str, Any]:
    """Add `delta` to the available quantity of an item already stocked at the location."""
    _check_item_and_location(state, item_id, location_id)
    level = state.inventory_levels.get((item_id, location_id))
    if level is None:
        raise ApiError(422, ["Inventory item is not stocked at the location."])

    level["available"] += delta
    level["on_hand"] += delta
    level["updated_at"] = state.format_time(at)
    return level


def move_for_order(state: "ShopState", item_id: int, location_id: int, quantity: int, event: str, at: datetime) -> None:
    """Commit units when an order is placed, or ship them when it is fulfilled.

    `event` is "commit" (available -> committed) or "ship" (committed leaves on_hand).
    Items not stocked at the location are left alone.
    """
    level = state.inventory_levels.get((item_id, location_id))
    if level is None:
        return
    if event == "commit":
        level["available"] -= quantity
        level["committed"] += quantity
    elif event == "ship":
        level["committed"] -= quantity
        level["on_hand"] -= quantity
    else:
        raise ValueError(f"unknown inventory event {event!r}")
    level["updated_at"] = state.format_time(at)


def set_quantities(
    state: "ShopState",
    name: str,
    reason: str,
    reference_document_uri: str | None,
    ignore_compare_quantity: bool,
    quantities: list[dict[str, Any]],
    at: datetime,
) -> tuple[list[QuantityChange], list[QuantityUserError]]:
    """Set absolute quantities the way the GraphQL inventorySetQuantities mutation does.

    Each entry of `quantities` has inventory_item_id, location_id, quantity and optionally
    compare_quantity and change_from_quantity. A key present with None means an explicit null, which
    for change_from_quantity skips the check. Either every entry is applied or, when any user error
    is found, none is.
    """
    errors = _validate_input(name, reason, reference_document_uri)
    seen: set[tuple[int, int]] = set()

    for index, entry in enumerate(quantities):
        errors.extend(_validate_quantity(state, index, entry, ignore_compare_quantity, name, seen))
    if errors:
        return [], errors

    changes: list[QuantityChange] = []
    stamp = state.format_time(at)
    for entry in quantities:
        level = state.inventory_levels[(entry["inventory_item_id"], entry["location_id"])]
        delta = entry["quantity"] - level[name]
        level["available"] += delta
        level["on_hand"] += delta
        level["updated_at"] = stamp
        other = "on_hand" if name == "available" else "available"
        for changed in (name, other):
            changes.append(QuantityChange(changed, delta, level[changed], entry["inventory_item_id"], entry["location_id"]))
    return changes, []


def _validate_input(name: str, reason: str, reference_document_uri: str | None) -> list[QuantityUserError]:
    errors = []
    if name not in QUANTITY_NAMES:
        errors.append(QuantityUserError(["input", "name"], "The quantity name must be either 'available' or 'on_hand'.", "INVALID_NAME"))
    if reason not in REASONS:
        errors.append(QuantityUserError(["input", "reason"], f"The reason '{reason}' is invalid.", "INVALID_REASON"))
    if reference_document_uri is not None and "://" not in reference_document_uri:
        errors.append(
            QuantityUserError(
                ["input", "referenceDocumentUri"],
                "The reference document URI must be a URI, for example gid://my-app/PurchaseOrder/1.",
                "INVALID_REFERENCE_DOCUMENT",
            )
        )
    return errors


def _validate_quantity(
    state: "ShopState",
    index: int,
    entry: dict[str, Any],
    ignore_compare_quantity: bool,
    name: str,
    seen: set[tuple[int, int]],
) -> list[QuantityUserError]:
    path = ["input", "quantities", str(index)]
    item_id, location_id, quantity = entry["inventory_item_id"], entry["location_id"], entry["quantity"]

    if item_id not in state.inventory_items:
        return [QuantityUserError(path + ["inventoryItemId"], "The specified inventory item could not be found.", "INVALID_INVENTORY_ITEM")]
    if location_id not in state.locations:
        return [QuantityUserError(path + ["locationId"], "The specified location could not be found.", "INVALID_LOCATION")]
    if (item_id, location_id) in seen:
        return [
            QuantityUserError(
                path,
                "The same inventory item and location pair can only appear once.",
                "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
            )
        ]
    seen.add((item_id, location_id))

    level = state.inventory_levels.get((item_id, location_id))
    if level is None:
        return [QuantityUserError(path + ["locationId"], "The specified inventory item is not stocked at the location.", "ITEM_NOT_STOCKED_AT_LOCATION")]
    if quantity > MAX_QUANTITY:
        return [QuantityUserError(path + ["quantity"], "The quantity can't be higher than 1,000,000,000.", "INVALID_QUANTITY_TOO_HIGH")]
    if name == "on_hand" and quantity < 0:
        return [QuantityUserError(path + ["quantity"], "The quantity can't be negative.", "INVALID_QUANTITY_NEGATIVE")]

    return _compare_errors(path, entry, ignore_compare_quantity, level[name] if name in QUANTITY_NAMES else None)


def _compare_errors(
    path: list[str], entry: dict[str, Any], ignore_compare_quantity: bool, persisted: int | None
) -> list[QuantityUserError]:
    # changeFromQuantity, when given at all (even as null), overrides compareQuantity and
    # ignoreCompareQuantity, as in Shopify's 2026-01 release.
    if "change_from_quantity" in entry:
        expected = entry["change_from_quantity"]
        if expected is not None and expected != persisted:
            return [QuantityUserError(path + ["changeFromQuantity"], "The changeFromQuantity value does not match the persisted quantity.", "CHANGE_FROM_QUANTITY_STALE")]
        return []

    if ignore_compare_quantity:
        return []
    expected = entry.get("compare_quantity")
    if expected is None:
        return [
            QuantityUserError(
                path + ["compareQuantity"],
                "Give compareQuantity for each quantity, or set ignoreCompareQuantity to true.",
                "COMPARE_QUANTITY_REQUIRED",
            )
        ]
    if expected != persisted:
        return [QuantityUserError(path + ["compareQuantity"], "The compareQuantity value does not match the persisted quantity.", "COMPARE_QUANTITY_STALE")]
    return []
