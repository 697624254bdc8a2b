"""Warehouse actions of the ERP's users, offered to tests as Python calls and admin routes.

Packing a carton and changing stock happen in the ERP, not through the recipes, so the sandbox
performs them directly on the record store, without the write faults that client writes meet.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .errors import ApiError
from .ids import is_id, to_18
from .schema import SCHEMA

if TYPE_CHECKING:
    from .records import RecordStore

__all__ = ["pack_carton", "set_stock"]

ORDER = "PBSI__PBSI_Sales_Order__c"
LINE = "PBSI__PBSI_Sales_Order_Line__c"
CARTON = "PBSI__Carton__c"
SHIPPED_LINE = "PBSI__Shipped_Sales_Order_Line__c"
ITEM = "PBSI__PBSI_Item__c"
INVENTORY = "PBSI__PBSI_Inventory__c"


def _invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_INPUT", message)


def _quantity(value: Any) -> Decimal:
    try:
        quantity = Decimal(str(value))
    except ArithmeticError:
        raise _invalid(f"quantity {value!r} is not a number") from None
    if not quantity.is_finite() or quantity <= 0:
        raise _invalid(f"quantity {value!r} must be a positive number")
    return quantity


def pack_carton(
    store: "RecordStore",
    sales_order_id: str,
    lines: Mapping[str, Any] | Iterable[tuple[str, Any]],
    tracking_number: str,
    carrier: str,
    ship_date: str | None = None,
    weight: Any = None,
) -> dict[str, Any]:
    """Create a carton for a sales order, a shipped line per packed line, and raise the packed quantities.

    `lines` maps sales order line ids to the quantity packed now. A line must belong to the
    order, and its packed quantity may not exceed PBSI__Quantity_Needed__c. Returns
    `{"carton_id": ..., "shipped_line_ids": [...]}`. Raises ApiError (400 INVALID_INPUT, or
    404 NOT_FOUND for an unknown order) and writes nothing when a check fails.
    """
    order = store.get(ORDER, sales_order_id)
    if order is None:
        raise ApiError(404, "NOT_FOUND", f"sales order {sales_order_id} not found")
    pairs = list(lines.items()) if isinstance(lines, Mapping) else list(lines)
    if not pairs:
        raise _invalid("a carton needs at least one sales order line")

    packed: list[tuple[dict[str, Any], Decimal]] = []
    for line_id, raw_quantity in pairs:
        line = store.get(LINE, line_id)
        if line is None or line["PBSI__Sales_Order__c"] != order["Id"]:
            raise _invalid(f"sales order line {line_id} does not belong to sales order {order['Id']}")
        quantity = _quantity(raw_quantity)
        already = line["PBSI__Quantity_Packed__c"] or Decimal(0)
        if already + quantity > line["PBSI__Quantity_Needed__c"]:
            raise _invalid(
                f"sales order line {line_id}: packing {quantity} more than the {line['PBSI__Quantity_Needed__c']} "
                f"ordered ({already} already packed)"
            )
        packed.append((line, quantity))

    carton_id = store._create(
        SCHEMA[CARTON],
        {
            "PBSI__Sales_Order__c": order["Id"],
            "PBSI__Tracking_Number__c": tracking_number,
            "PBSI__Carrier__c": carrier,
            "PBSI__Ship_Date__c": ship_date or date.today().isoformat(),
            "PBSI__Weight__c": weight,
        },
        faults=False,
    )
    shipped_ids = []
    for line, quantity in packed:
        shipped_ids.append(
            store._create(
                SCHEMA[SHIPPED_LINE],
                {"PBSI__Sales_Order_Line__c": line["Id"], "PBSI__Carton__c": carton_id, "PBSI__Quantity_Shipped__c": quantity},
                faults=False,
            )
        )
        stored_line = store._tables[LINE][line["Id"]]
        new_total = (line["PBSI__Quantity_Packed__c"] or Decimal(0)) + quantity
        store._update(SCHEMA[LINE], stored_line, {"PBSI__Quantity_Packed__c": new_total}, faults=False)
    return {"carton_id": carton_id, "shipped_line_ids": shipped_ids}


def _find_item(store: "RecordStore", item: str) -> dict[str, Any]:
    """Find an item by id, by item number (Name) or by Shopify_SKU__c."""
    if is_id(item):
        record = store._tables[ITEM].get(to_18(item))
        if record is not None and not record["IsDeleted"]:
            return record
    for record in store.scan(ITEM):
        if record["Name"] == item or record["Shopify_SKU__c"] == item:
            return record
    raise ApiError(404, "NOT_FOUND", f"item {item} not found by id, item number or Shopify SKU")


def set_stock(store: "RecordStore", item: str, on_hand: Any, available_to_promise: Any = None) -> dict[str, Any]:
    """Set an item's quantity on hand and available to promise (ATP defaults to on hand).

    The item's inventory rows get the new on-hand quantity as PBSI__Quantity_Available__c.
    Both writes move SystemModstamp. Returns the updated item in stored form.
    """
    record = _find_item(store, item)
    atp = on_hand if available_to_promise is None else available_to_promise
    store._update(
        SCHEMA[ITEM],
        record,
        {"PBSI__Quantity_On_Hand__c": on_hand, "PBSI__Available_To_Promise__c": atp},
        faults=False,
    )
    for row in store.children(INVENTORY, "PBSI__item_lookup__c", record["Id"]):
        store._update(SCHEMA[INVENTORY], row, {"PBSI__Quantity_Available__c": on_hand}, faults=False)
    refreshed = store.get(ITEM, record["Id"])
    assert refreshed is not None
    return refreshed
