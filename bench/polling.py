"""Scenario 5: steady polling. The service (`engine.service.Service`, what `recipe start` runs)
polls `shopify-order-to-ascent` every 10 s while orders arrive in the Shopify sandbox.

The run has three parts, timed from the service's start:

1. idle: no orders. The window from 5 s to 45 s (four polls, well clear of their edges) gives
   the calls per idle poll at each sandbox and the service threads' CPU.
2. arrivals: orders at random, about one every 5 s (exponential gaps), for `ARRIVAL_SECONDS`,
   with a burst of `burst` orders spread at random over 10 s, starting `BURST_AT` seconds in.
3. drain: no new orders; the run waits until every order has its sales order, or
   `DRAIN_TIMEOUT` passes.

A watcher thread looks up each waiting order's sales order by its external id every 50 ms, so
an order's latency is the time from `create_order` returning to its sales order being committed
in the org, to within 50 ms. The service's own CPU is read per thread from /proc: the poller and
job threads run the engine and the client libraries, while the sandboxes and the watcher run in
threads of their own in the same process.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import random
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

from engine.recipe import Recipe
from engine.redact import Redactor
from engine.schedule import Interval
from engine.service import Service
from engine.store import SQLiteStore

from bench.world import BenchWorld

__all__ = ["run_polling", "thread_cpu_seconds"]

log = logging.getLogger(__name__)

RECIPE = "shopify-order-to-ascent"
SALES_ORDER = "PBSI__PBSI_Sales_Order__c"
ORDER_KEY = "Shopify_Order_Id__c"

POLL_SECONDS = 10.0
IDLE_WINDOW = (5.0, 45.0)
ARRIVAL_SECONDS = 120.0
MEAN_GAP = 5.0
BURST_AT = 30.0
BURST_SECONDS = 10.0
DRAIN_TIMEOUT = 600.0
WATCH_SECONDS = 0.05
REPEAT_SHARE = 0.3

_TICKS = os.sysconf("SC_CLK_TCK")  # /proc/*/stat gives CPU times in these clock ticks


def thread_cpu_seconds(native_ids: list[int]) -> float:
    """Return the user plus system CPU seconds of this process's threads `native_ids` (Linux only)."""
    total = 0
    for native_id in native_ids:
        with contextlib.suppress(FileNotFoundError):
            with open(f"/proc/self/task/{native_id}/stat", encoding="ascii") as stat:
                # The command field may contain spaces, so fields are counted from its closing parenthesis.
                after = stat.read().rsplit(")", 1)[1].split()
            total += int(after[11]) + int(after[12])
    return total / _TICKS


@dataclass
class _Arrival:
    """One order the scenario creates: when (seconds after arrivals start) and whether it is of the burst."""

    at: float
    burst: bool
    order_id: int | None = None
    created: float | None = None
    synced: float | None = None
    copies: int = 0


@dataclass
class _Polls:
    """Poll ends (monotonic seconds) and failed polls, recorded by wrapping the store's `record_poll`."""

    ends: list[float] = field(default_factory=list)
    failed: int = 0

    def between(self, start: float, end: float) -> int:
        return sum(1 for moment in self.ends if start <= moment < end)


def _schedule(seed: int, burst: int) -> list[_Arrival]:
    """Random arrivals: exponential gaps of mean `MEAN_GAP` over `ARRIVAL_SECONDS`, plus the burst."""
    rng = random.Random(seed)
    arrivals, moment = [], rng.expovariate(1 / MEAN_GAP)
    while moment < ARRIVAL_SECONDS:
        arrivals.append(_Arrival(moment, burst=False))
        moment += rng.expovariate(1 / MEAN_GAP)
    arrivals += [_Arrival(BURST_AT + rng.uniform(0, BURST_SECONDS), burst=True) for _ in range(burst)]
    return sorted(arrivals, key=lambda arrival: arrival.at)


class _Shop:
    """Creates orders of 1 to 5 lines (3 on average) in the Shopify sandbox, 30 % of repeat customers."""

    def __init__(self, world: BenchWorld, seed: int) -> None:
        self.state = world.sandbox.shopify.state
        self.variants = [variant["id"] for variant in self.state.variants.values() if variant.get("sku") and variant["inventory_management"] == "shopify"]
        self.rng = random.Random(seed + 1)
        self.customers: list[int] = []

    def create(self) -> dict[str, Any]:
        if self.customers and self.rng.random() < REPEAT_SHARE:
            customer: dict[str, Any] = {"id": self.rng.choice(self.customers)}
        else:
            number = len(self.customers) + 1
            customer = {"email": f"poll-{number:04d}@example.org", "first_name": "Polling", "last_name": f"Buyer {number}"}
        spec = {
            "customer": customer,
            "shipping_address": {"first_name": "Polling", "last_name": "Buyer", "address1": "1 Main Street", "city": "Hoboken", "province_code": "NJ", "zip": "07030", "country_code": "US"},
            "line_items": [{"variant_id": self.rng.choice(self.variants), "quantity": self.rng.randint(1, 3)} for _ in range(self.rng.randint(1, 5))],
        }
        order = self.state.create_order(spec)
        if "id" not in customer:
            self.customers.append(order["customer"]["id"])
        return order


