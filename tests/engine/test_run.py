from decimal import Decimal

import pytest

from connectors.testing.memory import MemoryConnector, World
from engine.errors import FatalError, RetryableError, SkipEventError
from engine.run import PollFailed, RecipeRun
from engine.store import JobStatus, SQLiteStore, StepStatus

from recipe_helpers import make_recipe, make_run

ORDER_RECIPE = """
name: orders
trigger:
  connector: memory
  event: new_records
  input: {object: orders}
settings:
  prefix: "WEB-"
steps:
  - id: no_name
    if: "{{ not trigger.customer }}"
    stop: skipped
    reason: "Order {{ trigger.name }} has no customer"
  - id: header
    action: memory.upsert
    input:
      object: sales_orders
      external_id_field: order_id
      record:
        order_id: "{{ trigger.id }}"
        number: "{{ settings.prefix }}{{ trigger.name }}"
        tax: "{{ trigger.lines | map(attribute='tax') | map('decimal') | sum(start='0' | decimal) }}"
  - id: lines
    for_each: "{{ trigger.lines }}"
    as: line
    steps:
      - id: line
        action: memory.upsert
        input:
          object: lines
          external_id_field: line_id
          record:
            line_id: "{{ trigger.id }}-{{ loop.number }}"
            order: "{{ header.id }}"
            quantity: "{{ line.quantity }}"
            tax: "{{ line.tax | decimal }}"
  - id: done
    action: memory.create
    input:
      object: audit
      record: {order: "{{ header.id }}", lines: "{{ lines | length }}"}
"""


def order(number, customer="Ada", lines=((2, "1.10"), (1, "0.20"))):
    return {
        "id": number,
        "updated_at": "2026-11-02T09:15:00-05:00",
        "name": f"#{number}",
        "customer": customer,
        "lines": [{"quantity": quantity, "tax": tax} for quantity, tax in lines],
    }


@pytest.fixture
def store(tmp_path):
    store = SQLiteStore(tmp_path / "state" / "recipe.db")
    yield store
    store.close()


@pytest.fixture
def recipe(tmp_path):
    return make_recipe(tmp_path, ORDER_RECIPE)


@pytest.fixture
def world():
    world = World()
    world.add("orders", order(1001))
    return world


def test_run_writes_rendered_records(recipe, world, store):
    summary = make_run(recipe, world, store).poll_and_run()

    assert [job.status for job in summary.jobs] == [JobStatus.SUCCEEDED]
    header = world.records["sales_orders"][0]
    assert header["order_id"] == 1001
    assert header["number"] == "WEB-#1001"
    assert header["tax"] == Decimal("1.30")
    assert [(line["line_id"], line["order"], line["quantity"], line["tax"]) for line in world.records["lines"]] == [
        ("1001-1", header["id"], 2, Decimal("1.10")),
        ("1001-2", header["id"], 1, Decimal("0.20")),
    ]
    assert world.records["audit"][0] == {"order": header["id"], "lines": 2, "id": world.records["audit"][0]["id"]}


def test_run_summary_keeps_jobs_without_their_events(recipe, world, store):
    [job] = make_run(recipe, world, store).poll_and_run().jobs

    assert (job.event_label, job.status, job.event) == ("1001@2026-11-02T09:15:00-05:00", JobStatus.SUCCEEDED, None)
    assert store.get_job(job.id).event["name"] == "#1001"


def test_second_run_creates_no_job(recipe, world, store):
    make_run(recipe, world, store).poll_and_run()
    calls_before = len(world.calls)

    summary = make_run(recipe, world, store).poll_and_run()

    assert summary.jobs == []
    assert [call.action for call in world.calls[calls_before:]] == ["poll:new_records"]
    assert len(store.list_jobs()) == 1


def test_duplicate_event_creates_no_second_job(recipe, world, store):
    world.add("orders", order(1001))  # the same id and version delivered twice
    summary = make_run(recipe, world, store).poll_and_run()

    assert len(summary.jobs) == 1
    assert [job.event_id for job in summary.already_done] == ["1001"]
    assert len(world.records["sales_orders"]) == 1


