"""Scenario 1's kill-and-restart check: the backfill in a child process, killed halfway, then restarted.

The parent (`run_restart`) keeps the world's sandboxes in its own process and starts the recipe
in a child with `python -m bench.restart`. The child reaches the sandboxes over their 127.0.0.1
ports with the same connection settings `BenchWorld.connectors` uses, which are plain JSON: the
Shopify base URL and access token, and the Salesforce session id with its transport routes. The
parent polls the child's SQLite job store read-only and sends SIGKILL once the share `kill_at` of
the expected jobs has finished. A second child then runs on the same store and finishes the
backfill, and the parent checks the org for lost, duplicated and wrongly totalled orders.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from engine import jsoncodec
from engine.connector import Connector
from engine.errors import ConfigurationError
from engine.registry import Registry
from engine.run import RecipeRun
from engine.store import JobStatus, SQLiteStore
from engine.validate import load_recipe

from bench.backfill import SINCE, SINCE_TEXT, check_orders
from bench.world import RECIPES, BenchWorld

__all__ = ["run_restart", "ChildRun", "main"]

log = logging.getLogger(__name__)

RECIPE = "shopify-order-to-ascent"
FINISHED = tuple(status.value for status in JobStatus if status.finished)
_REPOSITORY = Path(__file__).resolve().parents[1]


@dataclass
class ChildRun:
    """One child process: how it ended and what the sandboxes counted while it ran."""

    exit_code: int
    killed: bool
    wall_seconds: float
    salesforce_calls: Counter[str]
    shopify_calls: Counter[str]
    output: dict[str, Any]
    stderr: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "killed": self.killed,
            "wall_seconds": round(self.wall_seconds, 3),
            "salesforce_calls": dict(sorted(self.salesforce_calls.items())),
            "salesforce_total": sum(self.salesforce_calls.values()),
            "shopify_calls": dict(sorted(self.shopify_calls.items())),
            "shopify_total": sum(self.shopify_calls.values()),
            **self.output,
        }


# ----- the parent ---------------------------------------------------------------------------------


def run_restart(orders: int, profile: str, kill_at: float = 0.5, poll_seconds: float = 0.01) -> dict[str, Any]:
    """Run the backfill in a child, SIGKILL it once `kill_at` of the jobs finished, restart it, and check the org.

    `kill_at` is a share of the expected jobs (one per Shopify order created since `SINCE`), in
    (0, 1). The first child may finish a job or two after the threshold before the signal lands.
    If it finishes everything first, `first_process.killed` is False and the check covers a
    plain run. Raises RuntimeError when the second child fails to finish the backfill.
    """
    if not 0 < kill_at < 1:
        raise ValueError(f"kill_at must be a share between 0 and 1, exclusive, such as 0.5, not {kill_at}")

    with BenchWorld(profile, extra_orders=orders) as world, tempfile.TemporaryDirectory(prefix="bench-restart-") as folder:
        expected = _expected_jobs(world)
        target = max(1, math.ceil(expected * kill_at))
        paths = _ChildPaths(Path(folder))
        paths.settings.write_text(jsoncodec.dumps(_connection_settings(world)), encoding="utf-8")
        paths.settings.chmod(0o600)
        cpu_before = _children_cpu()

        with world.meter.phase() as cost:
            first = _run_child(world, paths, "first", kill_after=target, poll_seconds=poll_seconds)
            at_kill = _job_statuses(paths.store)
            second = _run_child(world, paths, "second", kill_after=None, poll_seconds=poll_seconds)
        final = _job_statuses(paths.store)

        if second.exit_code != 0:
            raise RuntimeError(f"the restarted recipe process failed with exit code {second.exit_code}. Its stderr ends:\n{second.stderr[-2000:]}")
        finished_at_kill = sum(at_kill.get(status, 0) for status in FINISHED)
        check = check_orders(world)
        result = {
            "contender": "ours",
            "kill_at": kill_at,
            "jobs_expected": expected,
            "kill_threshold_jobs": target,
            "first_process": {**first.as_dict(), "job_statuses_at_kill": at_kill, "jobs_finished": finished_at_kill},
            "second_process": second.as_dict(),
            "job_statuses": final,
            "jobs_finished_by_first": finished_at_kill,
            "jobs_left_for_second": expected - finished_at_kill,
            "jobs_resumed_by_second": second.output.get("jobs_resumed", 0),
            **cost.as_dict(),
            "salesforce_calls_per_order": round(cost.salesforce_total / max(final.get(JobStatus.SUCCEEDED.value, 0), 1), 3),
            "children_cpu_seconds": round(_children_cpu() - cpu_before, 3),
            "check": check,
            "check_failures": sum(count for name, count in check.items() if name != "orders_expected"),
        }
    log.info("backfill restart: %s", result)
    return result


@dataclass
class _ChildPaths:
    folder: Path

    @property
    def settings(self) -> Path:
        return self.folder / "connections.json"

    @property
    def store(self) -> Path:
        return self.folder / SQLiteStore.FILE_NAME

    def log(self, name: str) -> Path:
        return self.folder / f"{name}.stderr"

    def output(self, name: str) -> Path:
        return self.folder / f"{name}.json"


def _expected_jobs(world: BenchWorld) -> int:
    """Count the shop's orders created at or after `SINCE`: the trigger yields one event, so one job, for each.

    NOTE: this is true while the recipe's trigger is not a batch trigger, which would make one job of many orders.
    """
    orders = world.sandbox.shopify.state.orders.values()
    return sum(1 for order in orders if datetime.fromisoformat(order["created_at"]) >= SINCE)


def _connection_settings(world: BenchWorld) -> dict[str, Any]:
    # The Salesforce session id stays valid while the parent runs the sandbox, so it outlives the kill.
    return {"shopify": world.sandbox.shopify_settings(), "salesforce": world.sandbox.salesforce_settings()}


def _run_child(
    world: BenchWorld,
    paths: _ChildPaths,
    name: str,
    kill_after: int | None,
    poll_seconds: float,
    keep_succeeded: bool = True,
    watch: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> ChildRun:
    """Run one child to its end, or SIGKILL it once `kill_after` jobs have finished in the store.

    Without `keep_succeeded` the child's run summary counts succeeded jobs without keeping
    them, as `recipe run` does, and the resumed jobs are not counted. `watch`, when given, is
    called with the running process every `poll_seconds` until it ends (without `kill_after`).
    """
    command = [
        sys.executable, "-m", "bench.restart",
        "--settings", str(paths.settings), "--store", str(paths.store), "--output", str(paths.output(name)),
        "--recipe", RECIPE, "--since", SINCE_TEXT,
    ]
    if not keep_succeeded:
        command.append("--counts-only")
    salesforce_before = Counter(world.sandbox.salesforce.calls)
    shopify_before = Counter(world.sandbox.shopify.calls)
    started = time.perf_counter()
    killed = False

    # stderr goes to a file, because a pipe that is read only at the end could fill up and stall the child.
    with open(paths.log(name), "wb") as errors:
        process = subprocess.Popen(command, cwd=_REPOSITORY, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            if kill_after is not None:
                killed = _kill_when_finished(process, paths.store, kill_after, poll_seconds)
            elif watch is not None:
                while process.poll() is None:
                    watch(process)
                    time.sleep(poll_seconds)
            process.wait()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    wall = time.perf_counter() - started

    stderr = paths.log(name).read_text(encoding="utf-8", errors="replace").strip()
    if stderr:
        log.warning("%s recipe process (exit code %s) wrote to stderr:\n%s", name, process.returncode, stderr)
    output_file = paths.output(name)
    # Plain JSON: the child's figures are counts and megabytes, which should stay numbers in the result.
    output = json.loads(output_file.read_text(encoding="utf-8")) if output_file.exists() else {}
    return ChildRun(
        exit_code=process.returncode,
        killed=killed,
        wall_seconds=wall,
        salesforce_calls=Counter(world.sandbox.salesforce.calls) - salesforce_before,
        shopify_calls=Counter(world.sandbox.shopify.calls) - shopify_before,
        output=output,
        stderr=stderr,
    )


def _kill_when_finished(process: subprocess.Popen[bytes], store: Path, threshold: int, poll_seconds: float) -> bool:
    """Poll the store until `threshold` jobs have finished, then SIGKILL the process.

    Returns True when the signal was sent, or False when the process ended before the threshold.
    NOTE: the signal follows a job's finish by at most one poll, so at the `zero` profile it tends
    to land early in the next job (after its item query), rarely between a save and its record.
    """
    connection: sqlite3.Connection | None = None
    try:
        while process.poll() is None:
            if connection is None and store.exists():
                connection = sqlite3.connect(f"{store.as_uri()}?mode=ro", uri=True)
            if connection is not None and _count_finished(connection) >= threshold:
                process.send_signal(signal.SIGKILL)
                return True
            time.sleep(poll_seconds)
        return False
    finally:
        if connection is not None:
            connection.close()


def _count_finished(connection: sqlite3.Connection) -> int:
    marks = ", ".join("?" for _ in FINISHED)
    try:
        return connection.execute(f"SELECT COUNT(*) FROM jobs WHERE recipe = ? AND status IN ({marks})", (RECIPE, *FINISHED)).fetchone()[0]
    except sqlite3.OperationalError:
        # The child has created the file but not yet its tables (or its WAL files): nothing has finished.
        return 0


def _job_statuses(store: Path) -> dict[str, int]:
    """Count the recipe's jobs by status, reading the store without writing to it."""
    if not store.exists():
        return {}
    connection = sqlite3.connect(f"{store.as_uri()}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT status, COUNT(*) FROM jobs WHERE recipe = ? GROUP BY status", (RECIPE,)).fetchall()
    except sqlite3.OperationalError:
        return {}
    finally:
        connection.close()
    return dict(sorted(rows))


