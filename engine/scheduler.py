"""When a recipe polls: its schedule, a growing delay after failed polls, and the clock behind both.

The service reads poll times from a `Clock` and waits for them on it. `SystemClock` is the wall
clock. `ManualClock` moves only when a test moves it, so tests can check that a schedule fires at
the right times without waiting for them.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Protocol

from engine.schedule import Interval, Schedule

__all__ = ["Clock", "SystemClock", "ManualClock", "PollTimer"]

# The maximum seconds a SystemClock wait lasts before it reads the wall clock again. A wall-clock
# jump (NTP, a suspended machine) therefore delays a poll by at most this long.
_MAX_WAIT_STEP = 1.0


class Clock(Protocol):
    """The time source of the service."""

    def now(self) -> datetime:
        """Return the current time, aware (UTC)."""
        ...

    def wait(self, wake: threading.Event, until: datetime) -> None:
        """Block until `wake` is set or the clock reaches `until`, whichever comes first."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def wait(self, wake: threading.Event, until: datetime) -> None:
        while not wake.is_set():
            remaining = (until - self.now()).total_seconds()
            if remaining <= 0:
                return
            wake.wait(min(remaining, _MAX_WAIT_STEP))


class ManualClock:
    """A clock that moves only when `advance` or `set` is called; for tests.

    `wait_until_idle(count)` blocks until `count` threads are waiting on this clock for a time
    that has not come yet. A test uses it to wait until the service has done everything due.
    """

    # How often a waiting thread looks at its `wake` event, in real seconds. A plain Event cannot
    # notify this clock's condition, so waiters check it at this pace.
    _EVENT_CHECK = 0.005

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware start time")
        self._now = start
        self._condition = threading.Condition()
        self._waiters: dict[int, tuple[threading.Event, datetime]] = {}

    def now(self) -> datetime:
        with self._condition:
            return self._now

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by `seconds` and wake the threads whose time has come."""
        with self._condition:
            return self._move(self._now + timedelta(seconds=seconds))

    def set(self, moment: datetime) -> datetime:
        """Move the clock forward to `moment`. Raises ValueError for a moment in the past."""
        with self._condition:
            if moment < self._now:
                raise ValueError(f"ManualClock cannot go back from {self._now.isoformat()} to {moment.isoformat()}")
            return self._move(moment)

    def _move(self, moment: datetime) -> datetime:
        self._now = moment
        self._condition.notify_all()
        return moment

    def wait(self, wake: threading.Event, until: datetime) -> None:
        me = threading.get_ident()
        with self._condition:
            self._waiters[me] = (wake, until)
            self._condition.notify_all()
            try:
                while not wake.is_set() and self._now < until:
                    self._condition.wait(self._EVENT_CHECK)
            finally:
                del self._waiters[me]
                self._condition.notify_all()

    def wait_until_idle(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until `count` threads wait for a future time; returns False after `timeout` real seconds."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while not self._idle(count):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(min(remaining, self._EVENT_CHECK))
            return True

    def _idle(self, count: int) -> bool:
        sleeping = [until for wake, until in self._waiters.values() if not wake.is_set() and self._now < until]
        return len(sleeping) >= count


class PollTimer:
    """Chooses a recipe's next poll time.

    An interval schedule polls at once when the service starts; a cron schedule waits for its
    next matching time. After a successful poll the next time follows the schedule. When a poll
    ran so late that its next time has passed, the poll after it waits for the schedule's next
    time from now, so missed times are not run in a burst. After a failed poll the next attempt waits
    `initial × 2^(failures − 1)` seconds, capped at `maximum`, and at least the `retry_after`
    the connector reported.
    """

    def __init__(self, schedule: Schedule, initial: float = 5.0, maximum: float = 300.0) -> None:
        self.schedule = schedule
        self.initial = initial
        self.maximum = maximum

    def first(self, now: datetime) -> datetime:
        if isinstance(self.schedule, Interval):
            return now
        return self.schedule.next_after(now)

    def after_success(self, due: datetime, now: datetime) -> datetime:
        following = self.schedule.next_after(due)
        if following > now:
            return following
        return self.schedule.next_after(now)

    def backoff(self, failures: int, retry_after: float | None = None) -> float:
        """Return the delay in seconds before the next attempt after `failures` failed polls in a row."""
        delay = min(self.maximum, self.initial * 2 ** max(failures - 1, 0))
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    def after_failure(self, failures: int, now: datetime, retry_after: float | None = None) -> datetime:
        return now + timedelta(seconds=self.backoff(failures, retry_after))

