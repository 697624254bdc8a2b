"""The backfill in a process of its own, as `python -m bench.memory` runs it, at 40 generated orders.

Only the figures' presence and the org's contents are asserted; memory and time are not.
"""

from __future__ import annotations

from bench.memory import run_memory


def test_memory_run_reports_peak_and_clean_check():
    result = run_memory(40)

    assert result["exit_code"] == 0
    assert result["job_statuses"] == {"skipped": 2, "succeeded": 64}
    assert result["peak_rss_mb"] > 0
    assert result["check"] == {
        "orders_expected": 61,
        "orders_lost": 0,
        "orders_duplicated": 0,
        "lines_lost": 0,
        "lines_duplicated": 0,
        "wrong_totals": 0,
    }