class _Watcher:
    """Notes when each created order's sales order first exists in the org."""

    def __init__(self, world: BenchWorld) -> None:
        self.records = world.sandbox.salesforce.records
        self.waiting: dict[int, _Arrival] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="bench-watcher", daemon=True)

    def add(self, arrival: _Arrival) -> None:
        with self.lock:
            assert arrival.order_id is not None
            self.waiting[arrival.order_id] = arrival

    def pending(self) -> int:
        with self.lock:
            return len(self.waiting)

    def _watch(self) -> None:
        while not self.stop.wait(WATCH_SECONDS):
            with self.lock:
                waiting = list(self.waiting.items())
            for order_id, arrival in waiting:
                if self.records.match_external_id(SALES_ORDER, ORDER_KEY, str(order_id)):
                    arrival.synced = time.monotonic()
                    with self.lock:
                        del self.waiting[order_id]


def _factory(world: BenchWorld) -> Any:
    """Build the service's connector factory: the world's connectors, with nothing to redact."""

    @contextlib.contextmanager
    def open_connectors(recipe: Recipe) -> Iterator[tuple[dict[str, Any], Redactor]]:
        with world.connectors(recipe) as connectors:
            yield connectors, Redactor()

    return open_connectors


def _watch_polls(store: SQLiteStore, polls: _Polls) -> None:
    original = store.record_poll

    def record_poll(recipe: str, started: str, new_jobs: int, waiting: Any, error: Any) -> Any:
        polls.ends.append(time.monotonic())
        if error is not None:
            polls.failed += 1
        return original(recipe, started, new_jobs, waiting, error)

    store.record_poll = record_poll  # type: ignore[method-assign]


def _service_threads(recipe: str) -> list[int]:
    return [thread.native_id for thread in threading.enumerate() if thread.name.startswith(f"recipe {recipe}") and thread.native_id is not None]


def _sleep_until(moment: float) -> None:
    remaining = moment - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)


