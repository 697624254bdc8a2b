"""The jobs of one recipe waiting to run, handed to its worker threads key by key.

Jobs come out in the order they were put in, except that a job waits while another job with its
event key runs. So jobs with the same key (an order id, an item id) run one at a time and in
order, while jobs with other keys go ahead.
"""

from __future__ import annotations

import threading

from engine.store import JobRecord

__all__ = ["JobQueue"]


class JobQueue:
    """A FIFO of jobs that never hands out two jobs with the same event key at once. Thread-safe."""

    def __init__(self) -> None:
        self._waiting: list[JobRecord] = []
        self._running: dict[int, JobRecord] = {}
        self._busy_keys: set[str] = set()
        self._closed = False
        self._condition = threading.Condition()

    def put(self, job: JobRecord) -> bool:
        """Add a job; returns False when the queue is closed or the job is already queued or running."""
        with self._condition:
            if self._closed or job.id in self._running or any(waiting.id == job.id for waiting in self._waiting):
                return False
            self._waiting.append(job)
            self._condition.notify_all()
            return True

    def take(self) -> JobRecord | None:
        """Block until a job may run and return it, or return None once the queue is closed."""
        with self._condition:
            while True:
                if self._closed:
                    return None
                for index, job in enumerate(self._waiting):
                    if self._key(job) not in self._busy_keys:
                        del self._waiting[index]
                        self._busy_keys.add(self._key(job))
                        self._running[job.id] = job
                        return job
                self._condition.wait()

    def done(self, job: JobRecord) -> None:
        """Mark a job taken with `take` as finished, so the next job with its key may run."""
        with self._condition:
            self._release(job)

    def retry(self, job: JobRecord) -> None:
        """Put a job taken with `take` back at the front, ahead of the later jobs with its key."""
        with self._condition:
            self._release(job)
            if not self._closed:
                self._waiting.insert(0, job)

    def _release(self, job: JobRecord) -> None:
        self._running.pop(job.id, None)
        self._busy_keys.discard(self._key(job))
        self._condition.notify_all()

    def close(self) -> None:
        """Stop handing out jobs; the waiting ones stay pending in the store for the next start."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def wait_until_empty(self, timeout: float | None = None) -> bool:
        """Block until no job waits or runs; returns False if the queue closed or `timeout` passed first."""
        with self._condition:
            finished = self._condition.wait_for(lambda: self._closed or not (self._waiting or self._running), timeout)
            return bool(finished) and not self._closed

    @property
    def size(self) -> int:
        """The number of jobs waiting or running."""
        with self._condition:
            return len(self._waiting) + len(self._running)

    @staticmethod
    def _key(job: JobRecord) -> str:
        return job.event_key or job.event_id
