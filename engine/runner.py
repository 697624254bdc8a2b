"""Run one job: the recipe's steps against one event, recording each step as it completes.

A step's record (rendered input with secrets redacted, output, attempts, duration, error) is
written as soon as the step ends. When a job that was interrupted runs again, the steps already
recorded as done are not repeated: their recorded outputs feed the later mappings. A write whose
process died after the call but before its record is sent again, which is why connector writes
are upserts on external ids.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable

from engine.connector import Connector
from engine.errors import ActionError, ConfigurationError, FatalError, RenderError, SkipEventError, StopJob
from engine.recipe import Recipe, Step, StepKind
from engine.redact import Redactor
from engine.store import JobRecord, JobStatus, StepRecord, StepStatus, Store, utc_now

__all__ = ["JobRunner", "PlannedWrite", "PlannedOutput", "JobOutcome"]

log = logging.getLogger(__name__)


class PlannedOutput:
    """Stands in, during a dry run, for the output of a write that was held back.

    Any field read from it is another placeholder, so later mappings still render and show
    where the real value would come from.
    """

    def __init__(self, path: str) -> None:
        self._path = path

    def __getattr__(self, name: str) -> "PlannedOutput":
        if name.startswith("_"):
            raise AttributeError(name)
        return PlannedOutput(f"{self._path}.{name}")

    def __getitem__(self, key: Any) -> "PlannedOutput":
        return PlannedOutput(f"{self._path}.{key}")

    def __str__(self) -> str:
        return f"<{self._path} from a held-back write>"

    def __bool__(self) -> bool:
        # What a held-back write would return is unknown, so a step conditioned on it does not run.
        return False

    __repr__ = __str__


@dataclass
class PlannedWrite:
    """A write a dry run did not send: where it would go and its fully rendered payload."""

    step: str
    connector: str
    action: str
    target: Any
    payload: Any


@dataclass
class JobOutcome:
    job: JobRecord
    planned: list[PlannedWrite] = field(default_factory=list)


class _JobFailed(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", ""))
        self.error = error


class _JobSkipped(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


RETRY = "retry"


def _duration_text(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def _plain(value: Any) -> Any:
    """Make an output storable as JSON: placeholders and unknown objects become text."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool, Decimal)):
        return value
    return str(value)


