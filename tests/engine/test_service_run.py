"""The service running recipes: independence, key order, outages, failed jobs, stop and resume, switches, health."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from click.testing import CliRunner

from connectors.testing.memory import World
from engine.cli import cli
from engine.connector import Event
from engine.errors import ConfigurationError, FatalError, RetryableError
from engine.job_queue import JobQueue
from engine.registry import Registry
from engine.service import ServiceOptions
from engine.store import JobRecord, JobStatus, SQLiteStore

from recipe_helpers import make_recipe, make_run
from service_helpers import START, Gate, Harness, order, upsert_recipe


@pytest.fixture
def harnesses():
    started = []
    yield started
    for harness in started:
        harness.stop()


def statuses(store, recipe):
    return sorted((job.event_label, job.status.value) for job in store.list_jobs(recipe))


def job_record(job_id, key):
    return JobRecord(id=job_id, recipe="r", recipe_hash="h", event_id=str(job_id), event_version="", event_key=key, event={}, status=JobStatus.PENDING)


# JobQueue --------------------------------------------------------------------------------------


def test_queue_holds_back_a_key_that_is_running():
    queue = JobQueue()
    for job_id, key in ((1, "a"), (2, "a"), (3, "b")):
        queue.put(job_record(job_id, key))

    first, second = queue.take(), queue.take()

    assert (first.id, second.id) == (1, 3)
    queue.done(first)
    assert queue.take().id == 2


def test_queue_retry_keeps_job_first():
    queue = JobQueue()
    queue.put(job_record(1, "a"))
    queue.put(job_record(2, "a"))

    queue.retry(queue.take())

    assert queue.take().id == 1


def test_queue_ignores_a_job_already_queued():
    queue = JobQueue()

    assert queue.put(job_record(1, "a")) is True
    assert queue.put(job_record(1, "a")) is False
    assert queue.size == 1


def test_closed_queue_hands_out_nothing():
    queue = JobQueue()
    queue.put(job_record(1, "a"))

    queue.close()

    assert queue.take() is None
    assert queue.put(job_record(2, "b")) is False


# Independence and order ------------------------------------------------------------------------


def test_outage_of_one_recipe_does_not_stop_another(tmp_path, harnesses):
    down, up = World(), World()
    down.add("orders", order(1))
    down.fail_next("poll:new_records", RetryableError("Service Unavailable", status=503), times=4)
    up.add("orders", order(1))
    recipes = [upsert_recipe(tmp_path, "shopify-side"), upsert_recipe(tmp_path, "salesforce-side")]
    harness = Harness(tmp_path, recipes, worlds={"shopify-side": down, "salesforce-side": up})
    harnesses.append(harness.start())
    harness.settle()

    up.add("orders", order(2))
    for seconds in (5, 10, 15):
        harness.advance(seconds)

    assert [record["order_id"] for record in up.records["copies"]] == [1, 2]
    assert "copies" not in down.records
    assert harness.store.poll_result("shopify-side").failures == 3
    assert harness.store.get_cursor("shopify-side") is None


def test_recipe_resumes_from_its_cursor_after_an_outage(tmp_path, harnesses):
    world = World()
    world.add("orders", order(1))
    harness = Harness(tmp_path, [upsert_recipe(tmp_path)], worlds={"copy-orders": world})
    harnesses.append(harness.start())
    harness.settle()

    world.fail_next("poll:new_records", RetryableError("Service Unavailable", status=503), times=2)
    world.add("orders", order(2))
    for seconds in (30, 5, 10):
        harness.advance(seconds)

    assert [record["order_id"] for record in world.records["copies"]] == [1, 2]
    assert [inputs["record"]["order_id"] for inputs in world.calls_of("upsert")] == [1, 2]
    assert harness.store.get_cursor("copy-orders") == 2


def test_slow_recipe_does_not_delay_another(tmp_path, harnesses):
    slow, fast = World(), World()
    slow.add("orders", order(1))
    fast.add("orders", order(2))
    gate = Gate(1)
    recipes = [upsert_recipe(tmp_path, "slow"), upsert_recipe(tmp_path, "fast")]
    harness = Harness(tmp_path, recipes, worlds={"slow": slow, "fast": fast}, gate=gate)
    harnesses.append(harness.start())

    assert gate.blocked.wait(10)
    assert _wait_for(lambda: statuses(harness.store, "fast") == [("2@2026-11-02T09:00:00-05:00", "succeeded")])
    assert [record["order_id"] for record in fast.records["copies"]] == [2]
    assert "copies" not in slow.records


def test_same_key_jobs_run_in_order(tmp_path, harnesses):
    world = World()
    world.records["orders"] = [order(1, "v1"), order(2, "v1"), order(1, "v2")]
    gate = Gate(1)
    harness = Harness(tmp_path, [upsert_recipe(tmp_path, concurrency=2)], worlds={"copy-orders": world}, gate=gate)
    harnesses.append(harness.start())

    expected = [("1@v1", "running"), ("1@v2", "pending"), ("2@v1", "succeeded")]
    assert _wait_for(lambda: statuses(harness.store, "copy-orders") == expected)
    assert gate.blocked.is_set()

    gate.released.set()
    harness.settle()

    assert [(inputs["record"]["order_id"], inputs["record"]["version"]) for inputs in world.calls_of("upsert")] == [(2, "v1"), (1, "v1"), (1, "v2")]


def test_backfill_logs_progress_per_page(tmp_path, harnesses, caplog):
    world = World()
    for number in range(1, 6):
        world.add("orders", order(number))
    recipe = upsert_recipe(tmp_path)
    recipe.trigger.batch_size = 2
    harness = Harness(tmp_path, [recipe], worlds={"copy-orders": world})

    with caplog.at_level(logging.INFO, logger="engine.service"):
        harnesses.append(harness.start())
        harness.settle()

    progress = [record.getMessage() for record in caplog.records if record.getMessage().startswith(("backfill", "poll"))]
    assert progress == [
        "backfill recipe=copy-orders events=2 of 5 queued; continuing",
        "backfill recipe=copy-orders events=4 of 5 queued; continuing",
        "poll recipe=copy-orders outcome=ok events=5 new_jobs=5 waiting=0",
    ]
    assert len(world.records["copies"]) == 5


# Failed jobs ----------------------------------------------------------------------------------


def test_failing_job_ends_failed_cursor_moves(tmp_path, harnesses, registry: Registry, monkeypatch):
    world = World()
    world.add("orders", order(1))
    world.add("orders", order(2))
    world.fail_next("upsert", RetryableError("Service Unavailable", status=503), times=3)
    recipe = upsert_recipe(tmp_path)
    harness = Harness(tmp_path, [recipe], worlds={"copy-orders": world})
    harnesses.append(harness.start())
    harness.settle()

    assert statuses(harness.store, "copy-orders") == [("1@2026-11-02T09:00:00-05:00", "failed"), ("2@2026-11-02T09:00:00-05:00", "succeeded")]
    assert harness.store.get_cursor("copy-orders") == 2

    monkeypatch.setattr("engine.cli.Registry", lambda: registry)
    listed = CliRunner().invoke(cli, ["--state-dir", str(tmp_path / "state"), "jobs", "--status", "failed"])
    assert listed.exit_code == 0
    rows = listed.output.splitlines()[1:]
    assert len(rows) == 1
    assert rows[0].startswith("    1  copy-orders                  failed ")
    assert rows[0].endswith("  1@2026-11-02T09:00:00-05:00  Service Unavailable")

    replayed = make_run(recipe, world, harness.store).replay(1)
    assert [job.status for job in replayed.jobs] == [JobStatus.SUCCEEDED]


def test_job_waits_for_connectors_that_fail_to_open(tmp_path, harnesses):
    world = World()
    world.add("orders", order(1))
    harness = Harness(tmp_path, [upsert_recipe(tmp_path)], worlds={"copy-orders": world})
    harness.open_failures = [None, ConfigurationError("connection 'memory': session expired; log in again")]
    harnesses.append(harness.start())
    harness.settle()

    assert statuses(harness.store, "copy-orders") == [("1@2026-11-02T09:00:00-05:00", "pending")]
    harness.advance(5)

    assert statuses(harness.store, "copy-orders") == [("1@2026-11-02T09:00:00-05:00", "succeeded")]
    assert harness.opens == 3


# Stop and resume -------------------------------------------------------------------------------


def test_stop_finishes_running_job_keeps_queued(tmp_path):
    world = World()
    world.records["orders"] = [order(1), order(2)]
    gate = Gate(1)
    harness = Harness(tmp_path, [upsert_recipe(tmp_path)], worlds={"copy-orders": world}, gate=gate)
    harness.start()
    assert gate.blocked.wait(10)

    result = []
    stopper = threading.Thread(target=lambda: result.append(harness.service.stop(timeout=10)))
    stopper.start()
    gate.released.set()
    stopper.join(10)

    assert result == [True]
    assert statuses(harness.store, "copy-orders") == [("1@2026-11-02T09:00:00-05:00", "succeeded"), ("2@2026-11-02T09:00:00-05:00", "pending")]
    harness.store.close()


def test_next_start_runs_the_jobs_left_unfinished_first(tmp_path, harnesses):
    world = World()
    world.records["orders"] = [order(1), order(2)]
    recipe = upsert_recipe(tmp_path)
    store = SQLiteStore(tmp_path / "state" / "recipe.db")
    store.enqueue("copy-orders", recipe.content_hash, [Event(1, "2026-11-02T09:00:00-05:00", order(1))], 1)
    store.close()

    harness = Harness(tmp_path, [recipe], worlds={"copy-orders": world})
    harnesses.append(harness.start())
    harness.settle()

    assert [inputs["record"]["order_id"] for inputs in world.calls_of("upsert")] == [1, 2]
    assert statuses(harness.store, "copy-orders") == [("1@2026-11-02T09:00:00-05:00", "succeeded"), ("2@2026-11-02T09:00:00-05:00", "succeeded")]


def test_stop_after_timeout_leaves_the_job_running(tmp_path):
    world = World()
    world.add("orders", order(1))
    gate = Gate(1)
    harness = Harness(tmp_path, [upsert_recipe(tmp_path)], worlds={"copy-orders": world}, gate=gate)
    harness.start()
    assert gate.blocked.wait(10)

    assert harness.service.stop(timeout=0.05) is False
    assert statuses(harness.store, "copy-orders") == [("1@2026-11-02T09:00:00-05:00", "running")]

    gate.released.set()
    harness.service.stop(timeout=10)
    harness.store.close()


def test_stop_interrupts_retry_wait(tmp_path):
    world = World()
    world.add("orders", order(1))
    world.fail_next("upsert", RetryableError("Service Unavailable", status=503))
    recipe = make_recipe(tmp_path, RETRY_RECIPE)
    # Without a given sleep the real retry wait runs; one minute long, it must end as soon as the service stops.
    harness = Harness(tmp_path, [recipe], worlds={"copy-orders": world}, sleep=None)
    harness.start()
    assert _wait_for(lambda: len(world.calls_of("upsert")) == 1)

    assert harness.service.stop(timeout=10) is True
    assert statuses(harness.store, "copy-orders") == [("1@2026-11-02T09:00:00-05:00", "running")]
    harness.store.close()


RETRY_RECIPE = """
name: copy-orders
trigger: {connector: memory, event: new_records, input: {object: orders}}
on_error: {retries: 3, backoff: {initial: 1m, jitter: false}}
steps:
  - id: copy
    action: memory.upsert
    input: {object: copies, external_id_field: order_id, record: {order_id: "{{ trigger.id }}"}}
