"""The facts behind `recipe status` and `/healthz`: per recipe, read from the store.

A recipe is unhealthy when its poll is overdue: the schedule's next time after its last
successful poll (or after the service started, when that is later) lies more than a threshold
in the past. Measuring from the schedule keeps a nightly cron recipe healthy all day, while an
`every 30s` recipe whose polls keep failing is reported once the threshold has passed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.lock import LockOwner
from engine.recipe import Recipe
from engine.schedule import Schedule
from engine.store import JobStatus, PollResult, Store, iso_utc

__all__ = [
    "DEFAULT_UNHEALTHY_AFTER",
    "Health",
    "RecipeStatus",
    "ServiceStatus",
    "assess_health",
    "effective_enabled",
    "recipe_status",
    "service_status",
]

DEFAULT_UNHEALTHY_AFTER = 900.0

JOB_WINDOW = timedelta(hours=1)


class Health:
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    UNKNOWN = "unknown"
    DISABLED = "disabled"


@dataclass
class RecipeStatus:
    """The facts `recipe status` shows for one recipe. Times are UTC ISO text."""

    name: str
    enabled: bool
    disabled_by: str | None
    schedule: str
    last_poll_at: str | None
    last_poll: str | None
    last_success_at: str | None
    cursor: Any
    jobs_waiting: int
    events_waiting_at_source: int | None
    jobs_last_hour: dict[str, int]
    last_error: dict[str, Any] | None
    health: str
    health_reason: str | None

    def to_document(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ServiceStatus:
    """The service (running or not, and its lock owner) and every recipe's status."""

    running: bool
    owner: LockOwner | None
    recipes: list[RecipeStatus] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not any(recipe.health == Health.UNHEALTHY for recipe in self.recipes)

    def to_document(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.healthy else "unhealthy",
            "running": self.running,
            "pid": self.owner.pid if self.owner else None,
            "since": self.owner.started_at if self.owner else None,
            "recipes": [recipe.to_document() for recipe in self.recipes],
        }


def effective_enabled(recipe: Recipe, switches: dict[str, tuple[bool, str]]) -> tuple[bool, str | None]:
    """Return whether a recipe runs, and what disabled it: its file, or `recipe disable` (with the time)."""
    if not recipe.enabled:
        return False, "recipe file (enabled: false)"
    switch = switches.get(recipe.name)
    if switch is not None and not switch[0]:
        return False, f"`recipe disable` at {switch[1]}"
    return True, None


def assess_health(
    schedule: Schedule,
    last_success_at: datetime | None,
    started_at: datetime | None,
    now: datetime,
    threshold: float,
) -> tuple[str, str | None]:
    """Return (health, reason): unhealthy when the poll due after the reference time is overdue by more than `threshold` seconds.

    The reference is the later of the last successful poll and the service's start.
    """
    references = [moment for moment in (last_success_at, started_at) if moment is not None]
    if not references:
        return Health.UNKNOWN, "no successful poll recorded, and the service is not running"

    reference = max(references)
    due = schedule.next_after(reference)
    overdue = (now - due).total_seconds()
    if overdue <= threshold:
        return Health.HEALTHY, None

    since = f"since {iso_utc(last_success_at)}" if last_success_at else "since the service started"
    return Health.UNHEALTHY, f"no successful poll {since}; a poll was due at {iso_utc(due)}, {overdue:.0f}s ago"


def recipe_status(
    store: Store,
    recipe: Recipe,
    switches: dict[str, tuple[bool, str]],
    now: datetime,
    threshold: float,
    started_at: datetime | None,
) -> RecipeStatus:
    """Collect one recipe's status from the store."""
    enabled, disabled_by = effective_enabled(recipe, switches)
    poll = store.poll_result(recipe.name)
    counts = store.job_counts(recipe.name, iso_utc(now - JOB_WINDOW))

    if enabled:
        last_success = datetime.fromisoformat(poll.last_success_at) if poll and poll.last_success_at else None
        health, reason = assess_health(recipe.trigger.schedule, last_success, started_at, now, threshold)
    else:
        health, reason = Health.DISABLED, f"disabled by {disabled_by}"

    return RecipeStatus(
        name=recipe.name,
        enabled=enabled,
        disabled_by=disabled_by,
        schedule=recipe.trigger.schedule.describe(),
        last_poll_at=poll.polled_at if poll else None,
        last_poll=_describe_poll(poll),
        last_success_at=poll.last_success_at if poll else None,
        cursor=store.get_cursor(recipe.name),
        jobs_waiting=store.count_unfinished(recipe.name),
        events_waiting_at_source=poll.waiting if poll else None,
        jobs_last_hour={status.value: counts.get(status, 0) for status in (JobStatus.SUCCEEDED, JobStatus.SKIPPED, JobStatus.FAILED)},
        last_error=_last_error(store, recipe.name, poll),
        health=health,
        health_reason=reason,
    )


def service_status(
    store: Store,
    recipes: list[Recipe],
    now: datetime,
    threshold: float,
    owner: LockOwner | None,
    started_at: datetime | None = None,
    running: bool | None = None,
) -> ServiceStatus:
    """Collect the status of every recipe.

    `started_at` defaults to the lock owner's start time, and `running` to whether there is an owner.
    """
    if started_at is None and owner is not None:
        started_at = datetime.fromisoformat(owner.started_at)
    switches = store.enabled_switches()
    statuses = [recipe_status(store, recipe, switches, now, threshold, started_at) for recipe in recipes]
    return ServiceStatus(running=owner is not None if running is None else running, owner=owner, recipes=statuses)


def _describe_poll(poll: PollResult | None) -> str | None:
    if poll is None:
        return None
    if poll.succeeded:
        return f"ok, {poll.events} new event(s)"
    return f"failed ({poll.failures} in a row): {poll.error}"


def _last_error(store: Store, recipe: str, poll: PollResult | None) -> dict[str, Any] | None:
    """Return the later of the last failed poll and the last failed job, as {at, source, message}."""
    candidates = []
    if poll is not None and poll.last_error and poll.last_error_at:
        candidates.append({"at": poll.last_error_at, "source": "poll", "message": poll.last_error})

    failed = store.list_jobs(recipe, JobStatus.FAILED, limit=1)
    if failed and failed[0].finished_at:
        job = failed[0]
        message = (job.error or {}).get("message") or job.reason or "failed"
        candidates.append({"at": job.finished_at, "source": f"job {job.id} (event {job.event_label})", "message": message})

    return max(candidates, key=lambda candidate: candidate["at"]) if candidates else None
