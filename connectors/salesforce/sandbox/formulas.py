"""Formula and roll-up summary fields, computed from stored values the way the org computes them.

Blank number fields count as zero, as in formulas set to "treat blank fields as zeroes".
Results are rounded half up to the field's scale. `ROLLUP_PARENTS` lists, for each child
object, the reference fields whose target has a roll-up over it, so a child write finds
the parents to recompute.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Iterable

__all__ = ["ROLLUP_PARENTS", "derived_values"]

ZERO = Decimal(0)
CENTS = Decimal("0.01")

# child object -> [(reference field on the child, parent object)]
ROLLUP_PARENTS: dict[str, list[tuple[str, str]]] = {
    "PBSI__PBSI_Sales_Order_Line__c": [("PBSI__Sales_Order__c", "PBSI__PBSI_Sales_Order__c")],
    "PBSI__Sales_Invoice_Line__c": [("PBSI__Sales_Invoice__c", "PBSI__Sales_Invoice__c")],
    "PBSI__Applied_Cash_Receipt__c": [("PBSI__Sales_Invoice__c", "PBSI__Sales_Invoice__c")],
}

# children(child object, reference field, parent id) -> the parent's live child records
Children = Callable[[str, str, str], Iterable[dict[str, Any]]]


def _amount(record: dict[str, Any], name: str) -> Decimal:
    value = record.get(name)
    return Decimal(value) if value is not None else ZERO


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)


def _contact(record: dict[str, Any], children: Children) -> dict[str, Any]:
    parts = [record.get("FirstName"), record.get("LastName")]
    return {"Name": " ".join(part for part in parts if part) or None}


def _order_line(record: dict[str, Any], children: Children) -> dict[str, Any]:
    # NOTE: the quantity is PBSI__Quantity_Needed__c (the required ordered quantity); which of
    # Ascent's two quantity fields its Total Price formula uses is assumed, not confirmed.
    total = _amount(record, "PBSI__Price__c") * _amount(record, "PBSI__Quantity_Needed__c")
    total -= _amount(record, "PBSI__Discount_Amount__c")
    return {"PBSI__Total_Price__c": _money(total)}


def _order(record: dict[str, Any], children: Children) -> dict[str, Any]:
    total = _amount(record, "PBSI__Shipping_Amount__c")
    for line in children("PBSI__PBSI_Sales_Order_Line__c", "PBSI__Sales_Order__c", record["Id"]):
        total += _amount(line, "PBSI__Total_Price__c") + _amount(line, "PBSI__Tax_Amount__c")
    return {"PBSI__Order_Total__c": _money(total)}


def _invoice_line(record: dict[str, Any], children: Children) -> dict[str, Any]:
    total = _amount(record, "PBSI__Price__c") * _amount(record, "PBSI__Quantity__c")
    total += _amount(record, "PBSI__Tax_Amount__c") - _amount(record, "PBSI__Discount_Amount__c")
    return {"PBSI__Total__c": _money(total)}


def _invoice(record: dict[str, Any], children: Children) -> dict[str, Any]:
    total = sum(
        (_amount(line, "PBSI__Total__c") for line in children("PBSI__Sales_Invoice_Line__c", "PBSI__Sales_Invoice__c", record["Id"])),
        ZERO,
    )
    paid = sum(
        (
            _amount(applied, "PBSI__Amount_Applied__c")
            for applied in children("PBSI__Applied_Cash_Receipt__c", "PBSI__Sales_Invoice__c", record["Id"])
        ),
        ZERO,
    )
    values: dict[str, Any] = {
        "PBSI__Total__c": _money(total),
        "PBSI__Amount_Paid__c": _money(paid),
        "PBSI__Balance__c": _money(total - paid),
    }
    # The sandbox closes an invoice once payments cover it; an unpaid empty invoice stays open.
    if paid > ZERO and total - paid <= ZERO:
        values["PBSI__Status__c"] = "Closed"
    return values


_FORMULAS: dict[str, Callable[[dict[str, Any], Children], dict[str, Any]]] = {
    "Contact": _contact,
    "PBSI__PBSI_Sales_Order_Line__c": _order_line,
    "PBSI__PBSI_Sales_Order__c": _order,
    "PBSI__Sales_Invoice_Line__c": _invoice_line,
    "PBSI__Sales_Invoice__c": _invoice,
}


def derived_values(object_name: str, record: dict[str, Any], children: Children) -> dict[str, Any]:
    """Return the computed fields of one record (empty for objects without any)."""
    formula = _FORMULAS.get(object_name)
    return formula(record, children) if formula else {}
