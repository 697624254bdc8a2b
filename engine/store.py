"""Where jobs, their steps and the trigger cursors are kept.

`Store` is the interface the engine uses; `SQLiteStore` is the embedded default, one file in the
state directory, in WAL mode so readers (`recipe jobs`) never block the running engine. The
schema version lives in SQLite's `user_version` and older files are migrated when opened.

A job is keyed by (recipe, event id, event version): `enqueue` inserts each new event's job and
moves the cursor in one transaction, so the cursor never passes an event whose job is not stored.
"""

from __future__ import annotations

import enum
import sqlite3
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from engine import jsoncodec
from engine.connector import Event

__all__ = ["JobStatus", "StepStatus", "JobRecord", "StepRecord", "PollResult", "Store", "SQLiteStore", "utc_now", "iso_utc"]


class JobStatus(str, enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    SKIPPED = "skipped"
    FAILED = "failed"
    WAITING = "waiting"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.SKIPPED, JobStatus.FAILED)


class StepStatus(str, enum.Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NOT_RUN = "not_run"
    PLANNED = "planned"
    STOPPED = "stopped"

    @property
    def reusable(self) -> bool:
        """Whether a resumed job may use this record instead of running the step again."""
        return self in (StepStatus.SUCCEEDED, StepStatus.NOT_RUN)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def iso_utc(moment: datetime) -> str:
    """Format an aware date-time as the store writes times: UTC, milliseconds, with its offset."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class JobRecord:
    id: int
    recipe: str
    recipe_hash: str
    event_id: str
    event_version: str
    event_key: str
    event: Any
    status: JobStatus
    reason: str | None = None
    error: dict[str, Any] | None = None
    replay_of: int | None = None
    created_at: str = ""
    started_at: str | None = None
    finished_at: str | None = None
    round_trips: int = 0

    @property
    def event_label(self) -> str:
        return f"{self.event_id}@{self.event_version}" if self.event_version else self.event_id

    def as_event(self) -> Event:
        return Event(id=self.event_id, version=self.event_version, data=self.event, key=self.event_key)


@dataclass
class PollResult:
    """The outcome of a recipe's latest poll, with the last success and the last error kept apart.

    `failures` counts the polls that failed in a row since the last success. Times are UTC ISO text.
    """

    recipe: str
    polled_at: str
    succeeded: bool
    events: int = 0
    waiting: int | None = None
    error: str | None = None
    last_success_at: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    failures: int = 0


@dataclass
class StepRecord:
    path: str
    step_id: str
    status: StepStatus
    input: Any = None
    output: Any = None
    error: dict[str, Any] | None = None
    attempts: int = 0
    started_at: str = field(default_factory=utc_now)
    duration_ms: float = 0.0
    round_trips: int = 0


class Store(ABC):
    """The durable record of jobs and cursors. Every method is safe to call from several threads."""

    @abstractmethod
    def get_cursor(self, recipe: str) -> Any: ...

    @abstractmethod
    def enqueue(self, recipe: str, recipe_hash: str, events: list[Event], cursor: Any) -> list[JobRecord]:
        """Store a pending job per event that has none yet, and the new cursor, atomically.

        Returns the jobs created; events that already have a job (any status) are left alone.
        """

    @abstractmethod
    def add_job(self, recipe: str, recipe_hash: str, event: Event, replay_of: int | None = None) -> JobRecord | None:
        """Store one pending job; returns None when the event already has a job (replays always get one)."""

    @abstractmethod
    def find_job(self, recipe: str, event_id: str, event_version: str) -> JobRecord | None: ...

    @abstractmethod
    def get_job(self, job_id: int) -> JobRecord | None: ...

    @abstractmethod
    def list_jobs(self, recipe: str | None = None, status: JobStatus | None = None, limit: int = 50) -> list[JobRecord]: ...

    @abstractmethod
    def unfinished_jobs(self, recipe: str) -> list[JobRecord]:
        """Jobs that are pending, or were running when the process stopped, oldest first."""

    @abstractmethod
    def start_job(self, job_id: int, recipe_hash: str) -> None: ...

    @abstractmethod
    def finish_job(self, job_id: int, status: JobStatus, reason: str | None, error: dict[str, Any] | None, round_trips: int) -> None: ...

    @abstractmethod
    def wait_job(self, job_id: int, reason: str, not_before: str, round_trips: int) -> None:
        """Set a job aside until `not_before` (ISO UTC), dropping its step records so it starts afresh."""

    @abstractmethod
    def claim_due_jobs(self, recipe: str) -> list[JobRecord]:
        """Turn the waiting jobs whose time has come back into pending jobs, and return them."""

    def record_step(self, job_id: int, step: StepRecord) -> None:
        """Store a step's outcome, replacing an earlier record of the same path."""
        self.record_steps(job_id, [step])

    @abstractmethod
    def record_steps(self, job_id: int, steps: list[StepRecord]) -> None:
        """Store several steps' outcomes, in order, in one transaction."""

    @abstractmethod
    def steps(self, job_id: int) -> list[StepRecord]: ...

    @abstractmethod
    def note_recipe(self, name: str, path: str, content_hash: str) -> None:
        """Remember which file a recipe was last run from, so `replay` can find it by job."""

    @abstractmethod
    def recipe_path(self, name: str) -> str | None: ...

    @abstractmethod
    def record_poll(self, recipe: str, polled_at: str, events: int, waiting: int | None, error: str | None) -> PollResult:
        """Store the outcome of one poll (`error` is None when it succeeded) and return the updated result."""

    @abstractmethod
    def poll_result(self, recipe: str) -> PollResult | None: ...

    @abstractmethod
    def set_enabled(self, recipe: str, enabled: bool) -> None:
        """Store `recipe enable` or `recipe disable`; the recipe file's own `enabled` is kept apart."""

    @abstractmethod
    def enabled_switches(self) -> dict[str, tuple[bool, str]]:
        """Return the stored switches by recipe name: (enabled, UTC time of the change)."""

    @abstractmethod
    def job_counts(self, recipe: str, finished_since: str) -> dict[JobStatus, int]:
        """Count the jobs of a recipe that finished at or after `finished_since`, by status."""

    @abstractmethod
    def count_unfinished(self, recipe: str) -> int: ...

    @abstractmethod
    def close(self) -> None: ...


_MIGRATIONS = [
    """
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        recipe TEXT NOT NULL,
        recipe_hash TEXT NOT NULL,
        event_id TEXT NOT NULL,
        event_version TEXT NOT NULL,
        event_key TEXT NOT NULL,
        event TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        error TEXT,
        replay_of INTEGER REFERENCES jobs(id),
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        round_trips INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX jobs_by_event ON jobs (recipe, event_id, event_version) WHERE replay_of IS NULL;
    CREATE INDEX jobs_by_status ON jobs (recipe, status);
    CREATE TABLE steps (
        job_id INTEGER NOT NULL REFERENCES jobs(id),
        path TEXT NOT NULL,
        step_id TEXT NOT NULL,
        status TEXT NOT NULL,
        input TEXT,
        output TEXT,
        error TEXT,
        attempts INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        duration_ms REAL NOT NULL,
        round_trips INTEGER NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (job_id, path)
    );
    CREATE TABLE recipes (
        name TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE cursors (
        recipe TEXT PRIMARY KEY,
        cursor TEXT,
        updated_at TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE polls (
        recipe TEXT PRIMARY KEY,
        polled_at TEXT NOT NULL,
        succeeded INTEGER NOT NULL,
        events INTEGER NOT NULL,
        waiting INTEGER,
        error TEXT,
        last_success_at TEXT,
        last_error TEXT,
        last_error_at TEXT,
        failures INTEGER NOT NULL
    );
    CREATE TABLE recipe_switches (
        recipe TEXT PRIMARY KEY,
        enabled INTEGER NOT NULL,
        changed_at TEXT NOT NULL
    );
    CREATE INDEX jobs_by_finish ON jobs (recipe, finished_at);
    """,
    """
    ALTER TABLE jobs ADD COLUMN not_before TEXT;
    """,
]

_POLL_COLUMNS = "recipe, polled_at, succeeded, events, waiting, error, last_success_at, last_error, last_error_at, failures"

_JOB_COLUMNS = "id, recipe, recipe_hash, event_id, event_version, event_key, event, status, reason, error, replay_of, created_at, started_at, finished_at, round_trips"


def _json(value: Any) -> str | None:
    return None if value is None else jsoncodec.dumps(value)


def _unjson(text: str | None) -> Any:
    return None if text is None else jsoncodec.loads(text)


class SQLiteStore(Store):
    """The embedded store: one SQLite file (or `:memory:`), shared by the threads of one process."""

    FILE_NAME = "recipe.db"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA busy_timeout = 5000")
        if self.path != ":memory:":
            self._connection.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode survives a killed process; only a power loss can drop the last commits.
        self._connection.execute("PRAGMA synchronous = NORMAL")
        self._migrate()

    @classmethod
    def in_state_dir(cls, state_dir: str | Path) -> "SQLiteStore":
        return cls(Path(state_dir) / cls.FILE_NAME)

    def _migrate(self) -> None:
        with self._transaction() as connection:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(_MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {number}")

    class _Transaction:
        def __init__(self, store: "SQLiteStore") -> None:
            self.store = store

        def __enter__(self) -> sqlite3.Connection:
            self.store._lock.acquire()
            self.store._connection.execute("BEGIN IMMEDIATE")
            return self.store._connection

        def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
            try:
                self.store._connection.execute("COMMIT" if kind is None else "ROLLBACK")
            finally:
                self.store._lock.release()

    def _transaction(self) -> "SQLiteStore._Transaction":
        return SQLiteStore._Transaction(self)

    def _query(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._connection.execute(sql, parameters).fetchall()

    def in_memory_copy(self) -> "SQLiteStore":
        """Return a private in-memory copy: a dry run reads real history and writes only to the copy."""
        copy = SQLiteStore(":memory:")
        with self._lock:
            self._connection.backup(copy._connection)
        return copy

    # Cursors ---------------------------------------------------------------------------------

    def get_cursor(self, recipe: str) -> Any:
        rows = self._query("SELECT cursor FROM cursors WHERE recipe = ?", (recipe,))
        return _unjson(rows[0][0]) if rows else None

    def set_cursor(self, recipe: str, cursor: Any) -> None:
        with self._transaction() as connection:
            self._save_cursor(connection, recipe, cursor)

    @staticmethod
    def _save_cursor(connection: sqlite3.Connection, recipe: str, cursor: Any) -> None:
        connection.execute(
            "INSERT INTO cursors (recipe, cursor, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (recipe) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
            (recipe, _json(cursor), utc_now()),
        )

    def note_recipe(self, name: str, path: str, content_hash: str) -> None:
        with self._transaction() as connection:
            connection.execute(
                "INSERT INTO recipes (name, path, content_hash, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET path = excluded.path, content_hash = excluded.content_hash, updated_at = excluded.updated_at",
                (name, path, content_hash, utc_now()),
            )

    def recipe_path(self, name: str) -> str | None:
        rows = self._query("SELECT path FROM recipes WHERE name = ?", (name,))
        return rows[0][0] if rows else None

    # Polls and switches ------------------------------------------------------------------------

    def record_poll(self, recipe: str, polled_at: str, events: int, waiting: int | None, error: str | None) -> PollResult:
        with self._transaction() as connection:
            rows = connection.execute(f"SELECT {_POLL_COLUMNS} FROM polls WHERE recipe = ?", (recipe,)).fetchall()
            previous = _poll(rows[0]) if rows else PollResult(recipe, polled_at, True)
            result = PollResult(
                recipe=recipe, polled_at=polled_at, succeeded=error is None, events=events, waiting=waiting, error=error,
                last_success_at=polled_at if error is None else previous.last_success_at,
                last_error=previous.last_error if error is None else error,
                last_error_at=previous.last_error_at if error is None else polled_at,
                failures=0 if error is None else previous.failures + 1,
            )
            connection.execute(
                f"INSERT OR REPLACE INTO polls ({_POLL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    recipe, result.polled_at, int(result.succeeded), result.events, result.waiting, result.error,
                    result.last_success_at, result.last_error, result.last_error_at, result.failures,
                ),
            )
        return result

    def poll_result(self, recipe: str) -> PollResult | None:
        rows = self._query(f"SELECT {_POLL_COLUMNS} FROM polls WHERE recipe = ?", (recipe,))
        return _poll(rows[0]) if rows else None

    def set_enabled(self, recipe: str, enabled: bool) -> None:
        with self._transaction() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO recipe_switches (recipe, enabled, changed_at) VALUES (?, ?, ?)",
                (recipe, int(enabled), utc_now()),
            )

    def enabled_switches(self) -> dict[str, tuple[bool, str]]:
        rows = self._query("SELECT recipe, enabled, changed_at FROM recipe_switches")
        return {row[0]: (bool(row[1]), row[2]) for row in rows}

    def job_counts(self, recipe: str, finished_since: str) -> dict[JobStatus, int]:
        rows = self._query(
            "SELECT status, COUNT(*) FROM jobs WHERE recipe = ? AND finished_at >= ? GROUP BY status",
            (recipe, finished_since),
        )
        return {JobStatus(row[0]): row[1] for row in rows}

    def count_unfinished(self, recipe: str) -> int:
        rows = self._query(
            "SELECT COUNT(*) FROM jobs WHERE recipe = ? AND status IN (?, ?)",
            (recipe, JobStatus.PENDING.value, JobStatus.RUNNING.value),
        )
        return rows[0][0]

    # Jobs ------------------------------------------------------------------------------------

    def enqueue(self, recipe: str, recipe_hash: str, events: list[Event], cursor: Any) -> list[JobRecord]:
        created: list[int] = []
        with self._transaction() as connection:
            for event in events:
                job_id = self._insert_job(connection, recipe, recipe_hash, event, None)
                if job_id is not None:
                    created.append(job_id)
            self._save_cursor(connection, recipe, cursor)
        return [job for job in (self.get_job(job_id) for job_id in created) if job is not None]

    def add_job(self, recipe: str, recipe_hash: str, event: Event, replay_of: int | None = None) -> JobRecord | None:
        with self._transaction() as connection:
            job_id = self._insert_job(connection, recipe, recipe_hash, event, replay_of)
        return None if job_id is None else self.get_job(job_id)

    @staticmethod
    def _insert_job(connection: sqlite3.Connection, recipe: str, recipe_hash: str, event: Event, replay_of: int | None) -> int | None:
        cursor = connection.execute(
            "INSERT OR IGNORE INTO jobs (recipe, recipe_hash, event_id, event_version, event_key, event, status, replay_of, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (recipe, recipe_hash, event.id, event.version, event.key, jsoncodec.dumps(event.data), JobStatus.PENDING.value, replay_of, utc_now()),
        )
        return cursor.lastrowid if cursor.rowcount == 1 else None

    def find_job(self, recipe: str, event_id: str, event_version: str) -> JobRecord | None:
        rows = self._query(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE recipe = ? AND event_id = ? AND event_version = ? AND replay_of IS NULL",
            (recipe, str(event_id), str(event_version)),
        )
        return _job(rows[0]) if rows else None

    def get_job(self, job_id: int) -> JobRecord | None:
        rows = self._query(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
        return _job(rows[0]) if rows else None

    def list_jobs(self, recipe: str | None = None, status: JobStatus | None = None, limit: int = 50) -> list[JobRecord]:
        conditions, parameters = [], []
        if recipe:
            conditions.append("recipe = ?")
            parameters.append(recipe)
        if status:
            conditions.append("status = ?")
            parameters.append(JobStatus(status).value)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = self._query(f"SELECT {_JOB_COLUMNS} FROM jobs {where} ORDER BY id DESC LIMIT ?", (*parameters, limit))
        return [_job(row) for row in rows]

    def unfinished_jobs(self, recipe: str) -> list[JobRecord]:
        rows = self._query(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE recipe = ? AND status IN (?, ?) ORDER BY id",
            (recipe, JobStatus.PENDING.value, JobStatus.RUNNING.value),
        )
        return [_job(row) for row in rows]

    def start_job(self, job_id: int, recipe_hash: str) -> None:
        with self._transaction() as connection:
            connection.execute(
                "UPDATE jobs SET status = ?, recipe_hash = ?, started_at = COALESCE(started_at, ?) WHERE id = ?",
                (JobStatus.RUNNING.value, recipe_hash, utc_now(), job_id),
            )

    def finish_job(self, job_id: int, status: JobStatus, reason: str | None, error: dict[str, Any] | None, round_trips: int) -> None:
        with self._transaction() as connection:
            connection.execute(
                "UPDATE jobs SET status = ?, reason = ?, error = ?, finished_at = ?, round_trips = ?, not_before = NULL WHERE id = ?",
                (JobStatus(status).value, reason, _json(error), utc_now(), round_trips, job_id),
            )

    def wait_job(self, job_id: int, reason: str, not_before: str, round_trips: int) -> None:
        with self._transaction() as connection:
            connection.execute(
                "UPDATE jobs SET status = ?, reason = ?, error = NULL, not_before = ?, round_trips = ? WHERE id = ?",
                (JobStatus.WAITING.value, reason, not_before, round_trips, job_id),
            )
            connection.execute("DELETE FROM steps WHERE job_id = ?", (job_id,))

    def claim_due_jobs(self, recipe: str) -> list[JobRecord]:
        with self._transaction() as connection:
            rows = connection.execute(
                "SELECT id FROM jobs WHERE recipe = ? AND status = ? AND not_before <= ? ORDER BY id",
                (recipe, JobStatus.WAITING.value, utc_now()),
            ).fetchall()
            connection.executemany("UPDATE jobs SET status = ? WHERE id = ?", [(JobStatus.PENDING.value, row[0]) for row in rows])
        return [job for job in (self.get_job(row[0]) for row in rows) if job is not None]

    # Steps -----------------------------------------------------------------------------------

    def record_steps(self, job_id: int, steps: list[StepRecord]) -> None:
        if not steps:
            return
        with self._transaction() as connection:
            first = connection.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM steps WHERE job_id = ?", (job_id,)).fetchone()[0]
            connection.executemany(
                "INSERT INTO steps (job_id, path, step_id, status, input, output, error, attempts, started_at, duration_ms, round_trips, position) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (job_id, path) DO UPDATE SET status = excluded.status, input = excluded.input, output = excluded.output, "
                "error = excluded.error, attempts = excluded.attempts, started_at = excluded.started_at, "
                "duration_ms = excluded.duration_ms, round_trips = excluded.round_trips",
                [
                    (
                        job_id, step.path, step.step_id, StepStatus(step.status).value, _json(step.input), _json(step.output),
                        _json(step.error), step.attempts, step.started_at, step.duration_ms, step.round_trips, position,
                    )
                    for position, step in enumerate(steps, start=first)
                ],
            )

    def steps(self, job_id: int) -> list[StepRecord]:
        rows = self._query(
            "SELECT path, step_id, status, input, output, error, attempts, started_at, duration_ms, round_trips FROM steps WHERE job_id = ? ORDER BY position",
            (job_id,),
        )
        return [
            StepRecord(
                path=row[0], step_id=row[1], status=StepStatus(row[2]), input=_unjson(row[3]), output=_unjson(row[4]),
                error=_unjson(row[5]), attempts=row[6], started_at=row[7], duration_ms=row[8], round_trips=row[9],
            )
            for row in rows
        ]

    def close(self) -> None:
        with self._lock:
            self._connection.close()


def _job(row: tuple[Any, ...]) -> JobRecord:
    return JobRecord(
        id=row[0], recipe=row[1], recipe_hash=row[2], event_id=row[3], event_version=row[4], event_key=row[5],
        event=_unjson(row[6]), status=JobStatus(row[7]), reason=row[8], error=_unjson(row[9]), replay_of=row[10],
        created_at=row[11], started_at=row[12], finished_at=row[13], round_trips=row[14],
    )



def _poll(row: tuple[Any, ...]) -> PollResult:
    return PollResult(
        recipe=row[0], polled_at=row[1], succeeded=bool(row[2]), events=row[3], waiting=row[4], error=row[5],
        last_success_at=row[6], last_error=row[7], last_error_at=row[8], failures=row[9],
    )