def test_stop_step_skips_with_reason_and_writes_nothing(recipe, store):
    world = World()
    world.add("orders", order(1002, customer=None))
    summary = make_run(recipe, world, store).poll_and_run()

    job = summary.jobs[0]
    assert job.status is JobStatus.SKIPPED
    assert job.reason == "Order #1002 has no customer"
    assert "sales_orders" not in world.records
    assert [step.status for step in store.steps(job.id)] == [StepStatus.STOPPED]


def test_missing_pill_fails_with_path_step_and_event(tmp_path, store):
    recipe = make_recipe(tmp_path, ORDER_RECIPE.replace("{{ trigger.name }}\"\n        tax", "{{ trigger.billing.company }}\"\n        tax"))
    world = World()
    world.add("orders", order(1003))

    job = make_run(recipe, world, store).poll_and_run().jobs[0]

    assert job.status is JobStatus.FAILED
    assert job.error["step"] == "header"
    assert job.error["event"] == "1003@2026-11-02T09:15:00-05:00"
    assert job.error["message"] == (
        "step 'header' for event 1003@2026-11-02T09:15:00-05:00: input.record.number: "
        "missing data pill 'trigger.billing' ('dict object' has no attribute 'billing')"
    )


def test_failed_job_does_not_block_next_event(recipe, store):
    world = World()
    world.add("orders", order(1004))
    world.add("orders", order(1005))
    world.fail_next("upsert", FatalError("Customer is on credit hold", code="FIELD_CUSTOM_VALIDATION_EXCEPTION", status=400, fields=["Customer__c"]))

    summary = make_run(recipe, world, store).poll_and_run()

    assert [job.status for job in summary.jobs] == [JobStatus.FAILED, JobStatus.SUCCEEDED]
    failed = summary.jobs[0]
    assert failed.error == {
        "kind": "fatal", "message": "Customer is on credit hold", "code": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "status": 400, "fields": ["Customer__c"], "step": "header", "event": "1004@2026-11-02T09:15:00-05:00",
    }
    assert store.get_cursor("orders") == 2
    assert [job.id for job in store.list_jobs(status=JobStatus.FAILED)] == [failed.id]


def test_retryable_error_is_retried_with_backoff(recipe, world, store):
    world.fail_next("upsert", RetryableError("Server busy", code="SERVER_UNAVAILABLE", status=503, retry_after=7.0), times=2)
    delays = []

    job = make_run(recipe, world, store, sleep=delays.append).poll_and_run().jobs[0]

    assert job.status is JobStatus.SUCCEEDED
    assert len(delays) == 2
    assert all(delay >= 7.0 for delay in delays)
    header_step = next(step for step in store.steps(job.id) if step.path == "header")
    assert header_step.attempts == 3


def test_retries_spent_fail_the_job(recipe, world, store):
    world.fail_next("upsert", RetryableError("Server busy", code="SERVER_UNAVAILABLE", status=503), times=3)

    job = make_run(recipe, world, store).poll_and_run().jobs[0]

    assert job.status is JobStatus.FAILED
    assert job.error["code"] == "SERVER_UNAVAILABLE"
    assert next(step for step in store.steps(job.id) if step.path == "header").attempts == 3


def test_continue_policy_goes_on_after_failure(tmp_path, world, store):
    recipe = make_recipe(tmp_path, ORDER_RECIPE.replace("  - id: done\n    action: memory.create\n", "  - id: done\n    action: memory.create\n    on_error: {then: continue}\n"))
    world.fail_next("create", FatalError("audit is full", code="STORAGE_LIMIT_EXCEEDED"))

    job = make_run(recipe, world, store).poll_and_run().jobs[0]

    assert job.status is JobStatus.SUCCEEDED
    done = next(step for step in store.steps(job.id) if step.path == "done")
    assert done.status is StepStatus.FAILED
    assert done.error["code"] == "STORAGE_LIMIT_EXCEEDED"


def test_skip_error_ends_job_as_skipped(recipe, world, store):
    world.fail_next("upsert", SkipEventError("order was deleted", code="NOT_FOUND", status=404))

    job = make_run(recipe, world, store).poll_and_run().jobs[0]

    assert job.status is JobStatus.SKIPPED
    assert job.reason == "step 'header': order was deleted"


