"""Trigger schedules: a fixed interval (`every 30s`) or a cron expression in a time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

__all__ = ["Interval", "Cron", "Schedule", "parse_schedule", "parse_duration", "DEFAULT_SCHEDULE"]

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
_DURATION = re.compile(r"\A([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)\Z")
_INTERVAL = re.compile(r"\Aevery ([0-9]+)(s|m|h)\Z")


def parse_duration(value: Any) -> float:
    """Return seconds from a number or text such as `500ms`, `30s`, `5m`, `1h`. Raises ValueError."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = _DURATION.match(str(value).strip())
    if not match:
        raise ValueError(f"invalid duration {value!r}; write seconds, or text such as 30s, 5m or 1h")
    return float(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True)
class Interval:
    seconds: float

    def next_after(self, moment: datetime) -> datetime:
        return moment + timedelta(seconds=self.seconds)

    def describe(self) -> str:
        return f"every {self.seconds:g}s"


@dataclass(frozen=True)
class Cron:
    expression: str
    timezone: str

    def next_after(self, moment: datetime) -> datetime:
        local = moment.astimezone(ZoneInfo(self.timezone))
        return croniter(self.expression, local).get_next(datetime)

    def describe(self) -> str:
        return f"cron '{self.expression}' ({self.timezone})"


Schedule = Interval | Cron

DEFAULT_SCHEDULE = Interval(300)


def parse_schedule(value: Any) -> Schedule:
    """Read a recipe's `schedule` value. Raises ValueError with what to write instead."""
    if value is None:
        return DEFAULT_SCHEDULE

    if isinstance(value, str):
        match = _INTERVAL.match(value.strip())
        if not match:
            raise ValueError(f"invalid schedule {value!r}; write 'every 30s', 'every 5m' or 'every 1h', or use cron")
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
        if seconds <= 0:
            raise ValueError(f"invalid schedule {value!r}; the interval must be longer than zero")
        return Interval(float(seconds))

    expression = str(value.get("cron", "")).strip()
    zone = str(value.get("timezone", "UTC"))
    if not croniter.is_valid(expression) or len(expression.split()) != 5:
        raise ValueError(f"invalid cron expression {expression!r}; use five fields: minute hour day-of-month month day-of-week")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r}; use an IANA name such as 'Europe/Berlin'") from None
    return Cron(expression, zone)
