"""The sandbox store's data and the operations that change it.

`ShopState` contains the catalogue, inventory levels, customers, orders with their transactions and
fulfillment orders, all in Shopify's REST shape, so reading an endpoint is mostly a lookup. It is
JSON-serialisable (`to_json`/`from_json`, `save`/`load`). All reads and writes go through `lock`.

Operations that Shopify announces by webhook (`orders/create`, `orders/updated`, `orders/paid`)
call the registered listeners after the lock is released, with a copy of the order.
"""

from __future__ import annotations

import copy
import logging
import os
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from connectors.sandbox.catalog import SHOP_LOCATION_ID
from engine import jsoncodec

from . import fulfillment, inventory, payments
from .addresses import normalize_address
from .clock import Clock, SystemClock
from .money import parse_amount
from .orders import build_order

__all__ = ["Listener", "OrderNotFound", "ShopProfile", "ShopState", "STATE_FORMAT"]

log = logging.getLogger(__name__)

STATE_FORMAT = 1
Listener = Callable[[str, dict[str, Any]], None]

# First id of each kind; ids then count up by one, so a later order always has a larger id.
_FIRST_IDS = {
    "order": 5_900_000_000_000,
    "line_item": 14_900_000_000_000,
    "customer": 7_300_000_000_000,
    "address": 8_800_000_000_000,
    "transaction": 6_400_000_000_000,
    "refund": 9_100_000_000_000,
    "refund_line_item": 9_200_000_000_000,
    "shipping_line": 4_700_000_000_000,
    "fulfillment_order": 6_600_000_000_000,
    "fulfillment_order_line_item": 13_600_000_000_000,
    "fulfillment": 5_500_000_000_000,
    "delivery_method": 7_700_000_000_000,
    "adjustment_group": 31_000_000_000,
}

_UPDATABLE_ORDER_FIELDS = frozenset({"shipping_address", "billing_address", "email", "note", "tags", "phone", "note_attributes"})


class OrderNotFound(KeyError):
    """No order has the requested id."""


@dataclass
class ShopProfile:
    """The shop itself: domain, currency, time zone and address."""

    domain: str = "sandbox-store.myshopify.com"
    name: str = "Sandbox Store"
    email: str = "owner@sandbox-store.example"
    currency: str = "USD"
    iana_timezone: str = "America/New_York"
    shop_id: int = 61_000_000_001
    primary_location_id: int = SHOP_LOCATION_ID
    address: dict[str, Any] = field(
        default_factory=lambda: {"address1": "200 Kent Avenue", "city": "Brooklyn", "zip": "11249", "country_code": "US", "province_code": "NY"}
    )


