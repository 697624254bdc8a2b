"""A backfill run through `engine.service.Service`, the loop that `recipe start` runs.

An interval schedule makes the service poll at once when it starts, and that first poll pages
through every order: it stores and queues one page's jobs, waits until they have run, then
reads the next page. Jobs run on `recipe.concurrency` threads, each with its own connectors, and
jobs with the same event key (for `shopify-order-to-ascent`, the buyer) run one at a time.

The driver starts the service, waits for the first successful poll, then waits until no job is
queued or running, and stops the service. The service runs in the benchmark's process, beside
the sandboxes, as `bench/polling.py` runs it.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator

from engine.recipe import Recipe
from engine.redact import Redactor
from engine.service import ConnectorFactory, Service, ServiceOptions
from engine.store import JobStatus, PollResult, SQLiteStore

from bench.world import BenchWorld

__all__ = ["backfill_through_service", "DEFAULT_STALL_TIMEOUT"]

log = logging.getLogger(__name__)

DEFAULT_STALL_TIMEOUT = 2 * ServiceOptions().backoff_max
"""Seconds without a finished job after which the driver gives up and stops the service.

Twice the service's longest wait between failed polls, so a poll backing off is not taken for a
hung run. A large backfill may take much longer in all, as long as jobs keep finishing.
"""
CHECK_SECONDS = 5.0

STOP_TIMEOUT = 30.0

_NO_LIMIT = 2**62  # below SQLite's maximum LIMIT of 2**63 - 1


class _PollRecordingStore(SQLiteStore):
    """A job store that counts the polls it records and signals the first successful one."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self.polls = 0
        self.failed_polls = 0
        self.succeeded = threading.Event()
        self._counts_lock = threading.Lock()

    def record_poll(self, recipe: str, polled_at: str, events: int, waiting: int | None, error: str | None) -> PollResult:
        result = super().record_poll(recipe, polled_at, events, waiting, error)

        with self._counts_lock:
            self.polls += 1
            if error is not None:
                self.failed_polls += 1
        if error is None:
            self.succeeded.set()
        return result


def _connector_factory(world: BenchWorld) -> ConnectorFactory:
    """Open the world's connectors for the service, with an empty redactor because the sandbox settings contain no secret."""

    @contextlib.contextmanager
    def open_connectors(recipe: Recipe) -> Iterator[tuple[dict[str, Any], Redactor]]:
        with world.connectors(recipe) as connectors:
            yield connectors, Redactor()

    return open_connectors


def _job_statuses(store: _PollRecordingStore, recipe: str) -> dict[str, int]:
    """Count the recipe's jobs by status, the finished ones with one query and the others (normally none) by listing them."""
    counts = {status.value: count for status, count in store.job_counts(recipe, "").items() if status.finished}

    for status in (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.WAITING):
        unfinished = len(store.list_jobs(recipe, status, limit=_NO_LIMIT))
        if unfinished:
            counts[status.value] = unfinished
    return dict(sorted(counts.items()))


def _finished_jobs(store: _PollRecordingStore, recipe: str) -> int:
    return sum(count for status, count in store.job_counts(recipe, "").items() if status.finished)


def _wait_for_backfill(service: Service, store: _PollRecordingStore, recipe: str, stall_timeout: float) -> bool:
    """Wait for the first successful poll, then until no job is queued or running.

    Returns False when no job finished for `stall_timeout` seconds before that.
    """
    finished, progress_at = 0, time.monotonic()
    while True:
        if store.succeeded.wait(CHECK_SECONDS) and service.wait_until_idle(CHECK_SECONDS):
            return True

        now_finished = _finished_jobs(store, recipe)
        if now_finished != finished:
            finished, progress_at = now_finished, time.monotonic()
        elif time.monotonic() - progress_at > stall_timeout:
            return False


def backfill_through_service(world: BenchWorld, recipe: Recipe, stall_timeout: float = DEFAULT_STALL_TIMEOUT) -> dict[str, Any]:
    """Run `recipe`'s first poll and all its jobs in a `Service` on a fresh job store, then stop it.

    Returns the job statuses, `orders_synced` (the succeeded jobs), the polls recorded, and
    whether the backfill finished before `stall_timeout` seconds passed without a finished job
    (`drained`) and the service's threads ended within `STOP_TIMEOUT` seconds of the stop
    (`stopped_cleanly`). Jobs set aside to wait
    (status `waiting`) are not retried before the stop, because only a later poll claims them.
    """
    with tempfile.TemporaryDirectory(prefix="bench-backfill-service-") as folder:
        store = _PollRecordingStore(Path(folder) / "recipe.db")
        try:
            service = Service([recipe], store, _connector_factory(world))
            service.start()
            try:
                drained = _wait_for_backfill(service, store, recipe.name, stall_timeout)
            finally:
                stopped_cleanly = service.stop(timeout=STOP_TIMEOUT)
            if not drained:
                log.warning(
                    "backfill through the service stalled: no job finished for %.0f s, so the service was stopped with unfinished jobs (see job_statuses)", stall_timeout
                )

            statuses = _job_statuses(store, recipe.name)
        finally:
            store.close()

    return {
        "mode": "service",
        "concurrency": max(1, recipe.concurrency),
        "orders_synced": statuses.get(JobStatus.SUCCEEDED.value, 0),
        "job_statuses": statuses,
        "polls": store.polls,
        "failed_polls": store.failed_polls,
        "drained": drained,
        "stopped_cleanly": stopped_cleanly,
    }
