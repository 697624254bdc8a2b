"""The backfill comparison with ours run through the service, as `recipe start` runs it, at 40 generated orders.

It runs at the `zero` profile with 16 jobs at once. Only counts and the org's contents are
asserted, never times.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.__main__ import main
from bench.backfill import run_backfill

# 40 generated orders plus the 26 seeded ones, all created after the backfill's start. The
# check counts the 61 orders both baselines copy, which leaves out 3 guest orders and the 2 skipped.
ORDERS = 40
SYNCED = 64
CHECKED_ORDERS = 61


@pytest.fixture(scope="module")
def ours() -> dict[str, Any]:
    [result] = run_backfill(ORDERS, "zero", ("ours",), service=True)
    return result


def test_service_run_loses_nothing(ours: dict[str, Any]) -> None:
    assert ours["check"] == {
        "orders_expected": CHECKED_ORDERS,
        "orders_lost": 0,
        "orders_duplicated": 0,
        "lines_lost": 0,
        "lines_duplicated": 0,
        "wrong_totals": 0,
    }
    assert ours["items_duplicated"] == 0


def test_service_run_salesforce_calls_per_order(ours: dict[str, Any]) -> None:
    assert ours["salesforce_calls_per_order"] == 3.0
    assert ours["salesforce_calls"] == {"GET query": SYNCED, "POST composite": SYNCED, "POST composite.graph": SYNCED}


def test_service_run_polls_once(ours: dict[str, Any]) -> None:
    assert ours["shopify_calls"] == {"GET /admin/api/{version}/orders.json": 1}
    assert ours["polls"] == 1
    assert ours["failed_polls"] == 0


def test_service_run_finishes_every_job(ours: dict[str, Any]) -> None:
    assert ours["contender"] == "ours"
    assert ours["mode"] == "service"
    assert ours["concurrency"] == 16
    assert ours["job_statuses"] == {"skipped": 2, "succeeded": SYNCED}
    assert ours["orders_synced"] == SYNCED
    assert ours["drained"] is True
    assert ours["stopped_cleanly"] is True


def test_run_backfill_rejects_unknown_contender() -> None:
    with pytest.raises(ValueError, match="unknown backfill contender"):
        run_backfill(ORDERS, "zero", ("ours", "fast"))


@pytest.mark.parametrize(
    "arguments",
    [
        ["stock", "--service"],
        ["backfill", "--service", "--dry-run"],
        ["backfill", "--service", "--kill-at", "0.5"],
        ["backfill", "--contenders", "ours", "--dry-run"],
        ["polling", "--contenders", "ours"],
        ["backfill", "--contenders", "ours,fast"],
    ],
)
def test_command_line_rejects_misplaced_options(arguments: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
