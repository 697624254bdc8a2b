"""The long-running service behind `recipe start`: every enabled recipe polled on its schedule.

Each recipe has its own worker: one thread that polls (on the schedule, backing off after a
failed poll) and `recipe.concurrency` threads that run its jobs from a `JobQueue`, so jobs with
the same event key run in order. Recipes share nothing but the store, so a slow or failing
recipe never delays another.

Nothing lost, nothing twice: a poll stores the new jobs and the cursor in one transaction before
any job runs, and a webhook delivery is stored as a job before its 200 response is sent. The job
key (recipe, event id, version) lets only one of a poll and a webhook create the job. At start,
the jobs a stopped or killed process left unfinished run first, after their last recorded step.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, ContextManager, Mapping

from engine.connector import Connector
from engine.errors import ActionError, ConfigurationError
from engine.job_queue import JobQueue
from engine.lock import LockOwner
from engine.logs import fields
from engine.recipe import Recipe
from engine.redact import Redactor
from engine.run import RecipeRun, RunSummary
from engine.scheduler import Clock, PollTimer, SystemClock
from engine.status import DEFAULT_UNHEALTHY_AFTER, Health, ServiceStatus, assess_health, effective_enabled, service_status
from engine.store import JobRecord, JobStatus, Store, iso_utc

__all__ = [
    "ConnectorFactory",
    "Delivery",
    "DeliveryDeferred",
    "RecipeNotRunning",
    "RecipeWorker",
    "Service",
    "ServiceOptions",
    "ServiceStopping",
]

log = logging.getLogger(__name__)

ConnectorFactory = Callable[[Recipe], ContextManager[tuple[dict[str, Connector], Redactor]]]
"""Opens a recipe's connectors, like `engine.run.open_connectors` with the registry and connections bound."""


@dataclass(frozen=True)
class ServiceOptions:
    """Timing of the service, in seconds."""

    stop_timeout: float = 30.0
    unhealthy_after: float = DEFAULT_UNHEALTHY_AFTER
    backoff_initial: float = 5.0
    backoff_max: float = 300.0
    # How often a waiting recipe reads its `recipe enable` / `recipe disable` switch.
    switch_check: float = 5.0


class ServiceStopping(BaseException):
    """Raised in a job's retry wait when the service stops.

    It is a BaseException so the job runner lets it through: the job stays `running` in the
    store and resumes after its last recorded step at the next start.
    """


class RecipeNotRunning(Exception):
    """A webhook names a recipe that is unknown or disabled in its file."""


class DeliveryDeferred(Exception):
    """A recipe cannot take a webhook delivery now (its connectors are not open, or it is stopping)."""


@dataclass(frozen=True)
class Delivery:
    """The result of one webhook delivery.

    `outcome` is one of:
    - `accepted`: a new job was stored;
    - `duplicate`: the event already has a job;
    - `filtered`: the trigger condition is false for the event;
    - `failed`: the condition could not be rendered, and a failed job records why;
    - `ignored`: the recipe is disabled, and the scheduled poll picks the event up once it is enabled.
    """

    outcome: str
    job_id: int | None = None
    reason: str | None = None

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {"status": self.outcome}
        if self.job_id is not None:
            document["job"] = self.job_id
        if self.reason:
            document["reason"] = self.reason
        return document