class Crash(BaseException):
    """Stands for the process being killed: nothing in the engine catches it."""


def test_crash_mid_job_resumes_without_repeating_writes(recipe, world, store):
    connector = MemoryConnector({}, world=world)
    calls = {"count": 0}
    original = connector.call

    def crash_on_third_write(action, inputs):
        calls["count"] += 1
        if calls["count"] == 3:
            raise Crash()
        return original(action, inputs)

    connector.call = crash_on_third_write
    with pytest.raises(Crash):
        RecipeRun(recipe, {"memory": connector}, store).poll_and_run()

    interrupted = store.list_jobs()[0]
    assert interrupted.status is JobStatus.RUNNING
    assert [step.path for step in store.steps(interrupted.id)] == ["no_name", "header", "lines[0].line"]

    summary = make_run(recipe, world, store).poll_and_run()

    assert [job.id for job in summary.jobs] == [interrupted.id]
    assert summary.jobs[0].status is JobStatus.SUCCEEDED
    writes = [call.inputs["record"].get("line_id") or call.inputs["record"].get("order_id") for call in world.calls if call.action == "upsert"]
    assert writes == [1001, "1001-1", "1001-2"]
    assert len(world.records["lines"]) == 2
    assert world.records["lines"][1]["order"] == world.records["sales_orders"][0]["id"]


def test_step_records_are_written_once_per_action(recipe, world, store):
    batches = []
    original = store.record_steps

    def record_steps(job_id, steps):
        if steps:
            batches.append([step.path for step in steps])
        original(job_id, steps)

    store.record_steps = record_steps
    make_run(recipe, world, store).poll_and_run()

    # The condition record waits for the first action; nothing is left to write at the end.
    assert batches == [["no_name", "header"], ["lines[0].line"], ["lines[1].line"], ["done"]]


def test_stop_record_is_written_when_the_job_ends(recipe, world, store):
    world.add("orders", order(1002, customer=None))

    job = make_run(recipe, world, store).poll_and_run().jobs[-1]

    assert job.status is JobStatus.SKIPPED
    assert [(step.path, step.status) for step in store.steps(job.id)] == [("no_name", StepStatus.STOPPED)]


def test_dry_run_writes_nothing_and_shows_payloads(recipe, world, store):
    summary = make_run(recipe, world, store, dry_run=True).poll_and_run()

    assert "sales_orders" not in world.records
    assert store.list_jobs() == []
    assert store.get_cursor("orders") is None
    planned = summary.planned[summary.jobs[0].id]
    assert [(write.step, write.action, write.target) for write in planned] == [
        ("header", "upsert", "sales_orders"),
        ("lines[0].line", "upsert", "lines"),
        ("lines[1].line", "upsert", "lines"),
        ("done", "create", "audit"),
    ]
    assert planned[0].payload["record"] == {"order_id": 1001, "number": "WEB-#1001", "tax": Decimal("1.30")}
    assert planned[1].payload["record"]["order"] == "<header.id from a held-back write>"


def test_replay_runs_event_again_as_new_job(recipe, world, store):
    first = make_run(recipe, world, store).poll_and_run().jobs[0]

    replayed = make_run(recipe, world, store).replay(first.id).jobs[0]

    assert replayed.id != first.id
    assert replayed.replay_of == first.id
    assert replayed.status is JobStatus.SUCCEEDED
    assert len(world.records["sales_orders"]) == 1


def test_run_event_then_same_event_is_already_done(recipe, store):
    world = World()
    run = make_run(recipe, world, store)
    first = run.run_event(order(2001))
    again = run.run_event(order(2001))

    assert [job.status for job in first.jobs] == [JobStatus.SUCCEEDED]
    assert again.jobs == []
    assert [job.id for job in again.already_done] == [first.jobs[0].id]


def test_trigger_condition_filters_before_jobs(tmp_path, store):
    recipe = make_recipe(tmp_path, ORDER_RECIPE.replace("  input: {object: orders}\n", "  input: {object: orders}\n  when: \"{{ trigger.id > 1001 }}\"\n"))
    world = World()
    world.add("orders", order(1001))
    world.add("orders", order(1002))

    summary = make_run(recipe, world, store).poll_and_run()

    assert [job.event_id for job in summary.jobs] == ["1002"]
    assert summary.filtered == 1
    assert store.get_cursor("orders") == 2


