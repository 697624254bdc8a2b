"""Command line: `python -m bench SCENARIO [--orders N] [--profile NAME] [--runs K] [--contenders LIST] [--service]`.

Prints a JSON result and writes it to bench/results/SCENARIO-PROFILE-N-TIMESTAMP.json. With
several runs, each figure of each contender is also given as the median of the runs. The
backfill takes `--kill-at SHARE` (the kill-and-restart check) or `--dry-run` (the timed dry run
of the plan) in place of the comparison. Their files are named backfill-restart-… and
backfill-dry-run-…. With `--service`, the comparison runs ours through the service, as `recipe
start` does, and its file is named backfill-service-….
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.profiles import PROFILES

__all__ = ["main"]

log = logging.getLogger(__name__)

RESULTS = Path(__file__).resolve().parent / "results"
SCENARIOS = ("calls", "backfill", "stock", "overhead", "polling")
CONTENDERS = ("ours", "tuned", "naive")
DEFAULT_SIZES = {"calls": 0, "backfill": 10_000, "stock": 5_000, "overhead": 2_000, "polling": 200}


def _machine() -> dict[str, Any]:
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        memory_kb = int(meminfo.readline().split()[1])
    return {"cores": os.cpu_count(), "memory_gib": round(memory_kb / 2**20, 1), "python": platform.python_version(), "platform": platform.platform()}


def _medians(runs: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Median of every numeric top-level figure, per contender, over the runs."""
    medians = []
    for index, first in enumerate(runs[0]):
        row: dict[str, Any] = {"contender": first.get("contender")}
        for key, value in first.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                row[key] = statistics.median(run[index][key] for run in runs)
        medians.append(row)
    return medians


def _ratios(medians: list[dict[str, Any]]) -> dict[str, Any]:
    ours = next((row for row in medians if row["contender"] == "ours"), None)
    if ours is None:
        return {}
    ratios = {}
    for row in medians:
        if row["contender"] == "ours":
            continue
        ratios[f"ours/{row['contender']}"] = {
            key: round(ours[key] / row[key], 3) for key in ("wall_seconds", "cpu_seconds", "salesforce_total", "shopify_total", "peak_rss_mb") if row.get(key)
        }
    return ratios


def _repeated(runs: int, once: Any) -> dict[str, Any]:
    all_runs = [once() for _ in range(runs)]
    medians = _medians(all_runs)
    return {"runs": all_runs, "medians": medians, "ratios": _ratios(medians)}


def run(
    scenario: str,
    orders: int,
    profile: str,
    runs: int,
    contenders: tuple[str, ...] | None = None,
    kill_at: float | None = None,
    dry_run: bool = False,
    service: bool = False,
) -> dict[str, Any]:
    started = datetime.now(timezone.utc)
    if scenario == "calls":
        from bench.calls import count_calls

        figures: Any = [count.as_dict() for count in count_calls(profile)]
        result = {"results": figures}
    elif scenario == "stock":
        from bench.stock import CONTENDERS as STOCK, run_stock

        result = _repeated(runs, lambda: run_stock(orders, profile, contenders or STOCK))
    elif scenario == "overhead":
        from bench.overhead import run_overhead

        result = _repeated(runs, lambda: run_overhead(orders, profile))
    elif scenario == "polling":
        from bench.polling import run_polling

        result = _repeated(runs, lambda: [run_polling(orders, profile)])
    elif kill_at is not None:
        from bench.restart import run_restart

        result = _repeated(runs, lambda: [run_restart(orders, profile, kill_at)])
    elif dry_run:
        from bench.backfill import run_dry_run

        result = _repeated(runs, lambda: [run_dry_run(orders, profile)])
    else:
        from bench.backfill import CONTENDERS as BACKFILL, run_backfill

        all_runs = [run_backfill(orders, profile, contenders or BACKFILL, service) for _ in range(runs)]
        medians = _medians(all_runs)
        result = {"runs": all_runs, "medians": medians, "ratios": _ratios(medians)}
    return {"scenario": scenario, "profile": profile, "orders": orders, "runs": runs, "started": started.isoformat(), "machine": _machine(), **result}


def _check_comparison_options(parser: argparse.ArgumentParser, arguments: argparse.Namespace) -> None:
    """Reject `--service` and `--contenders` where no comparison of contenders runs, and unknown contender names."""
    comparison = arguments.scenario == "backfill" and arguments.kill_at is None and not arguments.dry_run
    if arguments.service and not comparison:
        parser.error("--service applies to the backfill comparison only, without --kill-at or --dry-run")
    if arguments.contenders is None:
        return
    if not (comparison or arguments.scenario == "stock"):
        parser.error("--contenders applies to stock and to the backfill comparison only")
    unknown = [name for name in arguments.contenders.split(",") if name not in CONTENDERS]
    if unknown:
        parser.error(f"--contenders: unknown contender(s) {', '.join(unknown)}; choose from {','.join(CONTENDERS)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Run one benchmark scenario against the loopback sandboxes.")
    parser.add_argument("scenario", choices=SCENARIOS, help="calls (scenario 2), backfill (1), stock (3), overhead (4), polling (5)")
    parser.add_argument("--orders", type=int, default=None, help="scenario size: orders for the backfill (default 10000), changed items for stock (default 5000), jobs for overhead (default 2000), burst orders for polling (default 200)")
    parser.add_argument("--contenders", default=None, help="comma-separated subset of ours,tuned,naive (stock, and backfill without --kill-at or --dry-run)")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="typical", help="latency profile of both sandboxes (default typical)")
    parser.add_argument("--runs", type=int, default=3, help="runs whose medians are reported (default 3)")
    parser.add_argument("--kill-at", type=float, default=None, metavar="SHARE",
                        help="backfill only: run the recipe in a child process, SIGKILL it once this share of its jobs (0 to 1, exclusive) has finished, restart it, and check the org")
    parser.add_argument("--dry-run", action="store_true", help="backfill only: time a dry run of the whole plan (no writes) instead of the comparison")
    parser.add_argument("--service", action="store_true",
                        help="backfill only: run ours through the service, as `recipe start` does (the recipe's `concurrency` jobs at once, 16 as shipped), instead of one job at a time")
    arguments = parser.parse_args(argv)
    if (arguments.kill_at is not None or arguments.dry_run) and arguments.scenario != "backfill":
        parser.error("--kill-at and --dry-run apply to the backfill scenario only")
    if arguments.kill_at is not None and arguments.dry_run:
        parser.error("--kill-at and --dry-run are separate runs; give one of them")
    if arguments.kill_at is not None and not 0 < arguments.kill_at < 1:
        parser.error(f"--kill-at is a share between 0 and 1, exclusive, such as 0.5; got {arguments.kill_at}")
    _check_comparison_options(parser, arguments)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    size = arguments.orders if arguments.orders is not None else DEFAULT_SIZES[arguments.scenario]
    contenders = tuple(arguments.contenders.split(",")) if arguments.contenders else None
    result = run(arguments.scenario, size, arguments.profile, arguments.runs, contenders, arguments.kill_at, arguments.dry_run, arguments.service)
    text = json.dumps(result, indent=2, default=str)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    mode = ""
    if arguments.kill_at is not None:
        mode = "-restart"
    elif arguments.dry_run:
        mode = "-dry-run"
    elif arguments.service:
        mode = "-service"
    target = RESULTS / f"{arguments.scenario}{mode}-{arguments.profile}-{size}-{stamp}.json"
    target.write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(text + "\n")
    sys.stderr.write(f"result written to {target}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