class RecipeWorker:
    """Polls one recipe on its schedule and runs its jobs; see the module docstring."""

    def __init__(
        self,
        recipe: Recipe,
        store: Store,
        open_connectors: ConnectorFactory,
        clock: Clock,
        options: ServiceOptions,
        runner_options: dict[str, Any],
    ) -> None:
        self.recipe = recipe
        self.store = store
        self.open_connectors = open_connectors
        self.clock = clock
        self.options = options
        self.queue = JobQueue()
        self.timer = PollTimer(recipe.trigger.schedule, options.backoff_initial, options.backoff_max)
        self.started_at: datetime | None = None
        self._runner_options = dict(runner_options)
        self._given_sleep: Callable[[float], Any] | None = self._runner_options.pop("sleep", None)
        self._stopping = threading.Event()
        self._poll_stack: contextlib.ExitStack | None = None
        self._poll_run: RecipeRun | None = None
        self._redactor = Redactor()
        self._threads: list[threading.Thread] = []
        self._next_poll: datetime | None = None
        self._failures = 0
        self._enabled = True
        self._unhealthy = False

    @property
    def name(self) -> str:
        return self.recipe.name

    # Lifecycle ---------------------------------------------------------------------------------

    def open(self) -> None:
        """Open the connectors the poller uses.

        Raises ConfigurationError for an enabled recipe. An ActionError (the service is down), or
        a ConfigurationError of a recipe switched off with `recipe disable`, is logged, and the
        first poll tries again.
        """
        try:
            self._open_poll_connectors()
        except ActionError as error:
            log.warning(
                "recipe %s: opening connectors failed: %s; the first poll tries again", self.name, error,
                extra=fields(recipe=self.name, error=str(error)),
            )
        except ConfigurationError as error:
            if self.enabled():
                raise
            log.warning(
                "recipe %s is disabled and its connectors failed to open: %s; fix this before `recipe enable`", self.name, error,
                extra=fields(recipe=self.name, error=str(error)),
            )

    def start(self) -> None:
        """Queue the jobs left unfinished by an earlier process, then start the threads."""
        unfinished = self.store.unfinished_jobs(self.name)
        for job in unfinished:
            self.queue.put(job)
        if unfinished:
            log.info(
                "recipe %s: resuming %d unfinished job(s) from an earlier run", self.name, len(unfinished),
                extra=fields(recipe=self.name, jobs=len(unfinished)),
            )

        self.started_at = self.clock.now()
        self._next_poll = self.timer.first(self.started_at)
        self._enabled = self.enabled()
        self._threads = [threading.Thread(target=self._poll_loop, name=f"recipe {self.name}", daemon=True)]
        for number in range(max(1, self.recipe.concurrency)):
            self._threads.append(threading.Thread(target=self._job_loop, name=f"recipe {self.name} jobs {number + 1}", daemon=True))
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop polling and taking jobs; running jobs go on until they end (see `join`)."""
        self._stopping.set()
        self.queue.close()

    def join(self, deadline: float) -> bool:
        """Wait until the threads end or `time.monotonic()` reaches `deadline`; returns whether all ended."""
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    def close(self) -> None:
        """Close the poller's connectors; for a worker whose threads never started."""
        self._close_poll_connectors()

    def enabled(self) -> bool:
        """Return whether the recipe runs now: enabled in its file and not switched off with `recipe disable`."""
        enabled, _ = effective_enabled(self.recipe, self.store.enabled_switches())
        return enabled

    # Webhooks ----------------------------------------------------------------------------------

    def accept_delivery(self, headers: Mapping[str, str], raw_body: bytes) -> Delivery:
        """Verify a webhook delivery, then store its job and queue it; the job runs in the background.

        Raises EventInvalid when the trigger's connector rejects the signature or the body,
        ConfigurationError when its connection cannot verify webhooks (no secret), and
        DeliveryDeferred while the poller's connectors are not open or the service is stopping.
        """
        run = self._poll_run
        if run is None or self._stopping.is_set():
            raise DeliveryDeferred(f"recipe '{self.name}' cannot take deliveries now; deliver again later")
        trigger = self.recipe.trigger
        event = run.connectors[trigger.connector].verify_webhook(headers, raw_body, trigger.event)

        if not self.enabled():
            return Delivery("ignored", reason="the recipe is disabled; the scheduled poll picks the event up once it is enabled")

        summary = RunSummary(self.name)
        events = run.job_events([event], summary)
        if not events:
            if summary.jobs:
                return Delivery("failed", summary.jobs[0].id, (summary.jobs[0].error or {}).get("message"))
            return Delivery("filtered", reason="the trigger condition is false for this event")
        # A batch trigger makes a delivered event a batch of one.
        event = events[0]

        job = self.store.add_job(self.name, self.recipe.content_hash, event)
        if job is None:
            existing = self.store.find_job(self.name, event.id, event.version)
            return Delivery("duplicate", existing.id if existing else None)
        self.queue.put(job)
        log.info(
            "webhook recipe=%s job_id=%d event_id=%s outcome=accepted", self.name, job.id, event.label,
            extra=fields(recipe=self.name, job_id=job.id, event_id=event.label, outcome="accepted"),
        )
        return Delivery("accepted", job.id)

    # Polling -----------------------------------------------------------------------------------

    def _poll_loop(self) -> None:
        try:
            while not self._stopping.is_set():
                enabled = self._poll_if_due()
                assert self._next_poll is not None
                check_at = self.clock.now() + timedelta(seconds=self.options.switch_check)
                self.clock.wait(self._stopping, min(self._next_poll, check_at) if enabled else check_at)
        finally:
            self._close_poll_connectors()

    def _poll_if_due(self) -> bool:
        """Poll if the recipe is enabled and its time has come; returns whether it is enabled."""
        now = self.clock.now()
        try:
            if not self._follow_switch(now):
                return False
            assert self._next_poll is not None
            if now >= self._next_poll:
                self._poll(self._next_poll)
            self._check_health(self.clock.now())
        except Exception as error:  # a store error must not end the recipe's thread; try again later
            log.exception(
                "recipe %s: unexpected error in the poller; trying again in %.0fs", self.name, self.options.backoff_max,
                extra=fields(recipe=self.name, error=str(error)),
            )
            self._next_poll = self.clock.now() + timedelta(seconds=self.options.backoff_max)
        return True

    def _follow_switch(self, now: datetime) -> bool:
        """Read the enable switch, log a change, and return whether the recipe runs."""
        enabled = self.enabled()
        if enabled != self._enabled:
            if enabled:
                log.info("recipe %s enabled again; polling resumes", self.name, extra=fields(recipe=self.name))
                self._next_poll = self.timer.first(now)
            else:
                log.info("recipe %s disabled; polling paused", self.name, extra=fields(recipe=self.name))
        self._enabled = enabled
        return enabled

    def _poll(self, due: datetime) -> None:
        """Poll until the trigger has nothing more, queueing each page's new jobs; record the outcome."""
        started = self.clock.now()
        trigger = self.recipe.trigger
        new_jobs, events_seen, waiting = 0, 0, None
        try:
            if self._poll_run is None:
                self._open_poll_connectors()
            run = self._poll_run
            assert run is not None
            connector = run.connectors[trigger.connector]
            for job in self.store.claim_due_jobs(self.name):
                self.queue.put(job)
            cursor = self.store.get_cursor(self.name)
            while not self._stopping.is_set():
                poll = connector.poll(trigger.event, trigger.input, cursor, trigger.since, trigger.batch_size)
                events = run.job_events(poll.events, RunSummary(self.name))
                jobs = self.store.enqueue(self.name, self.recipe.content_hash, events, poll.cursor)
                for job in jobs:
                    self.queue.put(job)
                new_jobs, events_seen, cursor, waiting = new_jobs + len(jobs), events_seen + len(poll.events), poll.cursor, poll.waiting
                if not poll.more or not poll.events:
                    break
                self._log_progress(events_seen, waiting)
                # The next page waits until this one's jobs have run, so a backfill keeps at most one page in memory.
                if not self.queue.wait_until_empty():
                    break
        except ActionError as error:
            self._poll_failed(error, started, error.retry_after)
            return
        except ConfigurationError as error:
            # A broken setting or an expired credential: the next attempt opens the connectors anew.
            self._close_poll_connectors()
            self._poll_failed(error, started, None)
            return
        except Exception as error:  # a bug in the connector's trigger fails this poll, not the service
            log.exception("recipe %s: unexpected error while polling", self.name)
            self._poll_failed(error, started, None)
            return

        self.store.record_poll(self.name, iso_utc(started), new_jobs, waiting, None)
        recovered = f" after {self._failures} failed poll(s)" if self._failures else ""
        log.info(
            "poll recipe=%s outcome=ok events=%d new_jobs=%d waiting=%s%s", self.name, events_seen, new_jobs, waiting, recovered,
            extra=fields(recipe=self.name, outcome="ok", events=events_seen, new_jobs=new_jobs, waiting=waiting),
        )
        self._failures = 0
        self._next_poll = self.timer.after_success(due, self.clock.now())
        # Polling again before these jobs ran would only queue more behind them.
        self.queue.wait_until_empty()

    def _poll_failed(self, error: Exception, started: datetime, retry_after: float | None) -> None:
        message = self._redactor.text(str(error))
        result = self.store.record_poll(self.name, iso_utc(started), 0, None, message)
        self._failures = result.failures
        delay = self.timer.backoff(result.failures, retry_after)
        self._next_poll = self.clock.now() + timedelta(seconds=delay)
        log.warning(
            "poll recipe=%s outcome=failed failures=%d retry_in=%.0fs error=%s", self.name, result.failures, delay, message,
            extra=fields(recipe=self.name, outcome="failed", failures=result.failures, retry_in=delay, error=message),
        )

    def _log_progress(self, events_seen: int, waiting: int | None) -> None:
        total = f" of {events_seen + waiting}" if waiting is not None else ""
        log.info(
            "backfill recipe=%s events=%d%s queued; continuing", self.name, events_seen, total,
            extra=fields(recipe=self.name, events=events_seen, waiting=waiting),
        )

    def _check_health(self, now: datetime) -> None:
        """Log once when the recipe becomes unhealthy, and once when it recovers."""
        poll = self.store.poll_result(self.name)
        last_success = datetime.fromisoformat(poll.last_success_at) if poll and poll.last_success_at else None
        health, reason = assess_health(self.recipe.trigger.schedule, last_success, self.started_at, now, self.options.unhealthy_after)
        if health == Health.UNHEALTHY and not self._unhealthy:
            log.error("recipe %s is unhealthy: %s", self.name, reason, extra=fields(recipe=self.name, health=health))
        elif health == Health.HEALTHY and self._unhealthy:
            log.info("recipe %s is healthy again", self.name, extra=fields(recipe=self.name, health=health))
        self._unhealthy = health == Health.UNHEALTHY

    def _open_poll_connectors(self) -> None:
        stack = contextlib.ExitStack()
        try:
            connectors, redactor = stack.enter_context(self.open_connectors(self.recipe))
        except BaseException:
            stack.close()
            raise
        self._poll_stack, self._redactor = stack, redactor
        self._poll_run = RecipeRun(self.recipe, connectors, self.store, redactor)

    def _close_poll_connectors(self) -> None:
        stack, self._poll_stack, self._poll_run = self._poll_stack, None, None
        if stack is not None:
            self._close_quietly(stack)

    # Jobs --------------------------------------------------------------------------------------

    def _job_loop(self) -> None:
        stack: contextlib.ExitStack | None = None
        run: RecipeRun | None = None
        failures = 0
        try:
            while True:
                job = self.queue.take()
                if job is None:
                    return
                try:
                    if run is None:
                        stack, run = self._open_job_connectors()
                    self._run_job(run, job)
                    self.queue.done(job)
                    failures = 0
                except ServiceStopping:
                    log.info("job %d recipe=%s left for the next start: the service is stopping", job.id, self.name, extra=fields(recipe=self.name, job_id=job.id))
                    self.queue.done(job)
                    return
                except Exception as error:  # opening failed, a credential expired, or a store error: the job runs again later
                    if stack is not None:
                        self._close_quietly(stack)
                    stack, run = None, None
                    failures += 1
                    delay = self.timer.backoff(failures)
                    log.warning(
                        "job %d recipe=%s could not run (%s); trying again in %.0fs", job.id, self.name, self._redactor.text(str(error)), delay,
                        exc_info=not isinstance(error, (ActionError, ConfigurationError)),
                        extra=fields(recipe=self.name, job_id=job.id, event_id=job.event_label, error=str(error)),
                    )
                    self.queue.retry(job)
                    self.clock.wait(self._stopping, self.clock.now() + timedelta(seconds=delay))
        finally:
            if stack is not None:
                self._close_quietly(stack)

    def _open_job_connectors(self) -> tuple[contextlib.ExitStack, RecipeRun]:
        """Open a job thread's own connectors, so no connector instance is shared between threads."""
        stack = contextlib.ExitStack()
        try:
            connectors, redactor = stack.enter_context(self.open_connectors(self.recipe))
        except BaseException:
            stack.close()
            raise
        return stack, RecipeRun(self.recipe, connectors, self.store, redactor, sleep=self._retry_sleep, **self._runner_options)

    def _run_job(self, run: RecipeRun, job: JobRecord) -> None:
        outcome = run.runner.run(job)
        final = outcome.job
        message = (final.error or {}).get("message") or final.reason
        level = logging.WARNING if final.status is JobStatus.FAILED else logging.INFO
        log.log(
            level, "job recipe=%s job_id=%d event_id=%s outcome=%s%s", self.name, final.id, final.event_label, final.status.value,
            f": {message}" if message else "",
            extra=fields(recipe=self.name, job_id=final.id, event_id=final.event_label, outcome=final.status.value),
        )

    def _retry_sleep(self, seconds: float) -> None:
        """Wait between a step's attempts; raises ServiceStopping when the service stops meanwhile."""
        if self._given_sleep is not None:
            self._given_sleep(seconds)
        else:
            self._stopping.wait(seconds)
        if self._stopping.is_set():
            raise ServiceStopping()

    # Helpers -----------------------------------------------------------------------------------

    def _close_quietly(self, stack: contextlib.ExitStack) -> None:
        try:
            stack.close()
        except Exception:  # closing must not hide why the service stops
            log.exception("recipe %s: closing connectors failed", self.name)



