"""What a benchmark phase costs: wall and CPU time, peak memory, and the sandboxes' view of it.

A `Meter` wraps one phase (our recipe, or one baseline). It counts requests by endpoint and by
response status at each sandbox, tracks the Shopify REST bucket's highest level, and samples the
process's resident set size every 50 ms, because `ru_maxrss` only ever grows and so cannot tell
two phases of one process apart.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from connectors.sandbox.local import LocalSandbox
from connectors.sandbox.server import Request, Response, SandboxServer

__all__ = ["Meter", "PhaseCost", "current_rss"]

log = logging.getLogger(__name__)

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def current_rss() -> int:
    """Return this process's resident set size in bytes, read from /proc (Linux only)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * _PAGE_SIZE


@dataclass
class PhaseCost:
    """The measured cost of one phase; times in seconds, memory in bytes."""

    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss: int = 0
    rss_before: int = 0
    shopify_calls: dict[str, int] = field(default_factory=dict)
    salesforce_calls: dict[str, int] = field(default_factory=dict)
    shopify_statuses: dict[str, int] = field(default_factory=dict)
    salesforce_statuses: dict[str, int] = field(default_factory=dict)
    shopify_bucket_high_water: float = 0.0

    @property
    def shopify_total(self) -> int:
        return sum(self.shopify_calls.values())

    @property
    def salesforce_total(self) -> int:
        return sum(self.salesforce_calls.values())

    @property
    def throttled(self) -> int:
        """Responses with 429, and Salesforce's 403 REQUEST_LIMIT_EXCEEDED stand-in for it."""
        return self.shopify_statuses.get("429", 0) + self.salesforce_statuses.get("403", 0)

    @property
    def failed_requests(self) -> int:
        """Requests answered 5xx or dropped (status `dropped`); a client that retries sends each again."""
        return sum(count for statuses in (self.shopify_statuses, self.salesforce_statuses) for status, count in statuses.items() if status.startswith("5") or status == "dropped")

    def as_dict(self) -> dict[str, Any]:
        return {
            "wall_seconds": round(self.wall_seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "peak_rss_mb": round(self.peak_rss / 2**20, 1),
            "rss_before_mb": round(self.rss_before / 2**20, 1),
            "shopify_calls": dict(sorted(self.shopify_calls.items())),
            "salesforce_calls": dict(sorted(self.salesforce_calls.items())),
            "shopify_total": self.shopify_total,
            "salesforce_total": self.salesforce_total,
            "shopify_statuses": dict(sorted(self.shopify_statuses.items())),
            "salesforce_statuses": dict(sorted(self.salesforce_statuses.items())),
            "shopify_bucket_high_water": round(self.shopify_bucket_high_water, 2),
            "throttled": self.throttled,
            "failed_requests": self.failed_requests,
        }


class _StatusCounter:
    """Wraps a server's `dispatch` to count response statuses; `dropped` for a timeout."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.statuses: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._original = server.dispatch
        server.dispatch = self._dispatch  # type: ignore[method-assign]

    def _dispatch(self, request: Request) -> Response | None:
        response = self._original(request)
        with self._lock:
            self.statuses["dropped" if response is None else str(response.status)] += 1
        return response

    def take(self) -> dict[str, int]:
        with self._lock:
            taken = dict(self.statuses)
            self.statuses.clear()
        return taken


class _BucketWatch:
    """Wraps the Shopify REST bucket's `pour` to keep the highest level it reached."""

    def __init__(self, sandbox: LocalSandbox) -> None:
        self.bucket = sandbox.shopify.rest_bucket
        self.high_water = 0.0
        self._original = self.bucket.pour
        self.bucket.pour = self._pour  # type: ignore[method-assign]

    def _pour(self, amount: float) -> Any:
        reading = self._original(amount)
        self.high_water = max(self.high_water, self.bucket.level())
        return reading


class Meter:
    """Measures phases run against one sandbox; install once per sandbox, then `with meter.phase() as cost`."""

    def __init__(self, sandbox: LocalSandbox, sample_seconds: float = 0.05) -> None:
        self.sandbox = sandbox
        self.sample_seconds = sample_seconds
        self._shopify_statuses = _StatusCounter(sandbox.shopify.server)
        self._salesforce_statuses = _StatusCounter(sandbox.salesforce.server)
        self._bucket = _BucketWatch(sandbox)

    def phase(self) -> "_Phase":
        return _Phase(self)


class _Phase:
    def __init__(self, meter: Meter) -> None:
        self.meter = meter
        self.cost = PhaseCost()
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None

    def __enter__(self) -> PhaseCost:
        sandbox = self.meter.sandbox
        sandbox.shopify.server.reset_calls()
        sandbox.salesforce.server.reset_calls()
        self.meter._shopify_statuses.take()
        self.meter._salesforce_statuses.take()
        self.meter._bucket.high_water = 0.0

        self.cost.rss_before = self.cost.peak_rss = current_rss()
        self._sampler = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._sampler.start()
        self._cpu = time.process_time()
        self._wall = time.perf_counter()
        return self.cost

    def __exit__(self, *exc: object) -> None:
        self.cost.wall_seconds = time.perf_counter() - self._wall
        self.cost.cpu_seconds = time.process_time() - self._cpu
        self._stop.set()
        if self._sampler is not None:
            self._sampler.join()
        self.cost.peak_rss = max(self.cost.peak_rss, current_rss())

        sandbox = self.meter.sandbox
        self.cost.shopify_calls = dict(sandbox.shopify.calls)
        self.cost.salesforce_calls = dict(sandbox.salesforce.calls)
        self.cost.shopify_statuses = self.meter._shopify_statuses.take()
        self.cost.salesforce_statuses = self.meter._salesforce_statuses.take()
        self.cost.shopify_bucket_high_water = self.meter._bucket.high_water

    def _sample(self) -> None:
        while not self._stop.wait(self.meter.sample_seconds):
            self.cost.peak_rss = max(self.cost.peak_rss, current_rss())
