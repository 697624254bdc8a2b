"""`recipe status`, `enable`, `disable`, the health rule, the start checks and the JSON log format."""

from __future__ import annotations

import io
import json
import logging
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from engine.cli import cli
from engine.connector import Event
from engine.logs import fields, logging_to
from engine.registry import Registry
from engine.schedule import Cron, Interval
from engine.status import assess_health
from engine.store import JobStatus, SQLiteStore, iso_utc

from service_helpers import write_upsert_recipe

NOON = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, registry: Registry) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("RECIPE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setattr("engine.cli.Registry", lambda: registry)


@pytest.fixture
def recipes(tmp_path: Path) -> Path:
    folder = tmp_path / "recipes"
    folder.mkdir()
    write_upsert_recipe(folder)
    return folder


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


def invoke(state_dir: Path, *arguments: str) -> Result:
    return CliRunner().invoke(cli, ["--state-dir", str(state_dir), *arguments], prog_name="recipe")


# The health rule -------------------------------------------------------------------------------


def test_recent_success_is_healthy():
    assert assess_health(Interval(30), NOON - timedelta(seconds=40), None, NOON, 600) == ("healthy", None)


def test_overdue_poll_is_unhealthy():
    health, reason = assess_health(Interval(30), NOON - timedelta(minutes=20), None, NOON, 600)

    assert health == "unhealthy"
    assert reason == "no successful poll since 2026-11-02T11:40:00.000+00:00; a poll was due at 2026-11-02T11:40:30.000+00:00, 1170s ago"


def test_nightly_cron_is_healthy_all_day():
    last_night = datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc)

    assert assess_health(Cron("0 2 * * *", "Europe/Berlin"), last_night, None, NOON + timedelta(hours=11), 900) == ("healthy", None)


def test_health_counts_from_a_later_service_start():
    long_ago = NOON - timedelta(days=3)

    assert assess_health(Interval(30), long_ago, NOON - timedelta(minutes=1), NOON, 600) == ("healthy", None)


def test_health_without_success_or_start_is_unknown():
    assert assess_health(Interval(30), None, None, NOON, 600) == ("unknown", "no successful poll recorded, and the service is not running")


# recipe status --------------------------------------------------------------------------------


def test_status_shows_each_fact_of_a_recipe(state_dir, recipes):
    store = SQLiteStore(state_dir / "recipe.db")
    polled = iso_utc(datetime.now(timezone.utc) - timedelta(seconds=10))
    jobs = store.enqueue("copy-orders", "abc", [Event(1, "v1", {}), Event(2, "v1", {}), Event(3, "v1", {})], 3)
    store.finish_job(jobs[0].id, JobStatus.SUCCEEDED, None, None, 1)
    store.finish_job(jobs[1].id, JobStatus.FAILED, None, {"message": "REQUIRED_FIELD_MISSING: Name"}, 1)
    store.record_poll("copy-orders", polled, 3, 0, None)
    failed_at = store.get_job(jobs[1].id).finished_at
    store.close()

    result = invoke(state_dir, "status", str(recipes))

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"service: not running on {state_dir}",
        "",
        "copy-orders: enabled, healthy",
        "  schedule      every 30s",
        f"  last poll     {polled}: ok, 3 new event(s)",
        f"  last success  {polled}",
        "  cursor        3",
        "  waiting       1 job(s) in the store, 0 event(s) at the source",
        "  last hour     1 succeeded, 0 skipped, 1 failed",
        f"  last error    {failed_at} job 2 (event 2@v1): REQUIRED_FIELD_MISSING: Name",
    ]


def test_status_of_a_failing_recipe_is_unhealthy_with_exit_1(state_dir, recipes):
    store = SQLiteStore(state_dir / "recipe.db")
    store.record_poll("copy-orders", iso_utc(datetime.now(timezone.utc) - timedelta(hours=2)), 0, 0, None)
    store.record_poll("copy-orders", iso_utc(datetime.now(timezone.utc) - timedelta(minutes=1)), 0, None, "[HTTP 503] Service Unavailable")
    store.close()

    result = invoke(state_dir, "status", "--json", str(recipes))

    assert result.exit_code == 1
    document = json.loads(result.stdout)
    recipe = document["recipes"][0]
    assert (document["status"], document["running"], recipe["health"]) == ("unhealthy", False, "unhealthy")
    assert recipe["last_poll"] == "failed (1 in a row): [HTTP 503] Service Unavailable"
    assert recipe["health_reason"].startswith("no successful poll since ")


