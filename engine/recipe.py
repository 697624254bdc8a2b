"""The recipe model: a trigger and ordered steps, built from a validated YAML file.

`engine.validate.load_recipe` builds these from a file; nothing here reads files or checks input.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.lookup import LookupTables
from engine.render import MappingTemplate, Renderer, Template
from engine.schedule import DEFAULT_SCHEDULE, Schedule, parse_duration

__all__ = ["StepKind", "ErrorPolicy", "Step", "TriggerConfig", "Recipe", "DEFAULT_BATCH_SIZE"]

DEFAULT_BATCH_SIZE = 250


class StepKind(str, enum.Enum):
    ACTION = "action"
    FOR_EACH = "for_each"
    STOP = "stop"
    COMPOSE = "compose"


@dataclass(frozen=True)
class ErrorPolicy:
    """The error policy of a step: retries with capped exponential backoff, then fail or continue.

    Only retryable errors (timeouts, 5xx, rate limits) are retried; any error left after the
    retries fails the job unless `then` is "continue".
    """

    retries: int = 2
    initial: float = 1.0
    max: float = 60.0
    multiplier: float = 2.0
    jitter: bool = True
    then: str = "fail"

    def merged(self, override: dict[str, Any] | None) -> "ErrorPolicy":
        """Return this policy with the fields set in a recipe's `on_error` mapping replaced."""
        if not override:
            return self
        backoff = override.get("backoff", {})
        changes: dict[str, Any] = {}
        if "retries" in override:
            changes["retries"] = override["retries"]
        if "then" in override:
            changes["then"] = override["then"]
        for key in ("initial", "max"):
            if key in backoff:
                changes[key] = parse_duration(backoff[key])
        for key in ("multiplier", "jitter"):
            if key in backoff:
                changes[key] = backoff[key]
        return replace(self, **changes)

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt number `attempt + 1` (attempts count from 1).

        The delay grows as initial × multiplier^(attempt − 1), capped at `max`; with jitter it is
        drawn between half and all of that. A connector's retry-after is a floor, even above `max`,
        because calling earlier is refused again.
        """
        delay = min(self.max, self.initial * self.multiplier ** (attempt - 1))
        if self.jitter:
            delay = delay * (0.5 + 0.5 * (rng or random).random())
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay


@dataclass
class Step:
    id: str
    kind: StepKind
    line: int
    condition: Template | None = None
    connector: str | None = None
    action: str | None = None
    input: MappingTemplate | None = None
    policy: ErrorPolicy = field(default_factory=ErrorPolicy)
    items: Template | None = None
    item_name: str = "item"
    steps: list["Step"] = field(default_factory=list)
    stop_status: str | None = None
    reason: Template | None = None
    retry_after: float = 300.0
    give_up_after: float | None = None

    @property
    def label(self) -> str:
        if self.kind is StepKind.ACTION:
            return f"{self.connector}.{self.action}"
        if self.kind is StepKind.FOR_EACH:
            return f"for each {self.item_name}"
        if self.kind is StepKind.COMPOSE:
            return "compose"
        return f"stop ({self.stop_status})"


@dataclass
class TriggerConfig:
    connector: str
    event: str
    input: dict[str, Any]
    schedule: Schedule = DEFAULT_SCHEDULE
    since: datetime | None = None
    condition: Template | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    # One job per poll page, with the page's events as `trigger.events` (engine/batch.py).
    batch: bool = False


@dataclass
class Recipe:
    name: str
    path: Path
    content_hash: str
    trigger: TriggerConfig
    steps: list[Step]
    renderer: Renderer
    description: str = ""
    enabled: bool = True
    connections: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    lookups: LookupTables = field(default_factory=LookupTables)
    policy: ErrorPolicy = field(default_factory=ErrorPolicy)
    concurrency: int = 1

    def connection_name(self, connector: str) -> str:
        """Return the named connection a connector uses in this recipe (by default the connector's own name)."""
        return self.connections.get(connector, connector)

    def connectors_used(self) -> list[str]:
        names = {self.trigger.connector}

        def collect(steps: list[Step]) -> None:
            for step in steps:
                if step.connector:
                    names.add(step.connector)
                collect(step.steps)

        collect(self.steps)
        return sorted(names)
