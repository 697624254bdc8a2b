import sqlite3
from decimal import Decimal

from engine.connector import Event
from engine.store import _MIGRATIONS, JobStatus, SQLiteStore, StepRecord, StepStatus


def event(number, version="v1"):
    return Event(id=number, version=version, data={"id": number, "total": Decimal("10.10")})


def test_new_store_is_migrated_to_latest(tmp_path):
    SQLiteStore(tmp_path / "recipe.db").close()
    connection = sqlite3.connect(tmp_path / "recipe.db")
    assert connection.execute("PRAGMA user_version").fetchone()[0] == len(_MIGRATIONS)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()


def test_enqueue_stores_jobs_and_cursor_together(tmp_path):
    store = SQLiteStore(tmp_path / "recipe.db")
    created = store.enqueue("orders", "abc", [event(1), event(2)], {"updated_at": "2026-11-02T09:15:00-05:00", "ids": [2]})

    assert [(job.event_id, job.status) for job in created] == [("1", JobStatus.PENDING), ("2", JobStatus.PENDING)]
    assert store.get_cursor("orders") == {"updated_at": "2026-11-02T09:15:00-05:00", "ids": [2]}
    assert created[0].event == {"id": 1, "total": Decimal("10.10")}


def test_same_event_and_version_gets_one_job(tmp_path):
    store = SQLiteStore(tmp_path / "recipe.db")
    store.enqueue("orders", "abc", [event(1)], 1)

    again = store.enqueue("orders", "abc", [event(1), event(1, "v2")], 2)

    assert [(job.event_id, job.event_version) for job in again] == [("1", "v2")]
    assert store.add_job("orders", "abc", event(1)) is None


def test_replay_always_gets_a_job(tmp_path):
    store = SQLiteStore(tmp_path / "recipe.db")
    first = store.enqueue("orders", "abc", [event(1)], 1)[0]

    replay = store.add_job("orders", "abc", event(1), replay_of=first.id)

    assert replay is not None
    assert replay.replay_of == first.id


def test_steps_round_trip_decimals_and_replace_by_path(tmp_path):
    store = SQLiteStore(tmp_path / "recipe.db")
    job = store.enqueue("orders", "abc", [event(1)], 1)[0]

    store.record_step(job.id, StepRecord(path="header", step_id="header", status=StepStatus.FAILED, attempts=1))
    store.record_step(job.id, StepRecord(path="header", step_id="header", status=StepStatus.SUCCEEDED, input={"amount": Decimal("1.30")}, output={"id": "a1"}, attempts=2))

    [step] = store.steps(job.id)
    assert step.status is StepStatus.SUCCEEDED
    assert step.input == {"amount": Decimal("1.30")}
    assert step.attempts == 2


def test_in_memory_copy_leaves_file_untouched(tmp_path):
    store = SQLiteStore(tmp_path / "recipe.db")
    store.enqueue("orders", "abc", [event(1)], 1)

    copy = store.in_memory_copy()
    copy.enqueue("orders", "abc", [event(2)], 2)

    assert copy.get_cursor("orders") == 2
    assert store.get_cursor("orders") == 1
    assert [job.event_id for job in store.list_jobs()] == ["1"]


def test_unfinished_jobs_lists_pending_and_running(tmp_path):
    store = SQLiteStore(tmp_path / "recipe.db")
    first, second, third = store.enqueue("orders", "abc", [event(1), event(2), event(3)], 3)
    store.start_job(second.id, "abc")
    store.finish_job(third.id, JobStatus.SUCCEEDED, None, None, 2)

    assert [job.id for job in store.unfinished_jobs("orders")] == [first.id, second.id]
