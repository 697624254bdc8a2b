"""The backfill killed halfway and restarted, and the timed dry run of its plan, at 40 generated orders.

Both run at the `zero` profile. Only counts and the org's contents are asserted, never times.
"""

from __future__ import annotations

import signal
from typing import Any

import pytest

from bench.__main__ import main
from bench.backfill import run_dry_run
from bench.restart import run_restart

# 40 generated orders plus the 26 seeded ones, all created after the backfill's start. The
# check counts the 61 orders both baselines copy, which leaves out 3 guest orders and the 2 skipped.
ORDERS = 40
JOBS = 66
CHECKED_ORDERS = 61


@pytest.fixture(scope="module")
def restart() -> dict[str, Any]:
    return run_restart(ORDERS, "zero", kill_at=0.5)


@pytest.fixture(scope="module")
def dry_run() -> dict[str, Any]:
    return run_dry_run(ORDERS, "zero")


def test_restart_loses_and_duplicates_nothing(restart: dict[str, Any]) -> None:
    assert restart["check"] == {
        "orders_expected": CHECKED_ORDERS,
        "orders_lost": 0,
        "orders_duplicated": 0,
        "lines_lost": 0,
        "lines_duplicated": 0,
        "wrong_totals": 0,
    }
    assert restart["check_failures"] == 0


def test_first_process_is_killed_by_sigkill(restart: dict[str, Any]) -> None:
    assert restart["first_process"]["killed"] is True
    assert restart["first_process"]["exit_code"] == -signal.SIGKILL
    # A killed child never writes its figures, so its entry has only what the parent measured.
    assert "jobs" not in restart["first_process"]


def test_first_process_leaves_jobs_for_second(restart: dict[str, Any]) -> None:
    finished = restart["jobs_finished_by_first"]
    assert restart["jobs_expected"] == JOBS
    assert restart["kill_threshold_jobs"] == 33
    assert 33 <= finished < JOBS
    assert restart["jobs_left_for_second"] == JOBS - finished


def test_second_process_resumes_every_unfinished_job(restart: dict[str, Any]) -> None:
    at_kill = restart["first_process"]["job_statuses_at_kill"]
    unfinished = sum(count for status, count in at_kill.items() if status in ("pending", "running", "waiting"))
    assert restart["second_process"]["exit_code"] == 0
    assert restart["second_process"]["jobs_unfinished_at_start"] == unfinished
    assert restart["jobs_resumed_by_second"] == unfinished


def test_every_order_ends_with_one_finished_job(restart: dict[str, Any]) -> None:
    assert restart["job_statuses"] == {"skipped": 2, "succeeded": 64}


def test_restart_repeats_at_most_one_save(restart: dict[str, Any]) -> None:
    # Only one job runs at a time. If the kill lands after its graph request and before its step
    # record, the resumed job sends that graph again, which is the one repeat allowed.
    graphs = restart["salesforce_calls"]["POST composite.graph"]
    assert 64 <= graphs <= 65


def test_restart_rejects_share_outside_zero_to_one() -> None:
    with pytest.raises(ValueError, match="kill_at must be a share between 0 and 1"):
        run_restart(ORDERS, "zero", kill_at=1.0)


def test_dry_run_plans_every_job(dry_run: dict[str, Any]) -> None:
    assert dry_run["jobs_planned"] == JOBS
    assert dry_run["job_statuses"] == {"skipped": 2, "succeeded": 64}
    assert dry_run["planned_writes"] == 64
    assert dry_run["planned_writes_by_action"] == {"salesforce.save_tree": 64}


def test_dry_run_only_reads(dry_run: dict[str, Any]) -> None:
    assert dry_run["salesforce_calls"] == {"POST composite": 64}
    assert dry_run["shopify_calls"] == {"GET /admin/api/{version}/orders.json": 1}


def test_dry_run_leaves_org_unchanged(dry_run: dict[str, Any]) -> None:
    assert dry_run["org_records_after"] == dry_run["org_records_before"]
    assert dry_run["org_records_changed"] == {}
    assert dry_run["org_unchanged"] is True


def test_dry_run_reports_wall_and_cpu_time(dry_run: dict[str, Any]) -> None:
    assert dry_run["wall_seconds"] > 0
    assert dry_run["cpu_seconds"] > 0


@pytest.mark.parametrize(
    "arguments",
    [
        ["stock", "--dry-run"],
        ["backfill", "--kill-at", "0.5", "--dry-run"],
        ["backfill", "--kill-at", "1.5"],
    ],
)
def test_command_line_rejects_invalid_restart_options(arguments: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