def _children_cpu() -> float:
    """CPU seconds (user and system) of the child processes waited for so far, SIGKILLed ones included."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ----- the child ----------------------------------------------------------------------------------


def _open_connectors(stack: contextlib.ExitStack, recipe_connectors: list[str], settings: dict[str, Any]) -> dict[str, Connector]:
    registry = Registry()
    opened: dict[str, Connector] = {}
    for name in recipe_connectors:
        if name not in settings:
            raise ConfigurationError(f"connection settings for '{name}' are missing from the settings file, which has only: {', '.join(sorted(settings))}")
        opened[name] = stack.enter_context(registry.get(name)(settings[name], name))
    return opened


def _run_recipe(settings_file: Path, store_file: Path, recipe_name: str, since: datetime, keep_succeeded: bool = True) -> dict[str, Any]:
    """Finish the store's unfinished jobs, then poll until the trigger has nothing more. Returns the job counts."""
    settings = jsoncodec.loads(settings_file.read_text(encoding="utf-8"))
    recipe = load_recipe(RECIPES / f"{recipe_name}.yaml", Registry())
    recipe.trigger.since = since
    store = SQLiteStore(store_file)
    try:
        # Jobs up to the newest id already stored were created by an earlier process, so running them is a resume.
        latest = store.list_jobs(recipe.name, limit=1)
        last_earlier_id = latest[0].id if latest else 0
        unfinished = store.count_unfinished(recipe.name)
        with contextlib.ExitStack() as stack:
            connectors = _open_connectors(stack, recipe.connectors_used(), settings)
            summary = RecipeRun(recipe, connectors, store, keep_succeeded=keep_succeeded).poll_and_run()
    finally:
        store.close()

    statuses = Counter({status.value: count for status, count in summary.counts.items()})
    # ru_maxrss is in KiB on Linux: the child's own peak, without the sandboxes of the parent.
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "peak_rss_mb": round(peak_rss_mb, 1),
        "jobs": summary.ran,
        "jobs_unfinished_at_start": unfinished,
        "jobs_resumed": sum(1 for job in summary.jobs if job.id <= last_earlier_id),
        "job_statuses": dict(sorted(statuses.items())),
        "more_waiting": summary.more_waiting,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the child side: one `poll_and_run` of a shipped recipe on the given store, figures written as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.restart", description="Run a shipped recipe once against running sandboxes (the child of the restart check).")
    parser.add_argument("--settings", type=Path, required=True, help="JSON file mapping connector names to their connection settings")
    parser.add_argument("--store", type=Path, required=True, help="SQLite job store file, created if missing")
    parser.add_argument("--output", type=Path, required=True, help="file to write the job counts to, as JSON")
    parser.add_argument("--recipe", default=RECIPE, help=f"name of a recipe in recipes/ (default {RECIPE})")
    parser.add_argument("--counts-only", action="store_true", help="count succeeded jobs without keeping them, as `recipe run` does")
    parser.add_argument("--since", default=SINCE_TEXT, help=f"the trigger's start, ISO 8601 with an offset (default {SINCE_TEXT})")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    since = datetime.fromisoformat(arguments.since)
    if since.tzinfo is None:
        parser.error(f"--since needs a UTC offset, for example {SINCE_TEXT}; got {arguments.since}")
    figures = _run_recipe(arguments.settings, arguments.store, arguments.recipe, since, keep_succeeded=not arguments.counts_only)
    # Written to a temporary name and renamed, so the parent never reads half a file.
    partial = arguments.output.with_suffix(".partial")
    partial.write_text(jsoncodec.dumps(figures), encoding="utf-8")
    os.replace(partial, arguments.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