"""


def _wait_for(condition):
    pause = threading.Event()
    for _ in range(1000):
        if condition():
            return True
        pause.wait(0.01)
    return False


# Switches --------------------------------------------------------------------------------------


def test_disabled_recipe_stops_polling_until_enabled(tmp_path, harnesses):
    harness = Harness(tmp_path, [upsert_recipe(tmp_path)])
    harnesses.append(harness.start())
    harness.settle()

    harness.store.set_enabled("copy-orders", False)
    harness.advance(5)
    harness.advance(60)
    assert harness.poll_times["copy-orders"] == [START]

    harness.store.set_enabled("copy-orders", True)
    harness.advance(5)
    assert harness.poll_times["copy-orders"] == [START, START + timedelta(seconds=70)]


def test_recipe_disabled_in_its_file_gets_no_worker(tmp_path, harnesses):
    recipe = upsert_recipe(tmp_path)
    recipe.enabled = False
    harness = Harness(tmp_path, [recipe])
    harnesses.append(harness.start())

    assert harness.service.workers == {}
    status = harness.service.status().recipes[0]
    assert (status.enabled, status.disabled_by, status.health) == (False, "recipe file (enabled: false)", "disabled")


def test_disabled_recipe_broken_connection_starts(tmp_path, harnesses):
    harness = Harness(tmp_path, [upsert_recipe(tmp_path)])
    harness.store.set_enabled("copy-orders", False)
    harness.open_failures = [ConfigurationError("connection 'memory' not found in connections.yaml")]
    harnesses.append(harness.start())
    harness.settle()

    harness.store.set_enabled("copy-orders", True)
    harness.advance(5)

    assert harness.poll_times["copy-orders"] == [START + timedelta(seconds=5)]
    assert harness.opens == 2


def test_enabled_recipe_broken_connection_fails_start(tmp_path):
    harness = Harness(tmp_path, [upsert_recipe(tmp_path)])
    harness.open_failures = [ConfigurationError("connection 'memory' not found in connections.yaml")]

    with pytest.raises(ConfigurationError, match="not found in connections.yaml"):
        harness.service.start()
    harness.store.close()


# Health ----------------------------------------------------------------------------------------


def test_recipe_whose_polls_keep_failing_is_reported_unhealthy(tmp_path, harnesses, caplog):
    world = World()
    world.fail_next("poll:new_records", FatalError("Invalid API key or access token", code="UNAUTHORIZED", status=401), times=100)
    options = ServiceOptions(unhealthy_after=600, backoff_max=60)
    harness = Harness(tmp_path, [upsert_recipe(tmp_path)], worlds={"copy-orders": world}, options=options)
    harnesses.append(harness.start())
    harness.settle()

    with caplog.at_level(logging.INFO, logger="engine.service"):
        for _ in range(10):
            harness.advance(60)
        status = harness.service.status().recipes[0]
        assert status.health == "healthy"

        harness.advance(60)

    status = harness.service.status().recipes[0]
    assert status.health == "unhealthy"
    assert status.health_reason == "no successful poll since the service started; a poll was due at 2026-11-02T10:00:37.000+00:00, 630s ago"
    assert status.last_error["message"] == "[UNAUTHORIZED, HTTP 401] Invalid API key or access token"
    unhealthy = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    assert unhealthy == [f"recipe copy-orders is unhealthy: {status.health_reason}"]


WAITING_RECIPE = """
name: invoices
trigger:
  connector: memory
  event: new_records
  input: {object: orders}
  schedule: every 30s
