"""When the service polls: schedule times, backoff after failures, driven by a ManualClock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from connectors.testing.memory import World
from engine.errors import RetryableError
from engine.schedule import Cron, Interval
from engine.scheduler import ManualClock, PollTimer

from service_helpers import START, Harness, order, upsert_recipe


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


# PollTimer -------------------------------------------------------------------------------------


def test_interval_first_poll_is_at_start():
    assert PollTimer(Interval(30)).first(START) == START


def test_cron_first_poll_waits_for_its_time():
    timer = PollTimer(Cron("0 9 * * *", "Europe/Berlin"))

    assert timer.first(utc("2026-11-02T07:00:00+00:00")) == utc("2026-11-02T08:00:00+00:00")


def test_interval_next_poll_follows_the_due_time():
    timer = PollTimer(Interval(30))
    due = utc("2026-11-02T10:00:00+00:00")

    assert timer.after_success(due, due + timedelta(seconds=2)) == utc("2026-11-02T10:00:30+00:00")


def test_late_poll_skips_missed_times_instead_of_bursting():
    timer = PollTimer(Interval(30))
    due = utc("2026-11-02T10:00:00+00:00")

    assert timer.after_success(due, utc("2026-11-02T10:02:05+00:00")) == utc("2026-11-02T10:02:35+00:00")


def test_cron_next_poll_in_its_time_zone():
    timer = PollTimer(Cron("*/15 8-18 * * 1-5", "Europe/Berlin"))
    due = utc("2026-11-02T17:45:00+00:00")   # 18:45 in Berlin, the last slot of Monday

    assert timer.after_success(due, due) == utc("2026-11-03T07:00:00+00:00")


@pytest.mark.parametrize(("failures", "seconds"), [(1, 5), (2, 10), (3, 20), (4, 40), (7, 300), (20, 300)])
def test_backoff_grows_and_is_capped(failures, seconds):
    assert PollTimer(Interval(30), initial=5, maximum=300).backoff(failures) == seconds


def test_backoff_waits_at_least_retry_after():
    assert PollTimer(Interval(30), initial=5, maximum=300).backoff(1, retry_after=42) == 42


# ManualClock -----------------------------------------------------------------------------------


def test_manual_clock_refuses_to_go_back():
    clock = ManualClock(START)

    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(START - timedelta(seconds=1))


# The service on a ManualClock ------------------------------------------------------------------


@pytest.fixture
def harnesses():
    started = []
    yield started
    for harness in started:
        harness.stop()


def test_interval_recipe_polls_at_start_and_every_interval(tmp_path, harnesses):
    harness = Harness(tmp_path, [upsert_recipe(tmp_path, schedule="every 30s")])
    harnesses.append(harness.start())
    harness.settle()

    harness.advance(29)
    assert harness.poll_times["copy-orders"] == [START]

    harness.advance(1)
    harness.advance(30)
    assert harness.poll_times["copy-orders"] == [START, START + timedelta(seconds=30), START + timedelta(seconds=60)]


def test_cron_recipe_polls_only_at_cron_times(tmp_path, harnesses):
    recipe = upsert_recipe(tmp_path, schedule='{cron: "0 9 * * *", timezone: Europe/Berlin}')
    clock = ManualClock(utc("2026-11-02T07:00:00+00:00"))
    harness = Harness(tmp_path, [recipe], clock=clock)
    harnesses.append(harness.start())
    harness.settle()

    harness.advance(3599)
    assert harness.poll_times["copy-orders"] == []

    harness.advance(1)
    harness.advance(24 * 3600)
    assert harness.poll_times["copy-orders"] == [utc("2026-11-02T08:00:00+00:00"), utc("2026-11-03T08:00:00+00:00")]


def test_poll_jobs_run_before_settling(tmp_path, harnesses):
    world = World()
    world.add("orders", order(1))
    harness = Harness(tmp_path, [upsert_recipe(tmp_path)], worlds={"copy-orders": world})
    harnesses.append(harness.start())
    harness.settle()

    world.add("orders", order(2))
    harness.advance(30)

    assert [record["order_id"] for record in world.records["copies"]] == [1, 2]


def test_failed_polls_back_off_with_growing_delays(tmp_path, harnesses):
    world = World()
    world.fail_next("poll:new_records", RetryableError("Service Unavailable", status=503), times=3)
    harness = Harness(tmp_path, [upsert_recipe(tmp_path)], worlds={"copy-orders": world})
    harnesses.append(harness.start())
    harness.settle()

    for seconds in (5, 10, 20):
        harness.advance(seconds)

    times = harness.poll_times["copy-orders"]
    assert [(time - START).total_seconds() for time in times] == [0, 5, 15, 35]
    result = harness.store.poll_result("copy-orders")
    assert result.succeeded is True
    assert result.failures == 0
    assert result.last_error == "[HTTP 503] Service Unavailable"


def test_poll_honours_long_retry_after(tmp_path, harnesses):
    world = World()
    world.fail_next("poll:new_records", RetryableError("Too Many Requests", status=429, retry_after=40))
    harness = Harness(tmp_path, [upsert_recipe(tmp_path)], worlds={"copy-orders": world})
    harnesses.append(harness.start())
    harness.settle()

    harness.advance(39)
    assert len(harness.poll_times["copy-orders"]) == 1

    harness.advance(1)
    assert [(time - START).total_seconds() for time in harness.poll_times["copy-orders"]] == [0, 40]
