"""Client-side models of Shopify's rate limits, so the connector slows down before Shopify throttles it.

REST: every response carries `X-Shopify-Shop-Api-Call-Limit: used/capacity`, the shop's leaky bucket
after the request. The bucket drains `capacity / 20` requests per second (40 at 2 per second on
standard plans, 80 at 4 on Plus). GraphQL: every response carries `extensions.cost.throttleStatus`
with the points available and the restore rate. Both models only estimate, from the last response
and the time since. Each response from Shopify replaces the estimate.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["GraphQLBudget", "RestBucket"]

# NOTE: Shopify documents 40/2 and 80/4 buckets; the drain rate of other sizes is assumed to
# follow the same capacity / 20 ratio.
_DRAIN_SECONDS = 20.0


class RestBucket:
    """The REST call-limit bucket as last reported, drained by elapsed time.

    `reserve` slots are kept free, so another client of the same shop has room too.
    """

    def __init__(self, monotonic: Callable[[], float], capacity: int = 40, reserve: int = 1) -> None:
        self._monotonic = monotonic
        self.capacity = capacity
        self.reserve = reserve
        self._used = 0.0
        self._at = monotonic()
        self._lock = threading.Lock()

    @property
    def drain_rate(self) -> float:
        """Requests per second the bucket drains."""
        return self.capacity / _DRAIN_SECONDS

    def take(self) -> float:
        """Count one request about to be sent; return the seconds to wait first (0 when it fits)."""
        with self._lock:
            now = self._monotonic()
            level = max(0.0, self._used - (now - self._at) * self.drain_rate)
            limit = max(1, self.capacity - self.reserve)
            wait = (level + 1 - limit) / self.drain_rate if level + 1 > limit else 0.0
            # Count the request now. The bucket keeps draining during the wait, and a concurrent
            # caller reads a level that includes this request, so it queues behind it.
            self._used = level + 1
            self._at = now
            return wait

    def observe(self, header: str | None) -> None:
        """Replace the estimate with the `X-Shopify-Shop-Api-Call-Limit` value ("12/40")."""
        if not header or "/" not in header:
            return
        used_text, capacity_text = header.split("/", 1)
        try:
            used, capacity = int(used_text), int(capacity_text)
        except ValueError:
            return
        with self._lock:
            self.capacity = max(1, capacity)
            self._used = float(used)
            self._at = self._monotonic()

    def seconds_until_one_fits(self) -> float:
        """Return the wait after a 429 that came without Retry-After: one request's drain time."""
        return 1.0 / self.drain_rate


@dataclass(frozen=True)
class _ThrottleStatus:
    maximum: float
    available: float
    restore_rate: float
    at: float


class GraphQLBudget:
    """GraphQL query-cost points as last reported, restored by elapsed time."""

    def __init__(self, monotonic: Callable[[], float], maximum: float = 1000.0, restore_rate: float = 50.0) -> None:
        self._monotonic = monotonic
        self._status = _ThrottleStatus(maximum, maximum, restore_rate, monotonic())
        self._lock = threading.Lock()

    @property
    def maximum(self) -> float:
        """The maximum cost of one query, which is the bucket's size."""
        return self._status.maximum

    def available(self) -> float:
        status = self._status
        return min(status.maximum, status.available + (self._monotonic() - status.at) * status.restore_rate)

    def take(self, cost: float) -> float:
        """Spend `cost` points for a query about to be sent; return the seconds to wait first."""
        with self._lock:
            status = self._status
            # A query estimated above the bucket's size gets MAX_COST_EXCEEDED, not a longer wait.
            cost = min(cost, status.maximum)
            now = self._monotonic()
            available = min(status.maximum, status.available + (now - status.at) * status.restore_rate)
            wait = (cost - available) / status.restore_rate if cost > available else 0.0
            # Below zero means points are owed; restoring pays them back during the wait.
            self._status = _ThrottleStatus(status.maximum, available - cost, status.restore_rate, now)
            return wait

    def observe(self, cost: Any) -> None:
        """Replace the estimate with a response's `extensions.cost` object."""
        throttle = (cost or {}).get("throttleStatus") if isinstance(cost, dict) else None
        if not isinstance(throttle, dict):
            return
        try:
            status = _ThrottleStatus(
                float(throttle["maximumAvailable"]),
                float(throttle["currentlyAvailable"]),
                float(throttle["restoreRate"]),
                self._monotonic(),
            )
        except (KeyError, TypeError, ValueError):
            return
        with self._lock:
            self._status = status

    def wait_for(self, cost: float) -> float:
        """Return the seconds until `cost` points are available, by the latest estimate."""
        status = self._status
        missing = min(cost, status.maximum) - self.available()
        return missing / status.restore_rate if missing > 0 else 0.0
