"""Order triggers: poll the REST orders list in time order and return each change once.

Orders are read through REST, in the shape webhooks deliver, so a recipe gets one order shape
whether an event came from a poll or a webhook.

A feed scans `orders.json` sorted ascending by one time field (`updated_at`, or `created_at` for
new orders). The cursor stores the last time read and the scan keys (`id@time`) read at or after
that time minus the overlap window:

    {"updated_at": "2026-10-28T12:00:00-04:00", "seen": ["5900000000013@2026-10-28T12:00:00-04:00"]}

The next poll asks for orders from `time - overlap` on and skips the keys it has seen. So an
order that shares its timestamp with the last order of the previous poll is neither lost nor
returned twice, and a change that Shopify indexes a little late, with a time just before the
cursor, is still found when it falls inside the window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from engine.connector import Event, Poll
from engine.errors import EventInvalid

from .client import ShopifyClient

__all__ = ["FEEDS", "ORDER_STATUSES", "PAID_STATUSES", "OrderFeed", "buyer_key", "order_event", "poll_orders"]

log = logging.getLogger(__name__)

ORDER_STATUSES = ("any", "open", "closed", "cancelled")
# Orders that received money: a refund after the payment does not undo the payment to invoice.
PAID_STATUSES = frozenset({"paid", "partially_paid", "partially_refunded", "refunded"})


@dataclass(frozen=True)
class OrderFeed:
    """The definition of an order trigger: its filter, the time field it scans and its event version."""

    trigger: str
    time_field: str
    version_field: str
    accepts: Callable[[dict[str, Any]], bool]
    describe_rejection: Callable[[dict[str, Any]], str] = lambda order: ""


def _is_paid(order: dict[str, Any]) -> bool:
    return order.get("financial_status") in PAID_STATUSES


FEEDS: dict[str, OrderFeed] = {
    "new_orders": OrderFeed("new_orders", "created_at", "created_at", lambda order: True),
    "new_or_updated_orders": OrderFeed("new_or_updated_orders", "updated_at", "updated_at", lambda order: True),
    # One event per payment state reached (partially_paid, then paid), not one per later edit.
    "paid_orders": OrderFeed(
        "paid_orders",
        "updated_at",
        "financial_status",
        _is_paid,
        lambda order: f"order {order.get('id')} is not paid (financial_status {order.get('financial_status')!r})",
    ),
}


def order_event(feed: OrderFeed, order: Any) -> Event:
    """Shape an order (from a poll, `--event` or a webhook) as the feed's Event.

    Raises EventInvalid when the payload is not an order the feed accepts.
    """
    if not isinstance(order, dict):
        raise EventInvalid(f"a Shopify order must be a JSON object, not {type(order).__name__}")
    missing = [name for name in ("id", feed.time_field, feed.version_field) if not order.get(name)]
    if missing:
        raise EventInvalid(f"the Shopify order has no {', '.join(dict.fromkeys(missing))}; give the order as the REST API or a webhook sends it")
    if not feed.accepts(order):
        raise EventInvalid(f"{feed.describe_rejection(order)}; the {feed.trigger} trigger takes only orders whose financial_status is paid or partially_paid")
    return Event(id=str(order["id"]), version=str(order[feed.version_field]), data=order, key=buyer_key(order))


def buyer_key(order: dict[str, Any]) -> str:
    """Return the key that orders the jobs of an order's buyer: the customer, else the e-mail, else the order.

    Jobs with one key run one at a time under `recipe start`. Two orders of one buyer upsert the
    same account and contact, and two upserts of one new external id sent at once can both try
    to insert it (Salesforce rejects one with DUPLICATE_VALUE), so a buyer's orders run in turn while
    other buyers' orders run side by side. An order's own events keep their order too.
    """
    customer = order.get("customer") or {}
    if customer.get("id"):
        return f"customer:{customer['id']}"
    if order.get("email"):
        return f"email:{str(order['email']).lower()}"
    return f"order:{order['id']}"


@dataclass
class _ScanPosition:
    """The cursor being built: the last time read and the keys read inside the overlap window."""

    time_field: str
    overlap: timedelta
    last_time: datetime | None
    last_text: str | None
    seen: dict[str, datetime]

    @classmethod
    def load(cls, cursor: Any, feed: OrderFeed, since: datetime | None, overlap: timedelta) -> tuple["_ScanPosition", datetime | None]:
        """Return the position and the `<field>_min` to ask for: `since` at first, else the cursor time less the overlap."""
        if isinstance(cursor, dict) and cursor.get(feed.time_field):
            text = str(cursor[feed.time_field])
            last = _parse_time(text)
            seen = {str(key): _parse_time(str(key).split("@", 1)[1]) for key in cursor.get("seen") or [] if "@" in str(key)}
            return cls(feed.time_field, overlap, last, text, seen), last - overlap
        if cursor is not None:
            log.warning("shopify %s: ignoring a cursor of another shape (%s); starting from since", feed.trigger, type(cursor).__name__)
        return cls(feed.time_field, overlap, None, None, {}), since

    def read(self, order: dict[str, Any]) -> bool:
        """Record an order as read; return False when it was read before."""
        text = str(order[self.time_field])
        key = f"{order['id']}@{text}"
        if key in self.seen:
            return False
        moment = _parse_time(text)
        self.seen[key] = moment
        if self.last_time is None or moment >= self.last_time:
            self.last_time, self.last_text = moment, text
        return True

    def to_cursor(self) -> dict[str, Any] | None:
        if self.last_time is None:
            return None
        start = self.last_time - self.overlap
        # Keys before the window can never be read again, since the next poll starts at the window.
        window_keys = sorted((key for key, moment in self.seen.items() if moment >= start), key=lambda key: (self.seen[key], key))
        return {self.time_field: self.last_text, "seen": window_keys}


def poll_orders(
    client: ShopifyClient,
    feed: OrderFeed,
    inputs: dict[str, Any],
    cursor: Any,
    since: datetime | None,
    limit: int,
    overlap_seconds: int,
    page_size: int,
) -> Poll:
    """Return at most `limit` events after the cursor, oldest first, and the cursor after them.

    `more` is True when the scan stopped at the limit with orders still to read, or at the end
    of a full page that held the limit (less the orders re-read in the overlap window), where
    more orders may follow. So each poll reads one page when there are many orders to read.
    """
    position, start = _ScanPosition.load(cursor, feed, since, timedelta(seconds=overlap_seconds))
    params: dict[str, Any] = {
        "status": inputs.get("status") or "any",
        "order": f"{feed.time_field} asc",
        # Re-read orders come first. Room for them plus one extra order shows whether more is waiting.
        "limit": max(1, min(page_size, limit + len(position.seen) + 1)),
    }
    if start is not None:
        params[f"{feed.time_field}_min"] = start.isoformat()

    events: list[Event] = []
    more = False
    # Orders re-read in the overlap window take room in the first page, so a full page that
    # contains `limit` less those orders is enough for this poll.
    enough = max(1, limit - len(position.seen))
    for page in client.pages("orders.json", params, "orders"):
        for order in page:
            if f"{order['id']}@{order[feed.time_field]}" in position.seen:
                continue
            if len(events) >= limit:
                more = True
                break
            position.read(order)
            if feed.accepts(order):
                events.append(order_event(feed, order))
        # A full page is taken to have more behind it, so the next page is read by the next
        # poll rather than fetched here only to top this poll up to its limit.
        if not more and len(events) >= enough and len(page) >= params["limit"]:
            more = True
        if more:
            break

    log.debug("shopify %s poll: %d events, more=%s", feed.trigger, len(events), more)
    next_cursor = position.to_cursor()
    return Poll(events=events, cursor=next_cursor if next_cursor is not None else cursor, more=more)


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"Shopify time {text!r} has no UTC offset")
    return moment
