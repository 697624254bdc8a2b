"""Scenario 1's memory figure: the backfill's peak RSS in a process of its own, at two sizes.

`python -m bench.memory --orders 10000 50000` runs `shopify-order-to-ascent` over each number of
generated orders in a child process (the one the kill-and-restart check uses, keeping its run
summary as `recipe run` does: succeeded jobs counted, not kept), so the figure is
the recipe's process alone, without the sandboxes and their seeded orders, which stay in this
process. Prints and writes a JSON result with each size's peak RSS, wall time, job counts and
the org check, and the growth from the first size to the last.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from engine import jsoncodec

from bench.backfill import check_orders
from bench.restart import _ChildPaths, _connection_settings, _count_finished, _run_child
from bench.world import BenchWorld

__all__ = ["run_memory", "main"]

log = logging.getLogger(__name__)

RESULTS = Path(__file__).resolve().parent / "results"


class _Curve:
    """The child's peak RSS so far, sampled with the number of jobs it has finished."""

    def __init__(self, store: Path, every_jobs: int) -> None:
        self.store = store
        self.every_jobs = every_jobs
        self.points: list[dict[str, float]] = []

    def __call__(self, process: subprocess.Popen[bytes]) -> None:
        finished = _finished_jobs(self.store)
        if finished < (len(self.points) + 1) * self.every_jobs:
            return
        peak = _peak_rss_mb(process.pid)
        if peak is not None:
            self.points.append({"jobs_finished": finished, "peak_rss_mb": peak})
            log.info("memory: %d jobs finished, peak RSS %.1f MB", finished, peak)


def _finished_jobs(store: Path) -> int:
    if not store.exists():
        return 0
    connection = sqlite3.connect(f"{store.as_uri()}?mode=ro", uri=True)
    try:
        return _count_finished(connection)
    finally:
        connection.close()


def _peak_rss_mb(pid: int) -> float | None:
    """Return the process's peak resident set (VmHWM) in MB, or None once it has gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def run_memory(orders: int, profile: str = "zero", every_jobs: int = 5000) -> dict[str, Any]:
    """Run the backfill of `orders` generated orders in one child process; return its peak RSS and figures.

    `curve` contains the child's peak RSS each time another `every_jobs` jobs have finished, so
    one run shows how the peak grows with the orders behind it.
    """
    with BenchWorld(profile, extra_orders=orders) as world, tempfile.TemporaryDirectory(prefix="bench-memory-") as folder:
        paths = _ChildPaths(Path(folder))
        paths.settings.write_text(jsoncodec.dumps(_connection_settings(world)), encoding="utf-8")
        paths.settings.chmod(0o600)
        curve = _Curve(paths.store, every_jobs)
        child = _run_child(world, paths, "backfill", kill_after=None, poll_seconds=1.0, keep_succeeded=False, watch=curve)
        if child.exit_code != 0:
            raise RuntimeError(f"the recipe process failed with exit code {child.exit_code}. Its stderr ends:\n{child.stderr[-2000:]}")
        return {"orders": orders, "profile": profile, **child.as_dict(), "curve": curve.points, "check": check_orders(world)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[10_000, 50_000], help="sizes to run, smallest first (default 10000 50000)")
    parser.add_argument("--profile", default="zero", help="latency profile (default zero)")
    parser.add_argument("--every", type=int, default=5000, help="sample the peak RSS each time this many more jobs have finished (default 5000)")
    arguments = parser.parse_args(argv)
    # INFO shows each sample of the curve while a long run goes on.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)

    started = datetime.now(timezone.utc)
    sizes = [run_memory(orders, arguments.profile, arguments.every) for orders in arguments.orders]
    result: dict[str, Any] = {"scenario": "memory", "started": started.isoformat(), "sizes": sizes}
    if len(sizes) > 1 and sizes[0]["peak_rss_mb"]:
        result["growth_percent"] = round((float(sizes[-1]["peak_rss_mb"]) / float(sizes[0]["peak_rss_mb"]) - 1) * 100, 1)

    text = jsoncodec.dumps(result, indent=2)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    name = f"memory-{arguments.profile}-{'-'.join(str(size) for size in arguments.orders)}-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    (RESULTS / name).write_text(text, encoding="utf-8")
    print(f"result written to {RESULTS / name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