def test_poll_failure_moves_no_cursor(recipe, world, store):
    world.fail_next("poll:new_records", RetryableError("Shopify is down", status=503))

    with pytest.raises(PollFailed):
        make_run(recipe, world, store).poll_and_run()

    assert store.get_cursor("orders") is None
    assert store.list_jobs() == []


def test_secrets_are_redacted_from_step_records(recipe, store):
    from engine.redact import Redactor

    world = World()
    world.add("orders", {**order(3001), "name": "hunter2-secret-value"})
    run = make_run(recipe, world, store, redactor=Redactor(["hunter2-secret-value"]))

    job = run.poll_and_run().jobs[0]

    header = next(step for step in store.steps(job.id) if step.path == "header")
    assert header.input["record"]["number"] == "WEB-***"
    assert world.records["sales_orders"][0]["number"] == "WEB-hunter2-secret-value"


def test_batches_drain_until_nothing_waits(tmp_path, store):
    recipe = make_recipe(tmp_path, ORDER_RECIPE.replace("  input: {object: orders}\n", "  input: {object: orders}\n  batch_size: 2\n"))
    world = World()
    for number in range(5):
        world.add("orders", order(4000 + number))

    summary = make_run(recipe, world, store).poll_and_run()

    assert len(summary.jobs) == 5
    assert summary.more_waiting is False
    assert [call.action for call in world.calls].count("poll:new_records") == 3


def test_max_events_stops_polling_early(recipe, store):
    world = World()
    for number in range(3):
        world.add("orders", order(5000 + number))

    summary = make_run(recipe, world, store).poll_and_run(max_events=1)

    assert [job.event_id for job in summary.jobs] == ["5000"]
    assert summary.more_waiting is True
    assert store.get_cursor("orders") == 1


def test_retry_after_beyond_backoff_max_fails_without_waiting(recipe, world, store):
    world.fail_next("upsert", RetryableError("Daily limit spent", code="REQUEST_LIMIT_EXCEEDED", status=403, retry_after=3600.0))
    delays = []

    job = make_run(recipe, world, store, sleep=delays.append).poll_and_run().jobs[0]

    assert job.status is JobStatus.FAILED
    assert job.error["code"] == "REQUEST_LIMIT_EXCEEDED"
    assert job.error["retry_after"] == 3600.0
    assert delays == []


def test_configuration_error_in_action_stops_the_run(recipe, world, store):
    from engine.errors import ConfigurationError

    world.fail_next("upsert", ConfigurationError("the access token expired; configure a login"))

    with pytest.raises(ConfigurationError):
        make_run(recipe, world, store).poll_and_run()

    assert store.list_jobs()[0].status is JobStatus.RUNNING


COMPOSE_RECIPE = """
name: compose
trigger: {connector: memory, event: new_records, input: {object: orders}}
steps:
  - id: line_records
    for_each: "{{ trigger.lines }}"
    as: line
    steps:
      - id: record
        compose:
          line_id: "{{ trigger.id }}-{{ loop.number }}"
          tax: "{{ line.tax | decimal }}"
  - id: save
    action: memory.upsert
    input:
      object: batches
      external_id_field: order_id
      record:
        order_id: "{{ trigger.id }}"
        lines: "{{ line_records | map(attribute='record') | list }}"
"""


def test_compose_builds_records_without_calls(tmp_path, world, store):
    recipe = make_recipe(tmp_path, COMPOSE_RECIPE)

    job = make_run(recipe, world, store).poll_and_run().jobs[0]

    assert job.status is JobStatus.SUCCEEDED
    assert world.records["batches"][0]["lines"] == [{"line_id": "1001-1", "tax": Decimal("1.10")}, {"line_id": "1001-2", "tax": Decimal("0.20")}]
    assert [call.action for call in world.calls] == ["poll:new_records", "upsert"]
    composed = next(step for step in store.steps(job.id) if step.path == "line_records[1].record")
    assert composed.output == {"line_id": "1001-2", "tax": Decimal("0.20")}


