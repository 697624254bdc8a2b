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
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from engine import jsoncodec

from bench.backfill import check_orders
from bench.restart import _ChildPaths, _connection_settings, _run_child
from bench.world import BenchWorld

__all__ = ["run_memory", "main"]

log = logging.getLogger(__name__)

RESULTS = Path(__file__).resolve().parent / "results"


def run_memory(orders: int, profile: str = "zero") -> dict[str, Any]:
    """Run the backfill of `orders` generated orders in one child process; return its peak RSS and figures."""
    with BenchWorld(profile, extra_orders=orders) as world, tempfile.TemporaryDirectory(prefix="bench-memory-") as folder:
        paths = _ChildPaths(Path(folder))
        paths.settings.write_text(jsoncodec.dumps(_connection_settings(world)), encoding="utf-8")
        paths.settings.chmod(0o600)
        child = _run_child(world, paths, "backfill", kill_after=None, poll_seconds=0.05, keep_succeeded=False)
        if child.exit_code != 0:
            raise RuntimeError(f"the recipe process failed with exit code {child.exit_code}. Its stderr ends:\n{child.stderr[-2000:]}")
        return {"orders": orders, "profile": profile, **child.as_dict(), "check": check_orders(world)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[10_000, 50_000], help="sizes to run, smallest first (default 10000 50000)")
    parser.add_argument("--profile", default="zero", help="latency profile (default zero)")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    started = datetime.now(timezone.utc)
    sizes = [run_memory(orders, arguments.profile) for orders in arguments.orders]
    result: dict[str, Any] = {"scenario": "memory", "started": started.isoformat(), "sizes": sizes}
    if len(sizes) > 1 and sizes[0]["peak_rss_mb"]:
        result["growth_percent"] = round((float(sizes[-1]["peak_rss_mb"]) / float(sizes[0]["peak_rss_mb"]) - 1) * 100, 1)

    text = jsoncodec.dumps(result, indent=2)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    name = f"memory-{arguments.profile}-{'-'.join(str(size) for size in arguments.orders)}-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    (RESULTS / name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
