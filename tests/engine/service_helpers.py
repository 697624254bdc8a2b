"""Builders for the service tests: memory connectors behind a Service, a gate that blocks a step, a recorded poll log."""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from connectors.testing.memory import MemoryConnector, World
from engine.connector import Poll
from engine.recipe import Recipe
from engine.redact import Redactor
from engine.scheduler import ManualClock
from engine.service import Service, ServiceOptions
from engine.store import SQLiteStore

from recipe_helpers import make_recipe, write_recipe

START = datetime(2026, 11, 2, 10, 0, 7, tzinfo=timezone.utc)

UPSERT_RECIPE = """
name: {name}
trigger:
  connector: memory
  event: new_records
  input: {{object: orders}}
  schedule: {schedule}
concurrency: {concurrency}
steps:
  - id: copy
    action: memory.upsert
    input:
      object: copies
      external_id_field: order_id
      record:
        order_id: "{{{{ trigger.id }}}}"
        version: "{{{{ trigger.updated_at }}}}"
"""


def upsert_recipe(folder: Path, name: str = "copy-orders", schedule: str = "every 30s", concurrency: int = 1) -> Recipe:
    """A recipe that upserts one `copies` record per order, keyed by the order id."""
    sub = folder / name
    sub.mkdir(parents=True, exist_ok=True)
    return make_recipe(sub, UPSERT_RECIPE.format(name=name, schedule=schedule, concurrency=concurrency))


def write_upsert_recipe(folder: Path, name: str = "copy-orders", schedule: str = "every 30s") -> Path:
    return write_recipe(folder, UPSERT_RECIPE.format(name=name, schedule=schedule, concurrency=1), f"{name}.yaml")


def order(number: int, version: str = "2026-11-02T09:00:00-05:00") -> dict[str, Any]:
    return {"id": number, "updated_at": version, "name": f"#{number}"}


class Gate:
    """Blocks the upserts of chosen order ids until `released` is set; `blocked` is set once one waits."""

    def __init__(self, *order_ids: Any) -> None:
        self.order_ids = {str(order_id) for order_id in order_ids}
        self.blocked = threading.Event()
        self.released = threading.Event()

    def pass_through(self, inputs: dict[str, Any]) -> None:
        if str(inputs.get("record", {}).get("order_id")) in self.order_ids:
            self.blocked.set()
            self.released.wait(10)


class TestConnector(MemoryConnector):
    """A MemoryConnector that records when it polled (by the service's clock) and can hold upserts at a gate."""

    __test__ = False

    def __init__(self, settings: dict[str, Any], world: World, clock: ManualClock | None, gate: Gate | None, poll_times: list[datetime]) -> None:
        super().__init__(settings, world=world)
        self.clock = clock
        self.gate = gate
        self.poll_times = poll_times

    def new_records(self, inputs: dict[str, Any], cursor: Any, since: Any, limit: int) -> Poll:
        if self.clock is not None:
            self.poll_times.append(self.clock.now())
        return super().new_records(inputs, cursor, since, limit)

    def upsert(self, inputs: dict[str, Any]) -> dict[str, Any]:
        if self.gate is not None:
            self.gate.pass_through(inputs)
        return super().upsert(inputs)


class Harness:
    """A Service over memory worlds (one per recipe name), a ManualClock and a SQLite store in a folder."""

    def __init__(
        self,
        folder: Path,
        recipes: list[Recipe],
        worlds: dict[str, World] | None = None,
        clock: ManualClock | None = None,
        gate: Gate | None = None,
        settings: dict[str, Any] | None = None,
        options: ServiceOptions | None = None,
        **runner_options: Any,
    ) -> None:
        self.folder = folder
        self.recipes = recipes
        self.worlds = worlds or {recipe.name: World() for recipe in recipes}
        self.clock = clock or ManualClock(START)
        self.gate = gate
        self.settings = settings or {}
        self.poll_times: dict[str, list[datetime]] = {recipe.name: [] for recipe in recipes}
        # Errors for the next connector opens, in order; None lets that open succeed.
        self.open_failures: list[Exception | None] = []
        self.opens = 0
        self.store = SQLiteStore(folder / "state" / "recipe.db")
        runner_options.setdefault("sleep", lambda seconds: None)
        self.service = Service(recipes, self.store, self.open_connectors, self.clock, options or ServiceOptions(), **runner_options)

    @contextlib.contextmanager
    def open_connectors(self, recipe: Recipe) -> Iterator[tuple[dict[str, Any], Redactor]]:
        self.opens += 1
        failure = self.open_failures.pop(0) if self.open_failures else None
        if failure is not None:
            raise failure
        connector = TestConnector(dict(self.settings), self.worlds[recipe.name], self.clock, self.gate, self.poll_times[recipe.name])
        with connector:
            yield {"memory": connector}, Redactor()

    def start(self) -> "Harness":
        self.service.start()
        return self

    def settle(self) -> None:
        """Wait until every running recipe waits for a future time on the clock, its jobs done."""
        running = [worker for worker in self.service.workers.values()]
        assert self.clock.wait_until_idle(len(running)), "the service did not settle within 10 s"

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.settle()

    def stop(self) -> None:
        if self.gate is not None:
            self.gate.released.set()
        self.service.stop(timeout=10)
        self.store.close()