class ShopState:
    """Everything the sandbox store holds, with the operations tests and the admin API use."""

    def __init__(self, profile: ShopProfile | None = None, clock: Clock | None = None) -> None:
        self.profile = profile or ShopProfile()
        self.clock: Clock = clock or SystemClock()
        self.zone = ZoneInfo(self.profile.iana_timezone)
        self.lock = threading.RLock()

        self.products: dict[int, dict[str, Any]] = {}
        self.variants: dict[int, dict[str, Any]] = {}
        self.inventory_items: dict[int, dict[str, Any]] = {}
        self.locations: dict[int, dict[str, Any]] = {}
        self.inventory_levels: dict[tuple[int, int], dict[str, Any]] = {}
        self.customers: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.transactions: dict[int, list[dict[str, Any]]] = {}
        self.fulfillment_orders: dict[int, dict[str, Any]] = {}

        self._next_ids = dict(_FIRST_IDS)
        self._next_order_number = 1001
        self._last_stamp: datetime | None = None
        self._listeners: list[Listener] = []
        self._sku_index: dict[str, int] = {}
        self._email_index: dict[str, int] = {}
        self._fulfillment_order_index: dict[int, list[int]] = {}

    # --- ids, time and indexes -------------------------------------------------------------

    def next_id(self, kind: str) -> int:
        with self.lock:
            value = self._next_ids[kind]
            self._next_ids[kind] = value + 1
            return value

    def next_order_number(self) -> int:
        with self.lock:
            number = self._next_order_number
            self._next_order_number += 1
            return number

    def stamp(self, at: datetime | None = None) -> datetime:
        """Return the time of a change: `at` when given, else now, but always after the last change.

        Keeping stamps strictly increasing (by at least a second, Shopify's precision) makes an
        update always move `updated_at`, even when the wall clock is behind the seeded data.
        """
        with self.lock:
            if at is None:
                at = self.clock.now().replace(microsecond=0)
                if self._last_stamp is not None and at <= self._last_stamp:
                    at = self._last_stamp + timedelta(seconds=1)
            if at.tzinfo is None:
                raise ValueError(f"time {at} has no timezone")
            if self._last_stamp is None or at > self._last_stamp:
                self._last_stamp = at
            return at

    def format_time(self, moment: datetime) -> str:
        """Write a time as Shopify's REST API does: in the shop's time zone, with its UTC offset."""
        return moment.astimezone(self.zone).isoformat(timespec="seconds")

    def variant_by_sku(self, sku: str) -> dict[str, Any] | None:
        variant_id = self._sku_index.get(sku)
        return self.variants.get(variant_id) if variant_id is not None else None

    def customer_by_email(self, email: str) -> dict[str, Any] | None:
        customer_id = self._email_index.get(email.lower())
        return self.customers.get(customer_id) if customer_id is not None else None

    def add_customer(self, customer: dict[str, Any]) -> None:
        self.customers[customer["id"]] = customer
        if customer.get("email"):
            self._email_index[customer["email"].lower()] = customer["id"]

    def add_fulfillment_order(self, fulfillment_order: dict[str, Any]) -> None:
        self.fulfillment_orders[fulfillment_order["id"]] = fulfillment_order
        self._fulfillment_order_index.setdefault(fulfillment_order["order_id"], []).append(fulfillment_order["id"])

    @property
    def fulfillments(self) -> dict[int, dict[str, Any]]:
        """All fulfillments by id; each is stored on its order, under `fulfillments`."""
        with self.lock:
            return {f["id"]: f for order in self.orders.values() for f in order["fulfillments"]}

    def fulfillment_orders_of(self, order_id: int) -> list[dict[str, Any]]:
        return [self.fulfillment_orders[fo_id] for fo_id in self._fulfillment_order_index.get(order_id, [])]

    def load_catalogue(
        self,
        products: dict[int, dict[str, Any]],
        variants: dict[int, dict[str, Any]],
        items: dict[int, dict[str, Any]],
        locations: list[dict[str, Any]],
    ) -> None:
        self.products.update(products)
        self.variants.update(variants)
        self.inventory_items.update(items)
        self.locations.update({location["id"]: location for location in locations})
        self._sku_index.update({variant["sku"]: variant_id for variant_id, variant in variants.items() if variant["sku"]})

    def connect_inventory(self, item_id: int, location_id: int, at: datetime, on_hand: int = 0) -> dict[str, Any]:
        """Stock an inventory item at a location, starting with `on_hand` units all available."""
        level = {
            "inventory_item_id": item_id,
            "location_id": location_id,
            "available": on_hand,
            "committed": 0,
            "on_hand": on_hand,
            "updated_at": self.format_time(at),
        }
        self.inventory_levels[(item_id, location_id)] = level
        return level

    def variant_inventory_quantity(self, variant: dict[str, Any]) -> int:
        item_id = variant["inventory_item_id"]
        return sum(level["available"] for (level_item, _), level in self.inventory_levels.items() if level_item == item_id)

    # --- listeners ---------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Call `listener(topic, order)` after each order change that Shopify sends a webhook for."""
        self._listeners.append(listener)

    def _publish(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        for topic, payload in events:
            for listener in self._listeners:
                try:
                    listener(topic, payload)
                except Exception:  # a broken listener must not undo the change it reports
                    log.exception("order listener failed for %s on order %s", topic, payload.get("id"))

    # --- orders ------------------------------------------------------------------------------

    def order(self, order_id: int) -> dict[str, Any]:
        try:
            return self.orders[order_id]
        except KeyError:
            raise OrderNotFound(order_id) from None

    def create_order(self, spec: dict[str, Any], at: datetime | None = None, payment: dict[str, Any] | None = None) -> dict[str, Any]:
        """Create an order from a specification (see `orders.build_order`) and return a copy.

        `payment` records a payment at creation: {"kind": "sale"|"authorization", "amount": "..."}
        (amount defaults to the order total). Units of tracked variants are committed at the
        fulfilling location. Sends `orders/create`, and `orders/paid` when the order is paid.
        """
        with self.lock:
            order = self.add_order(spec, at, payment)
            events = [("orders/create", copy.deepcopy(order))]
            if order["financial_status"] == "paid":
                events.append(("orders/paid", copy.deepcopy(order)))
            result = copy.deepcopy(order)
        self._publish(events)
        return result

    def add_order(self, spec: dict[str, Any], at: datetime | None = None, payment: dict[str, Any] | None = None) -> dict[str, Any]:
        """Create an order like `create_order`, but send no webhook and return the stored order itself.

        Seeding uses this to build thousands of orders quickly.
        """
        with self.lock:
            location_id = spec.get("location_id") or self.profile.primary_location_id
            if location_id not in self.locations:
                raise ValueError(f"location {location_id} does not exist")
            moment = self.stamp(at)
            order = build_order(self, spec, moment)

            self.orders[order["id"]] = order
            self.transactions[order["id"]] = []
            fulfillment_order = fulfillment.open_fulfillment_order(self, order, location_id, moment)
            for line in fulfillment_order["line_items"]:
                item_id = line["inventory_item_id"]
                if item_id is not None and self.inventory_items[item_id]["tracked"]:
                    inventory.move_for_order(self, item_id, location_id, line["quantity"], "commit", moment)

            if payment:
                amount = payments.outstanding(order, []) if payment.get("amount") is None else parse_amount(payment["amount"])
                payments.add_transaction(self, order, payment.get("kind", "sale"), amount, moment)
            payments.refresh_financials(order, self.transactions[order["id"]])
            return order

    def update_order(self, order_id: int, changes: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
        """Change editable order fields (addresses, email, note, tags, phone) and move updated_at.

        Raises OrderNotFound, or ValueError for a field that cannot be changed. Sends `orders/updated`.
        """
        unknown = set(changes) - _UPDATABLE_ORDER_FIELDS
        if unknown:
            raise ValueError(f"cannot update order fields: {', '.join(sorted(unknown))}")

        with self.lock:
            order = self.order(order_id)
            moment = self.stamp(at)
            for name, value in changes.items():
                order[name] = normalize_address(value) if name.endswith("_address") else value
            if "email" in changes:
                order["contact_email"] = changes["email"]
            if "shipping_address" in changes:
                self._refresh_destinations(order)
            order["updated_at"] = self.format_time(moment)
            result = copy.deepcopy(order)
        self._publish([("orders/updated", copy.deepcopy(result))])
        return result

    def mark_paid(self, order_id: int, amount: Any = None, at: datetime | None = None) -> dict[str, Any]:
        """Record a payment: a capture of an open authorization, else a sale; return the order copy.

        `amount` is in the presentment currency and defaults to what is still owed. Raises
        ValueError when nothing is owed. Sends `orders/updated`, and `orders/paid` once fully paid.
        """
        with self.lock:
            order = self.order(order_id)
            transactions = self.transactions.setdefault(order_id, [])
            owed = payments.outstanding(order, transactions)
            value = owed if amount is None else parse_amount(amount)
            if value <= 0:
                raise ValueError(f"order {order_id} has nothing left to pay")

            moment = self.stamp(at)
            authorization = payments.open_authorization(transactions)
            if authorization is not None:
                payments.add_transaction(self, order, "capture", value, moment, parent_id=authorization["id"])
            else:
                payments.add_transaction(self, order, "sale", value, moment)
            was_paid = order["financial_status"] == "paid"
            payments.refresh_financials(order, transactions)
            order["updated_at"] = self.format_time(moment)

            events = [("orders/updated", copy.deepcopy(order))]
            if order["financial_status"] == "paid" and not was_paid:
                events.insert(0, ("orders/paid", copy.deepcopy(order)))
            result = copy.deepcopy(order)
        self._publish(events)
        return result

    def refund_line(self, order_id: int, line_item_id: int, quantity: int, at: datetime | None = None) -> dict[str, Any]:
        """Refund units of a line without restocking; return the refund. Sends `orders/updated`."""
        with self.lock:
            order = self.order(order_id)
            moment = self.stamp(at)
            refund = payments.refund_line_item(self, order, line_item_id, quantity, moment)
            fulfillment.sync_after_refund(self, order, line_item_id, quantity)
            payments.refresh_financials(order, self.transactions[order_id])
            order["fulfillment_status"] = fulfillment.order_fulfillment_status(order)
            order["updated_at"] = self.format_time(moment)
            result = copy.deepcopy(refund)
            payload = copy.deepcopy(order)
        self._publish([("orders/updated", payload)])
        return result

    def cancel_order(self, order_id: int, reason: str = "customer", at: datetime | None = None) -> dict[str, Any]:
        """Cancel an unfulfilled order: void an open authorization and release committed units."""
        with self.lock:
            order = self.order(order_id)
            if order["cancelled_at"] is not None:
                raise ValueError(f"order {order_id} is already cancelled")
            moment = self.stamp(at)
            transactions = self.transactions.setdefault(order_id, [])
            authorization = payments.open_authorization(transactions)
            if authorization is not None:
                payments.add_transaction(self, order, "void", Decimal(authorization["amount"]), moment, parent_id=authorization["id"])

            for fulfillment_order in self.fulfillment_orders_of(order_id):
                for line in fulfillment_order["line_items"]:
                    level = self.inventory_levels.get((line["inventory_item_id"], fulfillment_order["assigned_location_id"]))
                    if level is not None and line["fulfillable_quantity"]:
                        level["committed"] -= line["fulfillable_quantity"]
                        level["available"] += line["fulfillable_quantity"]
                    line["fulfillable_quantity"] = 0
                fulfillment_order["status"] = "cancelled"
                fulfillment_order["updated_at"] = self.format_time(moment)
            for line in order["line_items"]:
                line["fulfillable_quantity"] = 0

            stamp = self.format_time(moment)
            order.update({"cancelled_at": stamp, "cancel_reason": reason, "closed_at": stamp, "updated_at": stamp})
            payments.refresh_financials(order, transactions)
            payload = copy.deepcopy(order)
        self._publish([("orders/cancelled", copy.deepcopy(payload)), ("orders/updated", payload)])
        return copy.deepcopy(payload)

    def close_order(self, order_id: int, at: datetime | None = None) -> dict[str, Any]:
        """Close (archive) an order, as Shopify does once an order is paid and fulfilled."""
        with self.lock:
            order = self.order(order_id)
            stamp = self.format_time(self.stamp(at))
            order["closed_at"] = stamp
            order["updated_at"] = stamp
            for fulfillment_order in self.fulfillment_orders_of(order_id):
                if fulfillment_order["status"] in ("open", "in_progress"):
                    fulfillment_order["status"] = "closed"
            payload = copy.deepcopy(order)
        self._publish([("orders/updated", payload)])
        return copy.deepcopy(payload)

    def create_fulfillment(self, payload: Any, at: datetime | None = None) -> dict[str, Any]:
        """Create a fulfillment from a REST request body and return a copy of it.

        Raises ApiError with Shopify's status and body for an invalid request. Sends `orders/updated`.
        """
        with self.lock:
            order, created = fulfillment.create_fulfillment(self, payload, self.stamp(at))
            result = copy.deepcopy(created)
            event = ("orders/updated", copy.deepcopy(order))
        self._publish([event])
        return result

    def _refresh_destinations(self, order: dict[str, Any]) -> None:
        for fulfillment_order in self.fulfillment_orders_of(order["id"]):
            fulfillment_order["destination"] = fulfillment.destination(self, order)

    # --- inventory ---------------------------------------------------------------------------

    def set_inventory_level(self, item_id: int, location_id: int, available: int, at: datetime | None = None) -> dict[str, Any]:
        with self.lock:
            return dict(inventory.set_available(self, item_id, location_id, available, self.stamp(at)))

    def adjust_inventory_level(self, item_id: int, location_id: int, delta: int, at: datetime | None = None) -> dict[str, Any]:
        with self.lock:
            return dict(inventory.adjust_available(self, item_id, location_id, delta, self.stamp(at)))

    def set_quantities(
        self,
        name: str,
        reason: str,
        reference_document_uri: str | None,
        ignore_compare_quantity: bool,
        quantities: list[dict[str, Any]],
        at: datetime | None = None,
    ) -> tuple[list[inventory.QuantityChange], list[inventory.QuantityUserError]]:
        with self.lock:
            return inventory.set_quantities(
                self, name, reason, reference_document_uri, ignore_compare_quantity, quantities, self.stamp(at)
            )

    # --- persistence -------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """Return the whole state as JSON-ready data (money stays in strings, tax rates in Decimals)."""
        with self.lock:
            return copy.deepcopy(
                {
                    "format": STATE_FORMAT,
                    "profile": asdict(self.profile),
                    "next_ids": self._next_ids,
                    "next_order_number": self._next_order_number,
                    "last_stamp": self._last_stamp.isoformat() if self._last_stamp else None,
                    "products": list(self.products.values()),
                    "variants": list(self.variants.values()),
                    "inventory_items": list(self.inventory_items.values()),
                    "locations": list(self.locations.values()),
                    "inventory_levels": list(self.inventory_levels.values()),
                    "customers": list(self.customers.values()),
                    "orders": list(self.orders.values()),
                    "transactions": [t for order_transactions in self.transactions.values() for t in order_transactions],
                    "fulfillment_orders": list(self.fulfillment_orders.values()),
                }
            )

    @classmethod
    def from_json(cls, data: dict[str, Any], clock: Clock | None = None) -> "ShopState":
        """Rebuild a state written by `to_json`; raises ValueError for another format version."""
        if data.get("format") != STATE_FORMAT:
            raise ValueError(f"state format {data.get('format')!r} is not supported; expected {STATE_FORMAT}")

        state = cls(ShopProfile(**data["profile"]), clock)
        state._next_ids.update(data["next_ids"])
        state._next_order_number = data["next_order_number"]
        state._last_stamp = datetime.fromisoformat(data["last_stamp"]) if data["last_stamp"] else None
        state.load_catalogue(
            {p["id"]: p for p in data["products"]},
            {v["id"]: v for v in data["variants"]},
            {i["id"]: i for i in data["inventory_items"]},
            data["locations"],
        )
        state.inventory_levels = {(level["inventory_item_id"], level["location_id"]): level for level in data["inventory_levels"]}
        for customer in data["customers"]:
            state.add_customer(customer)
        state.orders = {order["id"]: order for order in data["orders"]}
        state.transactions = {order_id: [] for order_id in state.orders}
        for transaction in data["transactions"]:
            state.transactions.setdefault(transaction["order_id"], []).append(transaction)
        for fulfillment_order in data["fulfillment_orders"]:
            state.add_fulfillment_order(fulfillment_order)
        return state

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the state to `path` as JSON, replacing the file in one step."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = jsoncodec.dumps(self.to_json())
        temporary = target.with_name(target.name + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)
        log.info("saved Shopify sandbox state (%d orders) to %s", len(self.orders), target)

    @classmethod
    def load(cls, path: str | os.PathLike[str], clock: Clock | None = None) -> "ShopState":
        state = cls.from_json(jsoncodec.loads(Path(path).read_text(encoding="utf-8")), clock)
        log.info("loaded Shopify sandbox state (%d orders) from %s", len(state.orders), path)
        return state

