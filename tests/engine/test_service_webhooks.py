"""Webhook deliveries and /healthz on the service's HTTP server, with the memory connector's HMAC signature."""

from __future__ import annotations

import json
import logging

import pytest
import requests

from connectors.testing.memory import WEBHOOK_SIGNATURE_HEADER, MemoryConnector, World, webhook_signature
from engine.errors import EventInvalid, RetryableError
from engine.webhooks import WebhookServer

from recipe_helpers import make_recipe
from service_helpers import Gate, Harness, order, upsert_recipe

SECRET = "memory_sandbox_secret"

# A cron time far from the test's clock, so only the test's own `advance` makes the recipe poll.
YEARLY = '{cron: "0 0 1 1 *", timezone: UTC}'


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {WEBHOOK_SIGNATURE_HEADER: webhook_signature(secret, body), "Content-Type": "application/json"}


def order_body(number: int) -> bytes:
    return json.dumps(order(number)).encode("utf-8")


@pytest.fixture
def world():
    return World()


@pytest.fixture
def running(tmp_path, world):
    harness = Harness(tmp_path, [upsert_recipe(tmp_path, schedule=YEARLY)], worlds={"copy-orders": world}, settings={"api_key": SECRET})
    harness.start()
    server = WebhookServer(harness.service, port=0).start()
    yield harness, server
    server.stop()
    harness.stop()


def post(server, body: bytes, headers: dict[str, str], recipe: str = "copy-orders") -> requests.Response:
    return requests.post(f"{server.url}/webhooks/{recipe}", data=body, headers=headers, timeout=5)


# The memory connector's signature --------------------------------------------------------------


def test_memory_webhook_with_valid_signature_becomes_an_event():
    connector = MemoryConnector({"api_key": SECRET})
    body = order_body(7)

    event = connector.verify_webhook({WEBHOOK_SIGNATURE_HEADER: webhook_signature(SECRET, body)}, body)

    assert (event.id, event.version, event.data) == ("7", "2026-11-02T09:00:00-05:00", order(7))


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "the webhook has no X-Memory-Hmac-Sha256 header"),
        ({WEBHOOK_SIGNATURE_HEADER: webhook_signature("another_secret", order_body(7))}, "the webhook's X-Memory-Hmac-Sha256 signature does not match its body"),
    ],
)
def test_memory_webhook_with_bad_signature_is_rejected(headers, message):
    with pytest.raises(EventInvalid) as raised:
        MemoryConnector({"api_key": SECRET}).verify_webhook(headers, order_body(7))

    assert str(raised.value) == message


def test_memory_webhook_without_api_key_is_rejected():
    body = order_body(7)

    with pytest.raises(EventInvalid, match="has no api_key"):
        MemoryConnector({}).verify_webhook({WEBHOOK_SIGNATURE_HEADER: webhook_signature(SECRET, body)}, body)


# Deliveries ------------------------------------------------------------------------------------


def test_bad_signature_gets_401_and_a_log_line_without_the_payload(running, world, caplog):
    harness, server = running
    body = json.dumps({**order(7), "note": "payload-marker-4711"}).encode("utf-8")

    with caplog.at_level(logging.INFO):
        response = post(server, body, signed(body, "another_secret"))

    assert response.status_code == 401
    assert response.json() == {"error": "the webhook signature or body is invalid"}
    assert harness.store.list_jobs("copy-orders") == []
    rejected = [record.getMessage() for record in caplog.records if record.name == "engine.webhooks"]
    assert rejected[-1].startswith("webhook recipe=copy-orders outcome=rejected reason=the webhook's X-Memory-Hmac-Sha256 signature does not match its body")
    assert not any("payload-marker-4711" in record.getMessage() for record in caplog.records)


def test_good_delivery_runs_once_when_delivered_twice_and_polled(running, world):
    harness, server = running
    body = order_body(7)

    first = post(server, body, signed(body))
    second = post(server, body, signed(body))
    assert first.status_code == 200
    assert first.json() == {"status": "accepted", "job": 1}
    assert second.status_code == 200
    assert second.json() == {"status": "duplicate", "job": 1}
    assert harness.service.wait_until_idle()

    world.add("orders", order(7))
    harness.clock.set(harness.clock.now().replace(year=2027, month=1, day=1, hour=0, minute=0, second=0))
    harness.settle()

    assert harness.store.poll_result("copy-orders").events == 0
    assert [(job.event_label, job.status.value) for job in harness.store.list_jobs("copy-orders")] == [("7@2026-11-02T09:00:00-05:00", "succeeded")]
    assert [inputs["record"]["order_id"] for inputs in world.calls_of("upsert")] == [7]