def test_status_of_a_fresh_state_directory_creates_nothing(state_dir, recipes):
    result = invoke(state_dir, "status", str(recipes))

    assert result.exit_code == 0
    assert "  last poll     never" in result.stdout.splitlines()
    assert not state_dir.exists()


# recipe enable / disable ----------------------------------------------------------------------


def test_disable_is_stored_and_shown_by_status(state_dir, recipes):
    disabled = invoke(state_dir, "disable", "copy-orders", "--recipes", str(recipes))

    assert disabled.exit_code == 0
    assert disabled.stdout == "recipe copy-orders disabled; a running service stops polling it within 5s (`recipe enable copy-orders` undoes this)\n"
    changed_at = SQLiteStore(state_dir / "recipe.db").enabled_switches()["copy-orders"][1]
    status = invoke(state_dir, "status", str(recipes))
    assert status.stdout.splitlines()[2] == f"copy-orders: disabled by `recipe disable` at {changed_at}, disabled"


def test_enable_undoes_disable(state_dir, recipes):
    invoke(state_dir, "disable", "copy-orders", "--recipes", str(recipes))

    enabled = invoke(state_dir, "enable", "copy-orders", "--recipes", str(recipes))

    assert enabled.exit_code == 0
    assert enabled.stdout == "recipe copy-orders enabled; a running service resumes polling it within 5s\n"
    assert SQLiteStore(state_dir / "recipe.db").enabled_switches()["copy-orders"][0] is True


def test_enable_notes_a_recipe_disabled_in_its_file(state_dir, recipes):
    path = recipes / "copy-orders.yaml"
    path.write_text("enabled: false\n" + path.read_text(encoding="utf-8"), encoding="utf-8")

    enabled = invoke(state_dir, "enable", "copy-orders", "--recipes", str(recipes))

    assert enabled.exit_code == 0
    assert enabled.stderr == f"note: {path} sets `enabled: false`, so the recipe stays disabled until that line changes and the service restarts\n"


def test_disable_of_an_unknown_recipe_is_a_usage_error(state_dir, recipes):
    result = invoke(state_dir, "disable", "copy-ordrs", "--recipes", str(recipes))

    assert result.exit_code == 2
    assert result.stderr == f"error: no recipe named 'copy-ordrs' in {recipes} or in the store; recipes found: copy-orders. Pass the folder with --recipes\n"


# recipe start checks ---------------------------------------------------------------------------


def test_start_refuses_an_invalid_recipe_with_validate_messages(state_dir, recipes):
    bad = recipes / "bad.yaml"
    bad.write_text("name: Bad\ntrigger: {connector: memory, event: new_records, input: {object: orders}}\nsteps: []\n", encoding="utf-8")

    result = invoke(state_dir, "start", "--port", "0", str(recipes))
    validated = invoke(state_dir, "validate", str(recipes))

    assert result.exit_code == 3
    assert result.stdout == validated.stdout
    assert result.stderr == "2 problem(s) in 1 file(s); nothing was started\n"
    assert not (state_dir / "service.lock").exists()


def test_start_refuses_two_recipes_with_one_name(state_dir, recipes):
    copy = recipes / "copy-orders-again.yaml"
    copy.write_text((recipes / "copy-orders.yaml").read_text(encoding="utf-8"), encoding="utf-8")

    result = invoke(state_dir, "start", "--port", "0", str(recipes))

    assert result.exit_code == 3
    assert result.stdout == (
        f"{recipes / 'copy-orders.yaml'}:2:7: recipe name 'copy-orders' is also used by {copy}; jobs are stored by name, so names must be unique\n"
    )


# Logs ------------------------------------------------------------------------------------------


def test_json_log_line_carries_the_extra_fields():
    stream = io.StringIO()

    with logging_to("json", logging.INFO, stream):
        logging.getLogger("engine.service").info("job recipe=%s outcome=%s", "copy-orders", "succeeded", extra=fields(recipe="copy-orders", job_id=4, event_id="7@v1", outcome="succeeded", error=None))

    document = json.loads(stream.getvalue())
    assert set(document) == {"time", "level", "logger", "message", "recipe", "job_id", "event_id", "outcome"}
    assert (document["level"], document["logger"], document["message"]) == ("info", "engine.service", "job recipe=copy-orders outcome=succeeded")
    assert (document["recipe"], document["job_id"], document["event_id"], document["outcome"]) == ("copy-orders", 4, "7@v1", "succeeded")


def test_logging_is_restored_after_the_service_logs():
    root = logging.getLogger()
    before = (list(root.handlers), root.level)

    with logging_to("text", logging.DEBUG, io.StringIO()):
        pass

    assert (list(root.handlers), root.level) == before
