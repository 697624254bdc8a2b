"""The org's clock for audit fields (CreatedDate, LastModifiedDate, SystemModstamp)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Callable

from .values import format_datetime

__all__ = ["Clock"]


class Clock:
    """Millisecond UTC timestamps that strictly increase from one call to the next.

    Salesforce stores audit times with millisecond precision. Two writes in the same
    millisecond would get the same SystemModstamp here, so a call that would repeat or go
    back in time returns the last value plus one millisecond instead: a client polling
    `SystemModstamp > last_seen` never misses a write.
    """

    def __init__(self, source: Callable[[], datetime] | None = None) -> None:
        self._source = source or (lambda: datetime.now(timezone.utc))
        self._last: datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> str:
        """Return the next timestamp as Salesforce prints it (`2026-11-02T10:00:00.000+0000`)."""
        with self._lock:
            moment = self._source().astimezone(timezone.utc)
            moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
            if self._last is not None and moment <= self._last:
                moment = self._last + timedelta(milliseconds=1)
            self._last = moment
            return format_datetime(moment)
