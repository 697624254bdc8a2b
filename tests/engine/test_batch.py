"""Batch triggers: one job per poll page, with the page's events as `trigger.events`."""

from __future__ import annotations

import pytest

from connectors.testing.memory import World
from engine.batch import BATCH_KEY, batch_event
from engine.connector import Event
from engine.store import JobStatus, SQLiteStore

from recipe_helpers import make_recipe, make_run

STOCK_RECIPE = """
name: stock
trigger:
  connector: memory
  event: new_records
  input: {object: items}
  when: "{{ trigger.sku }}"
  batch: true
  batch_size: 3
steps:
  - id: lines
    for_each: "{{ trigger.events }}"
    as: item
    steps:
      - id: line
        compose: {sku: "{{ item.sku }}", quantity: "{{ item.quantity }}"}
  - id: push
    action: memory.create
    input:
      object: pushes
      record:
        count: "{{ trigger.count }}"
        lines: "{{ lines | map(attribute='line') | list }}"
"""


def item(number, sku, quantity):
    return {"id": number, "updated_at": "2026-11-02T09:15:00-05:00", "sku": sku, "quantity": quantity}


@pytest.fixture
def store():
    store = SQLiteStore(":memory:")
    yield store
    store.close()


@pytest.fixture
def recipe(tmp_path):
    return make_recipe(tmp_path, STOCK_RECIPE)


@pytest.fixture
def world():
    world = World()
    for number, (sku, quantity) in enumerate([("A", 1), ("B", 2), (None, 9), ("C", 3), ("D", 4)], start=1):
        world.add("items", item(number, sku, quantity))
    return world


def test_each_poll_page_becomes_one_job_of_its_matching_events(recipe, world, store):
    summary = make_run(recipe, world, store).poll_and_run()

    assert [job.status for job in summary.jobs] == [JobStatus.SUCCEEDED, JobStatus.SUCCEEDED]
    # Pages of 3: A, B and the item without a SKU (left out by the condition), then C and D.
    assert [(push["count"], push["lines"]) for push in world.records["pushes"]] == [
        (2, [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 2}]),
        (2, [{"sku": "C", "quantity": 3}, {"sku": "D", "quantity": 4}]),
    ]
    assert [(job.event_version, job.event_key) for job in summary.jobs] == [("2 events", BATCH_KEY), ("2 events", BATCH_KEY)]


def test_batch_id_names_its_events_whatever_their_order():
    first = Event(id="1", version="v1", data={"sku": "A"})
    second = Event(id="2", version="v1", data={"sku": "B"})

    batch = batch_event([first, second])

    assert batch.id == batch_event([second, first]).id
    assert batch.id != batch_event([first, Event(id="2", version="v2", data={"sku": "B"})]).id
    assert batch.id.startswith("batch-")
    assert len(batch.id) == len("batch-") + 20
    assert batch.data == {"events": [{"sku": "A"}, {"sku": "B"}], "count": 2}


def test_same_page_polled_again_runs_once(recipe, world, store):
    make_run(recipe, world, store).poll_and_run()
    # A crash before the cursor was saved makes the next poll see the same pages again.
    store.set_cursor("stock", None)

    summary = make_run(recipe, world, store).poll_and_run()

    assert summary.jobs == []
    assert len(summary.already_done) == 2
    assert len(world.records["pushes"]) == 2


def test_page_with_no_matching_event_makes_no_job(recipe, store):
    world = World()
    world.add("items", item(1, None, 5))

    summary = make_run(recipe, world, store).poll_and_run()

    assert summary.jobs == []
    assert summary.filtered == 1
    assert "pushes" not in world.records


def test_given_event_list_runs_as_one_batch(recipe, world, store):
    summary = make_run(recipe, world, store).run_event([item(7, "E", 5), item(8, "F", 6)])

    [job] = summary.jobs
    assert job.status is JobStatus.SUCCEEDED
    assert world.records["pushes"][0]["lines"] == [{"sku": "E", "quantity": 5}, {"sku": "F", "quantity": 6}]


def test_given_single_event_is_a_batch_of_one(recipe, world, store):
    summary = make_run(recipe, world, store).run_event(item(7, "E", 5))

    assert store.get_job(summary.jobs[0].id).event["count"] == 1
    assert world.records["pushes"][0]["lines"] == [{"sku": "E", "quantity": 5}]


def test_replayed_batch_runs_the_same_events(recipe, world, store):
    first = make_run(recipe, world, store).poll_and_run().jobs[0]

    replay = make_run(recipe, world, store).replay(first.id).jobs[0]

    assert replay.status is JobStatus.SUCCEEDED
    assert world.records["pushes"][2]["lines"] == world.records["pushes"][0]["lines"]