RETRY_RECIPE = """
name: invoices
trigger: {connector: memory, event: new_records, input: {object: payments}}
steps:
  - id: order
    action: memory.find
    input: {object: sales_orders, where: {order_id: "{{ trigger.order_id }}"}}
  - id: not_synced_yet
    if: "{{ order.count == 0 }}"
    stop: retry
    retry_after: 10m
    give_up_after: 1h
    reason: "sales order {{ trigger.order_id }} not in the ERP yet"
  - id: invoice
    action: memory.upsert
    input: {object: invoices, external_id_field: order_id, record: {order_id: "{{ trigger.order_id }}"}}
"""


def test_retry_stop_sets_job_aside_until_due(tmp_path, store):
    recipe = make_recipe(tmp_path, RETRY_RECIPE)
    world = World()
    world.add("payments", {"id": 1, "order_id": 7})

    job = make_run(recipe, world, store).poll_and_run().jobs[0]

    assert job.status is JobStatus.WAITING
    assert job.reason == "sales order 7 not in the ERP yet"
    assert store.steps(job.id) == []
    assert make_run(recipe, world, store).poll_and_run().jobs == []


def test_due_waiting_job_runs_again_afresh(tmp_path, store):
    recipe = make_recipe(tmp_path, RETRY_RECIPE)
    world = World()
    world.add("payments", {"id": 1, "order_id": 7})
    waiting = make_run(recipe, world, store).poll_and_run().jobs[0]
    world.add("sales_orders", {"order_id": 7})
    store._connection.execute("UPDATE jobs SET not_before = '2000-01-01T00:00:00.000+00:00' WHERE id = ?", (waiting.id,))

    summary = make_run(recipe, world, store).poll_and_run()

    assert [(job.id, job.status) for job in summary.jobs] == [(waiting.id, JobStatus.SUCCEEDED)]
    assert world.records["invoices"][0]["order_id"] == 7


def test_retry_gives_up_after_limit(tmp_path, store):
    recipe = make_recipe(tmp_path, RETRY_RECIPE)
    world = World()
    world.add("payments", {"id": 1, "order_id": 7})
    waiting = make_run(recipe, world, store).poll_and_run().jobs[0]
    store._connection.execute(
        "UPDATE jobs SET not_before = '2000-01-01T00:00:00.000+00:00', created_at = '2000-01-01T00:00:00.000+00:00' WHERE id = ?", (waiting.id,)
    )

    job = make_run(recipe, world, store).poll_and_run().jobs[0]

    assert job.status is JobStatus.FAILED
    assert job.reason.startswith("gave up after waiting ")
    assert job.reason.endswith(" h: sales order 7 not in the ERP yet")


def test_unkept_succeeded_jobs_are_counted(recipe, world, store):
    world.add("orders", order(1002, customer=None))

    summary = make_run(recipe, world, store, keep_succeeded=False).poll_and_run()

    assert summary.ran == 2
    assert (summary.counts[JobStatus.SUCCEEDED], summary.counts[JobStatus.SKIPPED]) == (1, 1)
    assert [(job.event_id, job.status) for job in summary.jobs] == [("1002", JobStatus.SKIPPED)]


def test_run_records_its_poll_for_status(recipe, world, store):
    make_run(recipe, world, store).poll_and_run()

    result = store.poll_result("orders")
    assert (result.events, result.error, result.failures) == (1, None, 0)
    assert result.last_success_at == result.polled_at


def test_failed_poll_is_recorded_with_its_error(recipe, world, store):
    world.fail_next("poll:new_records", RetryableError("Salesforce is down for maintenance", code="SERVER_UNAVAILABLE", status=503))

    with pytest.raises(PollFailed):
        make_run(recipe, world, store).poll_and_run()

    result = store.poll_result("orders")
    assert (result.error, result.failures, result.last_success_at) == ("[SERVER_UNAVAILABLE, HTTP 503] Salesforce is down for maintenance", 1, None)


def test_dry_run_records_no_poll(recipe, world, store):
    make_run(recipe, world, store, dry_run=True).poll_and_run()

    assert store.poll_result("orders") is None