class JobRunner:
    """Runs jobs of one recipe with open connectors, recording into a store.

    In a dry run, actions that write are not called: their rendered payloads are collected as
    PlannedWrite entries and their outputs replaced by placeholders. `sleep` and `rng` are
    injectable so tests control retry timing.
    """

    def __init__(
        self,
        recipe: Recipe,
        connectors: dict[str, Connector],
        store: Store,
        redactor: Redactor | None = None,
        dry_run: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.recipe = recipe
        self.connectors = connectors
        self.store = store
        self.redactor = redactor or Redactor()
        self.dry_run = dry_run
        self.sleep = sleep
        self.rng = rng or random.Random()
        # Step records not written yet, by job id; each job is run by one thread at a time.
        self._pending: dict[int, list[StepRecord]] = {}

    def run(self, job: JobRecord) -> JobOutcome:
        """Run or resume a job to its end and return it with its final status.

        A failed step is recorded as the job's error, not raised; only exceptions outside `Exception`
        (KeyboardInterrupt, a killed process) leave the job running, to be resumed later.
        """
        self.store.start_job(job.id, self.recipe.content_hash)
        done = {step.path: step for step in self.store.steps(job.id) if step.status.reusable}
        outcome = JobOutcome(job)
        trips_before = self._round_trips()
        context = {"trigger": job.event, "settings": self.recipe.settings, "loop": None}
        started = time.perf_counter()

        status, reason, error, retry_after = JobStatus.SUCCEEDED, None, None, None
        self._pending[job.id] = []
        try:
            self._run_steps(self.recipe.steps, context, "", job, done, outcome)
        except StopJob as stop:
            status, reason, retry_after = (JobStatus.WAITING if stop.status == RETRY else JobStatus(stop.status)), stop.reason, stop.retry_after
        except _JobSkipped as skipped:
            status, reason = JobStatus.SKIPPED, skipped.reason
        except _JobFailed as failed:
            status, error = JobStatus.FAILED, failed.error
        finally:
            pending = self._pending.pop(job.id, [])

        round_trips = job.round_trips + self._round_trips() - trips_before
        if status is JobStatus.WAITING:
            # A waiting job starts afresh, so the records of this attempt are not kept.
            not_before = datetime.now(timezone.utc) + timedelta(seconds=retry_after or 0)
            self.store.wait_job(job.id, reason or "", not_before.isoformat(timespec="milliseconds"), round_trips)
        else:
            self.store.record_steps(job.id, pending)
            self.store.finish_job(job.id, status, reason, error, round_trips)
        log.info(
            "job %s recipe=%s event=%s status=%s duration_ms=%.1f round_trips=%d",
            job.id, self.recipe.name, job.event_label, status.value, (time.perf_counter() - started) * 1000, round_trips,
        )
        outcome.job = self.store.get_job(job.id) or job
        return outcome

    def _round_trips(self) -> int:
        return sum(connector.round_trips for connector in self.connectors.values())

    # Steps -----------------------------------------------------------------------------------

    def _run_steps(self, steps: list[Step], context: dict[str, Any], prefix: str, job: JobRecord, done: dict[str, StepRecord], outcome: JobOutcome) -> None:
        for step in steps:
            path = f"{prefix}{step.id}"
            if path in done:
                context[step.id] = done[path].output
                continue

            if step.condition is not None and not self._render(step.condition.render, context, step, path, job):
                self._record(job, StepRecord(path=path, step_id=step.id, status=StepStatus.NOT_RUN))
                context[step.id] = None
                continue

            if step.kind is StepKind.ACTION:
                context[step.id] = self._run_action(step, context, path, job, outcome)
            elif step.kind is StepKind.FOR_EACH:
                context[step.id] = self._run_loop(step, context, path, job, done, outcome)
            elif step.kind is StepKind.COMPOSE:
                context[step.id] = self._compose(step, context, path, job)
            else:
                self._stop(step, context, path, job)

    def _run_loop(self, step: Step, context: dict[str, Any], path: str, job: JobRecord, done: dict[str, StepRecord], outcome: JobOutcome) -> list[dict[str, Any]]:
        assert step.items is not None
        items = self._render(step.items.render, context, step, path, job)
        if items is None:
            items = []
        if not isinstance(items, (list, tuple)):
            self._fail(job, step, path, FatalError(f"for_each rendered {type(items).__name__}, not a list"))

        collected = []
        for index, item in enumerate(items):
            scope = dict(context)
            scope[step.item_name] = item
            scope["loop"] = {"index": index, "number": index + 1, "length": len(items), "first": index == 0, "last": index == len(items) - 1}
            self._run_steps(step.steps, scope, f"{path}[{index}].", job, done, outcome)
            collected.append({inner.id: scope.get(inner.id) for inner in step.steps})
        return collected

    def _compose(self, step: Step, context: dict[str, Any], path: str, job: JobRecord) -> Any:
        assert step.input is not None
        started_at, clock = utc_now(), time.perf_counter()
        output = self._render(lambda scope: step.input.render(scope, path="compose"), context, step, path, job)
        duration = round((time.perf_counter() - clock) * 1000, 3)
        self._record(job, StepRecord(path=path, step_id=step.id, status=StepStatus.SUCCEEDED, output=self.redactor.value(_plain(output)), attempts=1, started_at=started_at, duration_ms=duration))
        return output

    def _stop(self, step: Step, context: dict[str, Any], path: str, job: JobRecord) -> None:
        reason = str(self._render(step.reason.render, context, step, path, job)) if step.reason else ""
        self._record(job, StepRecord(path=path, step_id=step.id, status=StepStatus.STOPPED, output={"status": step.stop_status, "reason": reason}))
        log.info("job %s stopped at step %s as %s: %s", job.id, path, step.stop_status, reason)
        if step.stop_status == RETRY:
            self._retry_later(step, job, reason)
        raise StopJob(step.stop_status or JobStatus.SKIPPED.value, reason)

    def _retry_later(self, step: Step, job: JobRecord, reason: str) -> None:
        """Set the job aside to run again later, or fail it once it has waited longer than `give_up_after`."""
        waited = datetime.now(timezone.utc) - datetime.fromisoformat(job.created_at)
        if step.give_up_after is not None and waited.total_seconds() > step.give_up_after:
            raise StopJob(JobStatus.FAILED.value, f"gave up after waiting {_duration_text(waited.total_seconds())}: {reason}")
        raise StopJob(RETRY, reason, step.retry_after)

    def _run_action(self, step: Step, context: dict[str, Any], path: str, job: JobRecord, outcome: JobOutcome) -> Any:
        assert step.input is not None
        assert step.connector and step.action
        started_at, clock = utc_now(), time.perf_counter()
        inputs = self._render(lambda scope: step.input.render(scope), context, step, path, job)
        connector = self.connectors[step.connector]
        spec = connector.actions[step.action]

        if self.dry_run and spec.writes:
            payload = self.redactor.value(_plain(inputs))
            target = inputs.get(spec.target) if spec.target and isinstance(inputs, dict) else None
            outcome.planned.append(PlannedWrite(path, step.connector, step.action, target, payload))
            self._record(job, StepRecord(path=path, step_id=step.id, status=StepStatus.PLANNED, input=payload, started_at=started_at))
            return PlannedOutput(step.id)

        trips_before = connector.round_trips
        output, error, attempts = self._call_with_retries(connector, step, path, job, inputs)
        record = StepRecord(
            path=path, step_id=step.id, status=StepStatus.SUCCEEDED if error is None else StepStatus.FAILED,
            input=self.redactor.value(_plain(inputs)), output=self.redactor.value(_plain(output)),
            error=None if error is None else self._error_record(error), attempts=attempts, started_at=started_at,
            duration_ms=round((time.perf_counter() - clock) * 1000, 3), round_trips=connector.round_trips - trips_before,
        )
        self._record(job, record, durable=True)
        log.info("job %s step %s %s status=%s attempts=%d duration_ms=%.1f", job.id, path, step.label, record.status.value, attempts, record.duration_ms)

        if error is None:
            return output
        if isinstance(error, SkipEventError):
            raise _JobSkipped(f"step '{path}': {error.message}")
        if step.policy.then == "continue":
            log.warning("job %s step %s failed and the recipe continues: %s", job.id, path, self.redactor.text(str(error)))
            return None
        self._fail(job, step, path, error)

    def _call_with_retries(self, connector: Connector, step: Step, path: str, job: JobRecord, inputs: Any) -> tuple[Any, ActionError | None, int]:
        attempts = 0
        while True:
            attempts += 1
            try:
                return connector.call(step.action or "", inputs), None, attempts
            except ActionError as error:
                if error.kind != "retryable" or attempts > step.policy.retries:
                    return None, error, attempts
                if error.retry_after is not None and error.retry_after > step.policy.max:
                    # Waiting longer than the policy allows (a spent daily API limit) would stall
                    # the run; the job fails now and can be replayed once the limit resets.
                    log.warning("job %s step %s: retry-after %.0fs exceeds the backoff maximum %.0fs; not waiting", job.id, path, error.retry_after, step.policy.max)
                    return None, error, attempts
                delay = step.policy.delay(attempts, error.retry_after, self.rng)
                log.warning("job %s step %s attempt %d failed (%s); retrying in %.2fs", job.id, path, attempts, error.code or error.status or "retryable", delay)
                self.sleep(delay)
            except ConfigurationError:
                # An expired credential or broken setting stops the run; the job resumes after the fix.
                raise
            except Exception as error:  # a bug in a connector must fail this job, not the engine
                log.exception("job %s step %s: unexpected error in connector %s", job.id, path, step.connector)
                return None, FatalError(f"unexpected {type(error).__name__} in connector '{step.connector}': {error}", code="CONNECTOR_BUG"), attempts

    # Helpers ---------------------------------------------------------------------------------

    def _render(self, render: Callable[[dict[str, Any]], Any], context: dict[str, Any], step: Step, path: str, job: JobRecord) -> Any:
        try:
            return render(context)
        except RenderError as error:
            self._fail(job, step, path, error)

    def _error_record(self, error: ActionError) -> dict[str, Any]:
        record = error.to_record()
        record["message"] = self.redactor.text(record["message"])
        return record

    def _fail(self, job: JobRecord, step: Step, path: str, error: ActionError) -> Any:
        record = self._error_record(error)
        record["step"] = path
        record["event"] = job.event_label
        if isinstance(error, RenderError):
            record["message"] = f"step '{path}' for event {job.event_label}: {record['message']}"
            self._record(job, StepRecord(path=path, step_id=step.id, status=StepStatus.FAILED, error=record))
        raise _JobFailed(record)

    def _record(self, job: JobRecord, record: StepRecord, durable: bool = False) -> None:
        """Keep a step record; a durable one is written at once, with the records kept before it.

        Only an action's outcome must be stored before the job goes on, so a resumed job does not
        call it again. Compose, condition and stop records can be worked out again from the
        trigger and the actions' recorded outputs. So they are written with the next action's
        record or at the end of the job, one commit per action rather than one per step.
        """
        pending = self._pending.setdefault(job.id, [])
        pending.append(record)
        if durable:
            self.store.record_steps(job.id, pending)
            pending.clear()