def test_delivery_is_answered_while_its_job_runs_in_the_background(tmp_path, world):
    gate = Gate(7)
    harness = Harness(tmp_path, [upsert_recipe(tmp_path, schedule=YEARLY)], worlds={"copy-orders": world}, gate=gate, settings={"api_key": SECRET})
    harness.start()
    server = WebhookServer(harness.service, port=0).start()
    try:
        body = order_body(7)
        response = post(server, body, signed(body))

        assert response.status_code == 200
        assert gate.blocked.wait(10)
        assert [job.status.value for job in harness.store.list_jobs("copy-orders")] == ["running"]

        gate.released.set()
        assert harness.service.wait_until_idle()
        assert [job.status.value for job in harness.store.list_jobs("copy-orders")] == ["succeeded"]
    finally:
        server.stop()
        harness.stop()


def test_unknown_recipe_gets_404(running):
    _, server = running
    body = order_body(7)

    response = post(server, body, signed(body), recipe="no-such-recipe")

    assert response.status_code == 404
    assert response.json() == {"error": "recipe 'no-such-recipe' is not running: no recipe has this name"}


def test_delivery_for_a_disabled_recipe_is_ignored(running):
    harness, server = running
    harness.store.set_enabled("copy-orders", False)
    body = order_body(7)

    response = post(server, body, signed(body))

    assert response.status_code == 200
    assert response.json() == {"status": "ignored", "reason": "the recipe is disabled; the scheduled poll picks the event up once it is enabled"}
    assert harness.store.list_jobs("copy-orders") == []


def test_delivery_without_content_length_gets_411(running):
    _, server = running

    def chunks():
        yield b"{}"

    response = requests.post(f"{server.url}/webhooks/copy-orders", data=chunks(), timeout=5)

    assert response.status_code == 411


def test_healthz_returns_the_status_document(running):
    harness, server = running

    response = requests.get(f"{server.url}/healthz", timeout=5)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    document = response.json()
    assert (document["status"], document["running"]) == ("ok", True)
    assert [(recipe["name"], recipe["health"], recipe["schedule"]) for recipe in document["recipes"]] == [("copy-orders", "healthy", "cron '0 0 1 1 *' (UTC)")]


def test_healthz_returns_503_when_a_recipe_is_unhealthy(running, world):
    harness, server = running
    world.fail_next("poll:new_records", RetryableError("Service Unavailable", status=503), times=10)
    harness.clock.advance(365 * 24 * 3600)

    response = requests.get(f"{server.url}/healthz", timeout=5)

    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"


def test_other_paths_get_404(running):
    _, server = running

    assert requests.get(f"{server.url}/", timeout=5).status_code == 404
    assert requests.post(f"{server.url}/webhooks/", data=b"{}", timeout=5).status_code == 404
    assert requests.post(f"{server.url}/webhooks/a/b", data=b"{}", timeout=5).status_code == 404


BATCH_RECIPE = """
name: batch-orders
trigger:
  connector: memory
  event: new_records
  input: {object: orders}
  schedule: {cron: "0 0 1 1 *", timezone: UTC}
  batch: true
steps:
  - id: copy
    action: memory.create
    input:
      object: batches
      record:
        orders: "{{ trigger.events | map(attribute='id') | list }}"
"""


def test_delivery_to_a_batch_recipe_runs_a_batch_of_one(tmp_path, world):
    folder = tmp_path / "batch-orders"
    folder.mkdir()
    harness = Harness(tmp_path, [make_recipe(folder, BATCH_RECIPE)], worlds={"batch-orders": world}, settings={"api_key": SECRET})
    harness.start()
    server = WebhookServer(harness.service, port=0).start()
    try:
        body = order_body(7)
        answer = post(server, body, signed(body), recipe="batch-orders")
        assert harness.service.wait_until_idle()
        [job] = harness.store.list_jobs("batch-orders")
    finally:
        server.stop()
        harness.stop()

    assert answer.json() == {"status": "accepted", "job": 1}
    assert (job.status.value, job.event_version, job.event["count"]) == ("succeeded", "1 events", 1)
    assert [record["orders"] for record in world.records["batches"]] == [[7]]
