"""Leaky buckets for Shopify's rate limits: requests for REST, query cost points for GraphQL.

Each request (or query cost) pours into a bucket that drains at a fixed rate per second. A request
that would overflow the bucket is rejected. The clock is injected, so tests move time by hand.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from .clock import Clock

__all__ = ["BucketReading", "LeakyBucket"]


@dataclass(frozen=True)
class BucketReading:
    """The outcome of pouring into a bucket: whether it fit, the level after, and the wait if not."""

    allowed: bool
    level: float
    retry_after: float


class LeakyBucket:
    """A bucket of `capacity` units that drains `leak_rate` units per second of `clock.monotonic()`."""

    def __init__(self, capacity: float, leak_rate: float, clock: Clock) -> None:
        if capacity <= 0 or leak_rate <= 0:
            raise ValueError(f"bucket capacity and leak rate must be positive, got {capacity} and {leak_rate}")
        self.capacity = capacity
        self.leak_rate = leak_rate
        self._clock = clock
        self._level = 0.0
        self._last = clock.monotonic()
        self._lock = threading.Lock()

    def pour(self, amount: float) -> BucketReading:
        """Add `amount` if it fits; otherwise leave the bucket as it is and say how long to wait."""
        with self._lock:
            self._drain()
            if self._level + amount > self.capacity + 1e-9:
                wait = (self._level + amount - self.capacity) / self.leak_rate
                return BucketReading(False, self._level, wait)
            self._level += amount
            return BucketReading(True, self._level, 0.0)

    def give_back(self, amount: float) -> None:
        """Take `amount` out again, as GraphQL does when a query costs less than requested."""
        with self._lock:
            self._drain()
            self._level = max(0.0, self._level - amount)

    def level(self) -> float:
        with self._lock:
            self._drain()
            return self._level

    def available(self) -> float:
        return self.capacity - self.level()

    def used_slots(self, level: float) -> int:
        """Return a level as the whole number of requests Shopify shows in its call-limit header."""
        return math.ceil(level - 1e-9)

    def _drain(self) -> None:
        now = self._clock.monotonic()
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._level = max(0.0, self._level - elapsed * self.leak_rate)
