"""Time sources for the sandbox, so tests can move time by hand instead of sleeping."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    """A source of monotonic seconds (for rate limits) and wall-clock time (for timestamps)."""

    def monotonic(self) -> float: ...

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock: `time.monotonic` and the current UTC time."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock:
    """A clock that moves only when `advance` is called; both readings move together."""

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
        if self._start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._elapsed = 0.0
        self._lock = threading.Lock()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._elapsed += seconds

    def monotonic(self) -> float:
        with self._lock:
            return self._elapsed

    def now(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=self._elapsed)
