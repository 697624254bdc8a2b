"""Transactions, refunds and the order fields that follow from them (financial status, outstanding).

Transaction amounts are in the order's presentment currency (the currency the buyer paid in), and
each transaction names its currency.
"""

from __future__ import annotations

import copy
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .ids import gid
from .money import ZERO, format_amount, parse_amount, round_cents

if TYPE_CHECKING:
    from .state import ShopState

__all__ = ["add_transaction", "open_authorization", "outstanding", "refresh_financials", "refund_line_item"]

_PAYMENT_KINDS = ("sale", "capture")


def _amount(money: dict[str, Any], side: str = "presentment_money") -> Decimal:
    return Decimal(money[side]["amount"])


def add_transaction(
    state: "ShopState",
    order: dict[str, Any],
    kind: str,
    amount: Decimal,
    at: datetime,
    parent_id: int | None = None,
    gateway: str | None = None,
) -> dict[str, Any]:
    """Record a successful transaction on `order` and return it."""
    transaction_id = state.next_id("transaction")
    stamp = state.format_time(at)
    transaction = {
        "id": transaction_id,
        "admin_graphql_api_id": gid("OrderTransaction", transaction_id),
        "amount": format_amount(amount),
        "authorization": f"AUTH-{transaction_id}" if kind in ("authorization", "sale") else None,
        "created_at": stamp,
        "currency": order["presentment_currency"],
        "device_id": None,
        "error_code": None,
        "gateway": gateway or order["payment_gateway_names"][0],
        "kind": kind,
        "location_id": order.get("location_id"),
        "message": None,
        "order_id": order["id"],
        "parent_id": parent_id,
        "payment_id": f"c{order['id']}.{len(state.transactions.get(order['id'], [])) + 1}",
        "processed_at": stamp,
        "receipt": {},
        "source_name": order["source_name"],
        "status": "success",
        "test": False,
        "user_id": None,
        "manual_payment_gateway": (gateway or order["payment_gateway_names"][0]) in ("manual", "cash"),
    }
    state.transactions.setdefault(order["id"], []).append(transaction)
    return transaction


def _sums(transactions: list[dict[str, Any]]) -> tuple[Decimal, Decimal, Decimal, bool]:
    """Return (paid, refunded, open authorizations, any void) over successful transactions."""
    paid = refunded = authorized = ZERO
    voided = False
    settled_parents = {t["parent_id"] for t in transactions if t["kind"] in ("capture", "void") and t["status"] == "success"}

    for transaction in transactions:
        if transaction["status"] != "success":
            continue
        amount = Decimal(transaction["amount"])
        kind = transaction["kind"]
        if kind in _PAYMENT_KINDS:
            paid += amount
        elif kind == "refund":
            refunded += amount
        elif kind == "authorization" and transaction["id"] not in settled_parents:
            authorized += amount
        elif kind == "void":
            voided = True
    return paid, refunded, authorized, voided


def outstanding(order: dict[str, Any], transactions: list[dict[str, Any]]) -> Decimal:
    """Return what the buyer still owes, in the presentment currency."""
    paid, refunded, _, _ = _sums(transactions)
    current_total = _amount(order["current_total_price_set"])
    return max(ZERO, current_total - (paid - refunded))


def refresh_financials(order: dict[str, Any], transactions: list[dict[str, Any]]) -> None:
    """Set `financial_status` and `total_outstanding` from the order's transactions."""
    paid, refunded, authorized, voided = _sums(transactions)
    total = _amount(order["total_price_set"])

    if refunded > 0:
        status = "refunded" if refunded >= paid else "partially_refunded"
    elif paid > 0:
        status = "paid" if paid >= total else "partially_paid"
    elif authorized > 0:
        status = "authorized"
    elif voided:
        status = "voided"
    else:
        status = "pending"
    order["financial_status"] = status

    # A cancelled order is owed nothing, whatever was or was not paid.
    owed = ZERO if order.get("cancelled_at") else outstanding(order, transactions)
    current_presentment = _amount(order["current_total_price_set"])
    current_shop = _amount(order["current_total_price_set"], "shop_money")
    if order["presentment_currency"] == order["currency"] or current_presentment == 0:
        owed_shop = owed if current_presentment else ZERO
    else:
        owed_shop = round_cents(owed * current_shop / current_presentment)
    order["total_outstanding"] = format_amount(owed_shop)