steps:
  - id: sales_order
    action: memory.find
    input: {object: sales_orders, where: {order_id: "{{ trigger.id }}"}}
  - id: not_synced_yet
    if: "{{ sales_order.count == 0 }}"
    stop: retry
    retry_after: 10m
    reason: "sales order {{ trigger.id }} not synced yet"
  - id: invoice
    action: memory.upsert
    input: {object: invoices, external_id_field: order_id, record: {order_id: "{{ trigger.id }}"}}
"""


def test_waiting_job_runs_again_at_a_later_poll(tmp_path, harnesses):
    world = World()
    world.add("orders", order(1))
    recipe = make_recipe(tmp_path, WAITING_RECIPE)
    harness = Harness(tmp_path, [recipe], worlds={"invoices": world})
    harnesses.append(harness.start())
    harness.settle()

    [waiting] = harness.store.list_jobs(recipe="invoices")
    assert waiting.status is JobStatus.WAITING
    world.add("sales_orders", {"order_id": 1})
    harness.store._connection.execute("UPDATE jobs SET not_before = '2000-01-01T00:00:00.000+00:00' WHERE id = ?", (waiting.id,))
    harness.advance(30)

    [done] = harness.store.list_jobs(recipe="invoices")
    assert (done.id, done.status) == (waiting.id, JobStatus.SUCCEEDED)
    assert world.records["invoices"][0]["order_id"] == 1