class Service:
    """Runs a set of recipes until stopped; see the module docstring.

    Recipes disabled in their file get no worker. Recipes disabled with `recipe disable` get one
    that waits, so `recipe enable` takes effect without a restart.
    """

    def __init__(
        self,
        recipes: list[Recipe],
        store: Store,
        open_connectors: ConnectorFactory,
        clock: Clock | None = None,
        options: ServiceOptions | None = None,
        **runner_options: Any,
    ) -> None:
        names = [recipe.name for recipe in recipes]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"recipe names must be unique; used more than once: {', '.join(duplicates)}")
        self.recipes = recipes
        self.store = store
        self.clock = clock or SystemClock()
        self.options = options or ServiceOptions()
        self.started_at: datetime | None = None
        self.workers = {
            recipe.name: RecipeWorker(recipe, store, open_connectors, self.clock, self.options, runner_options)
            for recipe in recipes
            if recipe.enabled
        }

    def start(self) -> None:
        """Open every worker's connectors, then resume unfinished jobs and start polling.

        Raises ConfigurationError, after closing whatever was opened, when a recipe's connections
        cannot work; nothing runs then.
        """
        try:
            for worker in self.workers.values():
                worker.open()
        except BaseException:
            for worker in self.workers.values():
                worker.close()
            raise

        self.started_at = self.clock.now()
        for worker in self.workers.values():
            worker.start()
        disabled = len(self.recipes) - len(self.workers)
        log.info(
            "service started: %d recipe(s) running, %d disabled in their files", len(self.workers), disabled,
            extra=fields(recipes=len(self.workers)),
        )

    def stop(self, timeout: float | None = None) -> bool:
        """Stop polling, let running jobs end for up to `timeout` seconds, and return whether all ended.

        Jobs still running after the timeout, and queued jobs that never started, stay in the
        store and run first at the next start.
        """
        timeout = self.options.stop_timeout if timeout is None else timeout
        for worker in self.workers.values():
            worker.stop()
        deadline = time.monotonic() + timeout
        unfinished = [name for name, worker in self.workers.items() if not worker.join(deadline)]
        if unfinished:
            log.warning(
                "stopping: recipe(s) %s still running after %.0fs; their jobs resume at the next start", ", ".join(unfinished), timeout,
                extra=fields(recipes=unfinished),
            )
        log.info("service stopped")
        return not unfinished

    def accept_delivery(self, recipe_name: str, headers: Mapping[str, str], raw_body: bytes) -> Delivery:
        """Hand a webhook delivery to its recipe's worker.

        Raises RecipeNotRunning for a recipe that has no running worker, and EventInvalid (from
        the connector) for a delivery whose signature or body is invalid.
        """
        worker = self.workers.get(recipe_name)
        if worker is None:
            known = any(recipe.name == recipe_name for recipe in self.recipes)
            reason = "it is disabled in its file (enabled: false)" if known else "no recipe has this name"
            raise RecipeNotRunning(f"recipe '{recipe_name}' is not running: {reason}")
        return worker.accept_delivery(headers, raw_body)

    def status(self, owner: LockOwner | None = None, now: datetime | None = None) -> ServiceStatus:
        """Collect every recipe's status, as `recipe status` shows it."""
        return service_status(
            self.store, self.recipes, now or self.clock.now(), self.options.unhealthy_after, owner,
            started_at=self.started_at, running=self.started_at is not None,
        )

    def wait_until_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no job waits or runs in any recipe; returns False after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        for worker in self.workers.values():
            if not worker.queue.wait_until_empty(max(0.0, deadline - time.monotonic())):
                return False
        return True