def open_authorization(transactions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Return the latest successful authorization that was neither captured nor voided."""
    settled = {t["parent_id"] for t in transactions if t["kind"] in ("capture", "void") and t["status"] == "success"}
    for transaction in reversed(transactions):
        if transaction["kind"] == "authorization" and transaction["status"] == "success" and transaction["id"] not in settled:
            return transaction
    return None


def refund_line_item(
    state: "ShopState", order: dict[str, Any], line_item_id: int, quantity: int, at: datetime, note: str | None = None
) -> dict[str, Any]:
    """Refund `quantity` units of a line, without restocking, and return the refund.

    The refunded share of the line's discounted price and of each tax is its share of the line
    quantity, rounded to cents in each currency. Current totals drop by the same amounts.
    """
    line = next((item for item in order["line_items"] if item["id"] == line_item_id), None)
    if line is None:
        raise ValueError(f"order {order['id']} has no line item {line_item_id}")
    if quantity < 1 or quantity > line["current_quantity"]:
        raise ValueError(f"cannot refund {quantity} of line item {line_item_id}; {line['current_quantity']} remain")

    shares = {side: _line_refund_share(line, quantity, side) for side in ("shop_money", "presentment_money")}
    shop, presentment = shares["shop_money"], shares["presentment_money"]

    def pair(shop_amount: Decimal, presentment_amount: Decimal) -> dict[str, Any]:
        return {
            "shop_money": {"amount": format_amount(shop_amount), "currency_code": order["currency"]},
            "presentment_money": {"amount": format_amount(presentment_amount), "currency_code": order["presentment_currency"]},
        }

    refund_id = state.next_id("refund")
    refund_line = {
        "id": state.next_id("refund_line_item"),
        "line_item_id": line_item_id,
        "location_id": None,
        "quantity": quantity,
        "restock_type": "no_restock",
        "subtotal": format_amount(shop["subtotal"]),
        "subtotal_set": pair(shop["subtotal"], presentment["subtotal"]),
        "total_tax": format_amount(shop["tax"]),
        "total_tax_set": pair(shop["tax"], presentment["tax"]),
        "line_item": copy.deepcopy(line),
    }

    transactions = state.transactions.get(order["id"], [])
    parent = next((t for t in reversed(transactions) if t["kind"] in _PAYMENT_KINDS and t["status"] == "success"), None)
    if parent is None:
        raise ValueError(f"order {order['id']} has no payment to refund")
    refund_amount = presentment["subtotal"] + (ZERO if order["taxes_included"] else presentment["tax"])
    transaction = add_transaction(state, order, "refund", refund_amount, at, parent_id=parent["id"], gateway=parent["gateway"])

    stamp = state.format_time(at)
    refund = {
        "id": refund_id,
        "admin_graphql_api_id": gid("Refund", refund_id),
        "created_at": stamp,
        "note": note,
        "order_id": order["id"],
        "processed_at": stamp,
        "restock": False,
        "total_duties_set": pair(ZERO, ZERO),
        "user_id": None,
        "order_adjustments": [],
        "transactions": [copy.deepcopy(transaction)],
        "refund_line_items": [refund_line],
        "duties": [],
    }
    order["refunds"].append(refund)

    line["current_quantity"] -= quantity
    line["fulfillable_quantity"] = max(0, line["fulfillable_quantity"] - quantity)
    _reduce_current_totals(order, shop, presentment)
    return refund


def _line_refund_share(line: dict[str, Any], quantity: int, side: str) -> dict[str, Decimal]:
    ratio = Decimal(quantity) / Decimal(line["quantity"])
    gross = Decimal(line["price_set"][side]["amount"]) * line["quantity"]
    discount = sum((Decimal(a["amount_set"][side]["amount"]) for a in line["discount_allocations"]), ZERO)
    tax = sum((round_cents(Decimal(t["price_set"][side]["amount"]) * ratio) for t in line["tax_lines"]), ZERO)
    return {
        "subtotal": round_cents((gross - discount) * ratio),
        "discount": round_cents(discount * ratio),
        "tax": tax,
    }


def _reduce_current_totals(order: dict[str, Any], shop: dict[str, Decimal], presentment: dict[str, Decimal]) -> None:
    included = order["taxes_included"]
    reductions = {
        "current_subtotal_price": "subtotal",
        "current_total_discounts": "discount",
        "current_total_tax": "tax",
    }
    for field, share in reductions.items():
        _subtract(order, field, shop[share], presentment[share])

    total_shop = shop["subtotal"] + (ZERO if included else shop["tax"])
    total_presentment = presentment["subtotal"] + (ZERO if included else presentment["tax"])
    _subtract(order, "current_total_price", total_shop, total_presentment)


def _subtract(order: dict[str, Any], field: str, shop_amount: Decimal, presentment_amount: Decimal) -> None:
    money = order[f"{field}_set"]
    new_shop = parse_amount(money["shop_money"]["amount"]) - shop_amount
    new_presentment = parse_amount(money["presentment_money"]["amount"]) - presentment_amount
    money["shop_money"]["amount"] = format_amount(new_shop)
    money["presentment_money"]["amount"] = format_amount(new_presentment)
    order[field] = format_amount(new_shop)
