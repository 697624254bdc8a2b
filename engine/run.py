"""Run a recipe: resume unfinished jobs, poll the trigger, and run one job per new event.

This is what `recipe run`, `recipe dry-run`, `--event` and `recipe replay` do. A dry run works on
an in-memory copy of the store, so it reads the real cursor and history but changes neither.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from engine.batch import batch_event
from engine.connections import ConnectionBook
from engine.connector import Connector, Event
from engine.errors import ActionError, ConfigurationError, RenderError
from engine.recipe import Recipe
from engine.redact import Redactor
from engine.registry import Registry
from engine.runner import JobRunner, PlannedWrite
from engine.store import JobRecord, JobStatus, SQLiteStore, StepRecord, StepStatus, Store, utc_now

__all__ = ["RunSummary", "RecipeRun", "open_connectors", "PollFailed"]

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]


class PollFailed(Exception):
    """The trigger's poll failed; no job was created and the cursor did not move."""

    def __init__(self, error: ActionError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class RunSummary:
    """The outcome of a run. Its jobs carry no event payload; `Store.get_job` has it.

    With `keep_succeeded` False, succeeded jobs are counted but not kept, so a run of many
    thousand jobs holds only the ones that need attention.
    """

    recipe: str
    jobs: list[JobRecord] = field(default_factory=list)
    planned: dict[int, list[PlannedWrite]] = field(default_factory=dict)
    already_done: list[JobRecord] = field(default_factory=list)
    filtered: int = 0
    more_waiting: bool = False
    keep_succeeded: bool = True
    counts: Counter[JobStatus] = field(default_factory=Counter)

    def add(self, job: JobRecord) -> None:
        self.counts[job.status] += 1
        if self.keep_succeeded or job.status is not JobStatus.SUCCEEDED:
            self.jobs.append(job)

    @property
    def ran(self) -> int:
        """How many jobs ran, kept or not."""
        return sum(self.counts.values())

    def with_status(self, status: JobStatus) -> list[JobRecord]:
        return [job for job in self.jobs if job.status is status]

    @property
    def failed(self) -> bool:
        return self.counts[JobStatus.FAILED] > 0


@contextlib.contextmanager
def open_connectors(
    recipe: Recipe, registry: Registry, book: ConnectionBook, use_sandbox: bool, state_dir: Path
) -> Iterator[tuple[dict[str, Connector], Redactor]]:
    """Open every connector a recipe uses, with its named connection, and close them after.

    Raises ConfigurationError for a missing connection or a connector that cannot start.
    """
    redactor = Redactor()
    with contextlib.ExitStack() as stack:
        connectors: dict[str, Connector] = {}
        for name in recipe.connectors_used():
            connector_class = registry.get(name)
            connection_name = recipe.connection_name(name)
            if use_sandbox or book.is_sandbox(connection_name):
                settings = connector_class.sandbox_settings(str(state_dir))
                if settings is None:
                    raise ConfigurationError(f"connector '{name}' has no sandbox; configure the connection '{connection_name}' instead")
            else:
                connection = book.get(connection_name, connector_class)
                settings = connection.settings
                redactor.add(connection.secrets(connector_class))
            connector = connector_class(settings, connection_name)
            connectors[name] = stack.enter_context(connector)
        yield connectors, redactor


class RecipeRun:
    """Runs the jobs of one recipe against open connectors and a store."""

    def __init__(
        self,
        recipe: Recipe,
        connectors: dict[str, Connector],
        store: Store,
        redactor: Redactor | None = None,
        dry_run: bool = False,
        progress: Progress | None = None,
        keep_succeeded: bool = True,
        **runner_options: Any,
    ) -> None:
        self.recipe = recipe
        self.keep_succeeded = keep_succeeded
        self.connectors = connectors
        self.store = store.in_memory_copy() if dry_run and isinstance(store, SQLiteStore) else store
        self.dry_run = dry_run
        self.progress = progress or (lambda done, total: None)
        self.runner = JobRunner(recipe, connectors, self.store, redactor, dry_run=dry_run, **runner_options)
        if not dry_run:
            self.store.note_recipe(recipe.name, str(recipe.path.resolve()), recipe.content_hash)

    def poll_and_run(self, max_events: int | None = None) -> RunSummary:
        """Finish interrupted jobs, then poll until the trigger has nothing more (or `max_events` ran).

        Raises PollFailed when the trigger's poll fails.
        """
        summary = RunSummary(self.recipe.name, keep_succeeded=self.keep_succeeded)
        self.store.claim_due_jobs(self.recipe.name)
        for job in self.store.unfinished_jobs(self.recipe.name):
            self._run(job, summary)

        trigger = self.recipe.trigger
        connector = self.connectors[trigger.connector]
        cursor = self.store.get_cursor(self.recipe.name)
        started = utc_now()
        seen, created = 0, 0
        while True:
            try:
                limit = trigger.batch_size if max_events is None else min(trigger.batch_size, max_events - seen)
                poll = connector.poll(trigger.event, trigger.input, cursor, trigger.since, limit)
            except ActionError as error:
                self._note_poll(started, created, None, self.runner.redactor.text(str(error)))
                raise PollFailed(error) from error

            events = self.job_events(poll.events, summary)
            jobs = self.store.enqueue(self.recipe.name, self.recipe.content_hash, events, poll.cursor)
            created += len(jobs)
            self._note_already_done(events, jobs, summary)
            total = seen + len(poll.events) + (poll.waiting or 0)
            for job in jobs:
                self._run(job, summary)
                self.progress(summary.ran, total)

            seen += len(poll.events)
            cursor = poll.cursor
            limit_reached = max_events is not None and seen >= max_events
            if not poll.more or not poll.events or limit_reached:
                summary.more_waiting = poll.more
                self._note_poll(started, created, poll.waiting, None)
                return summary

    def _note_poll(self, started: str, new_jobs: int, waiting: int | None, error: str | None) -> None:
        """Record the poll for `recipe status`, as the service records its polls; a dry run records nothing."""
        if not self.dry_run:
            self.store.record_poll(self.recipe.name, started, new_jobs, waiting, error)

    def run_event(self, payload: Any) -> RunSummary:
        """Run one job for a given event payload, shaped by the trigger's connector; the cursor is untouched.

        For a batch trigger the payload may also be a list of payloads, which become one batch.
        """
        summary = RunSummary(self.recipe.name, keep_succeeded=self.keep_succeeded)
        connector = self.connectors[self.recipe.trigger.connector]
        payloads = payload if self.recipe.trigger.batch and isinstance(payload, list) else [payload]
        given = [connector.event_from_payload(self.recipe.trigger.event, each) for each in payloads]
        events = self.job_events(given, summary)
        if not events:
            return summary
        event = events[0]

        existing = self.store.find_job(self.recipe.name, event.id, event.version)
        if existing is not None and existing.status.finished:
            summary.already_done.append(existing)
            return summary
        job = existing or self.store.add_job(self.recipe.name, self.recipe.content_hash, event)
        assert job is not None
        self._run(job, summary)
        return summary

    def replay(self, job_id: int) -> RunSummary:
        """Run a recorded job's event again, through the current recipe, as a new job."""
        original = self.store.get_job(job_id)
        if original is None:
            raise ConfigurationError(f"job {job_id} not found; `recipe jobs` lists the jobs")
        if original.recipe != self.recipe.name:
            raise ConfigurationError(f"job {job_id} belongs to recipe '{original.recipe}', not '{self.recipe.name}'")

        summary = RunSummary(self.recipe.name, keep_succeeded=self.keep_succeeded)
        job = self.store.add_job(self.recipe.name, self.recipe.content_hash, original.as_event(), replay_of=original.id)
        assert job is not None
        self._run(job, summary)
        return summary

    def _run(self, job: JobRecord, summary: RunSummary) -> None:
        outcome = self.runner.run(job)
        # The summary keeps each job without its event, so a backfill's memory does not grow
        # with the orders it has run. The store keeps the event (`recipe job ID`).
        summary.add(dataclasses.replace(outcome.job, event=None))
        if outcome.planned:
            summary.planned[outcome.job.id] = outcome.planned

    def job_events(self, events: list[Event], summary: RunSummary) -> list[Event]:
        """Return the events that get jobs: those the condition accepts, as one batch for a batch trigger."""
        kept = self.matching_events(events, summary)
        if self.recipe.trigger.batch and kept:
            return [batch_event(kept)]
        return kept

    def matching_events(self, events: list[Event], summary: RunSummary) -> list[Event]:
        """Keep the events the trigger condition accepts; an event whose condition fails to render gets a failed job."""
        condition = self.recipe.trigger.condition
        if condition is None:
            return events

        kept = []
        for event in events:
            try:
                accepted = condition.render({"trigger": event.data, "settings": self.recipe.settings})
            except RenderError as error:
                self._record_condition_failure(event, error, summary)
                continue
            if accepted:
                kept.append(event)
            else:
                summary.filtered += 1
        return kept

    def _record_condition_failure(self, event: Event, error: RenderError, summary: RunSummary) -> None:
        job = self.store.add_job(self.recipe.name, self.recipe.content_hash, event)
        if job is None:
            return
        message = f"trigger condition for event {event.id}@{event.version}: {error}"
        detail = {"kind": "fatal", "message": message, "step": "trigger.when", "event": f"{event.id}@{event.version}"}
        self.store.record_step(job.id, StepRecord(path="trigger.when", step_id="when", status=StepStatus.FAILED, error=detail))
        self.store.finish_job(job.id, JobStatus.FAILED, None, detail, 0)
        summary.add(dataclasses.replace(self.store.get_job(job.id) or job, event=None))

    def _note_already_done(self, events: list[Event], created: list[JobRecord], summary: RunSummary) -> None:
        """Report each event that got no new job: processed earlier, or delivered twice in this poll."""
        unclaimed = {(job.event_id, job.event_version) for job in created}
        for event in events:
            key = (event.id, event.version)
            if key in unclaimed:
                unclaimed.discard(key)
                continue
            existing = self.store.find_job(self.recipe.name, event.id, event.version)
            if existing is not None:
                summary.already_done.append(existing)