def _percentile(values: list[float], share: float) -> float | None:
    """Return the nearest-rank percentile of `values`, or None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return round(ordered[min(rank, len(ordered)) - 1], 2)


def _latency_figures(arrivals: list[_Arrival], prefix: str) -> dict[str, Any]:
    latencies = [arrival.synced - arrival.created for arrival in arrivals if arrival.synced is not None and arrival.created is not None]
    return {
        f"{prefix}_orders": len(arrivals),
        f"{prefix}_synced": len(latencies),
        f"{prefix}_p50_seconds": _percentile(latencies, 0.50),
        f"{prefix}_p95_seconds": _percentile(latencies, 0.95),
        f"{prefix}_max_seconds": round(max(latencies), 2) if latencies else None,
        f"{prefix}_within_11s_share": round(sum(1 for value in latencies if value <= 11.0) / len(arrivals), 3) if arrivals else None,
    }


def _idle(world: BenchWorld, recipe: str, polls: _Polls, started: float) -> dict[str, Any]:
    """Measure the idle window: calls per poll at each sandbox and CPU, of the service and of the process."""
    _sleep_until(started + IDLE_WINDOW[0])
    threads = _service_threads(recipe)
    service_cpu = thread_cpu_seconds(threads)
    with world.meter.phase() as cost:
        _sleep_until(started + IDLE_WINDOW[1])
        service_cpu = thread_cpu_seconds(threads) - service_cpu
    count = polls.between(started + IDLE_WINDOW[0], started + IDLE_WINDOW[1])
    seconds = cost.wall_seconds
    return {
        "idle_seconds": round(seconds, 1),
        "idle_polls": count,
        "idle_shopify_calls": cost.shopify_calls,
        "idle_salesforce_calls": cost.salesforce_calls,
        "idle_shopify_per_poll": round(cost.shopify_total / count, 2) if count else None,
        "idle_salesforce_per_poll": round(cost.salesforce_total / count, 2) if count else None,
        "idle_service_cpu_percent": round(100 * service_cpu / seconds, 3),
        "idle_process_cpu_percent": round(100 * cost.cpu_seconds / seconds, 3),
        "service_threads": len(threads),
    }


def _arrive(world: BenchWorld, arrivals: list[_Arrival], watcher: _Watcher, seed: int) -> None:
    shop = _Shop(world, seed)
    begin = time.monotonic()
    for arrival in arrivals:
        _sleep_until(begin + arrival.at)
        order = shop.create()
        arrival.created = time.monotonic()
        arrival.order_id = order["id"]
        watcher.add(arrival)


def _drain(watcher: _Watcher) -> float:
    """Wait until every order has its sales order, or `DRAIN_TIMEOUT` passes, and return the seconds waited."""
    begin = time.monotonic()
    while watcher.pending() and time.monotonic() - begin < DRAIN_TIMEOUT:
        time.sleep(0.2)
    return time.monotonic() - begin


def _burst_figures(arrivals: list[_Arrival]) -> dict[str, Any]:
    burst = [arrival for arrival in arrivals if arrival.burst and arrival.created is not None]
    if not burst:
        return {}
    first = min(arrival.created for arrival in burst if arrival.created is not None)
    last = max(arrival.created for arrival in burst if arrival.created is not None)
    synced = [arrival.synced for arrival in burst if arrival.synced is not None]
    done = max(synced) if len(synced) == len(burst) else None
    return {
        "burst_created_over_seconds": round(last - first, 2),
        "burst_drained_after_last_created_seconds": round(done - last, 2) if done else None,
        "burst_drained_after_first_created_seconds": round(done - first, 2) if done else None,
        "burst_orders_per_second": round(len(burst) / (done - first), 2) if done else None,
    }


def _check(world: BenchWorld, arrivals: list[_Arrival]) -> dict[str, int]:
    records = world.sandbox.salesforce.records
    copies = [len(records.match_external_id(SALES_ORDER, ORDER_KEY, str(arrival.order_id))) for arrival in arrivals]
    return {"orders_lost": sum(1 for count in copies if count == 0), "orders_duplicated": sum(count - 1 for count in copies if count > 1)}


def run_polling(burst: int, profile: str, seed: int = 5) -> dict[str, Any]:
    """Run the service through idle, arrivals with a burst, and drain; return the figures."""
    arrivals = _schedule(seed, burst)
    with tempfile.TemporaryDirectory(prefix="bench-polling-") as folder, BenchWorld(profile) as world:
        recipe = world.recipe(RECIPE, since=datetime.now(timezone.utc) - timedelta(seconds=1))
        recipe.trigger.schedule = Interval(POLL_SECONDS)
        store = SQLiteStore(Path(folder) / "recipe.db")
        polls = _Polls()
        _watch_polls(store, polls)
        service = Service([recipe], store, _factory(world))
        watcher = _Watcher(world)
        watcher.thread.start()
        process_cpu = time.process_time()
        started = time.monotonic()
        service.start()
        try:
            idle = _idle(world, recipe.name, polls, started)
            busy_threads = _service_threads(recipe.name)
            busy_cpu = thread_cpu_seconds(busy_threads)
            with world.meter.phase() as busy:
                _arrive(world, arrivals, watcher, seed)
                drained = _drain(watcher)
            busy_cpu = thread_cpu_seconds(_service_threads(recipe.name)) - busy_cpu
        finally:
            service.stop(timeout=30)
            watcher.stop.set()
            watcher.thread.join()
            store.close()
        check = _check(world, arrivals)

    steady_before_burst = [arrival for arrival in arrivals if not arrival.burst and arrival.at < BURST_AT]
    result: dict[str, Any] = {
        "contender": "ours",
        "poll_seconds": POLL_SECONDS,
        "arrival_seconds": ARRIVAL_SECONDS,
        "burst": burst,
        "wall_seconds": round(time.monotonic() - started, 1),
        "process_cpu_seconds": round(time.process_time() - process_cpu, 2),
        "drain_wait_seconds": round(drained, 1),
        "polls": len(polls.ends),
        "failed_polls": polls.failed,
        **idle,
        **_latency_figures(arrivals, "all"),
        **_latency_figures(steady_before_burst, "steady_before_burst"),
        **_latency_figures([arrival for arrival in arrivals if not arrival.burst], "steady"),
        **_burst_figures(arrivals),
        "busy_service_cpu_seconds": round(busy_cpu, 2),
        "busy": busy.as_dict(),
        **check,
    }
    log.info("polling: %s", result)
    return result
