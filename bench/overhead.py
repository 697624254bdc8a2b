"""Scenario 4: engine overhead. A recipe of 10 steps, each a 10-field mapping and one call, against a
hand-written loop that makes the same calls with the same values.

Both contenders call the same in-memory connector, which waits the profile's fixed latency per call
instead of sending a request, so the difference between them is the engine's own cost: rendering,
recording every step in the SQLite job store, and the job bookkeeping around them.
"""

from __future__ import annotations

import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.testing.memory import MemoryConnector, World
from engine.registry import Registry
from engine.run import RecipeRun
from engine.store import JobStatus, SQLiteStore
from engine.validate import load_recipe

__all__ = ["run_overhead", "LATENCY"]

STEPS = 10
LATENCY = {"zero": 0.0, "fixed50": 0.05}

_FIELDS = """
        key: "{{{{ trigger.id }}}}-{step}"
        name: "{{{{ trigger.name }}}}"
        title: "Order {{{{ trigger.name }}}} step {step}"
        quantity: "{{{{ trigger.quantity }}}}"
        price: "{{{{ trigger.price | decimal }}}}"
        total: "{{{{ trigger.price | decimal * trigger.quantity }}}}"
        email: "{{{{ trigger.email | lower }}}}"
        taxable: "{{{{ trigger.taxable }}}}"
        sku: "{{{{ trigger.sku | truncate_to(30) }}}}"
        previous: "{{{{ {previous} }}}}"
"""


def _recipe_text() -> str:
    steps = []
    for step in range(1, STEPS + 1):
        previous = f"s{step - 1}.id" if step > 1 else "none"
        steps.append(
            f"  - id: s{step}\n    action: memory.upsert\n    input:\n      object: out{step}\n      external_id_field: key\n      record:"
            + _FIELDS.format(step=step, previous=previous).rstrip()
            + "\n"
        )
    return "name: overhead\ntrigger: {connector: memory, event: new_records, input: {object: events}, batch_size: 500}\nsteps:\n" + "".join(steps)


class _SlowMemory(MemoryConnector):
    """The memory connector with a fixed wait per call, standing in for a request's latency."""

    latency = 0.0

    def upsert(self, inputs: dict[str, Any]) -> dict[str, Any]:
        if self.latency:
            time.sleep(self.latency)
        return super().upsert(inputs)


def _events(count: int) -> list[dict[str, Any]]:
    return [
        {"id": 10_000 + number, "name": f"#{10_000 + number}", "quantity": 1 + number % 5, "price": "19.99",
         "email": f"Buyer{number}@Example.com", "taxable": number % 2 == 0, "sku": f"SKU-{number:06d}"}
        for number in range(count)
    ]


def _hand_written(connector: _SlowMemory, events: list[dict[str, Any]]) -> None:
    for event in events:
        previous = None
        for step in range(1, STEPS + 1):
            record = {
                "key": f"{event['id']}-{step}", "name": event["name"], "title": f"Order {event['name']} step {step}",
                "quantity": event["quantity"], "price": Decimal(event["price"]), "total": Decimal(event["price"]) * event["quantity"],
                "email": event["email"].lower(), "taxable": event["taxable"], "sku": event["sku"][:30], "previous": previous,
            }
            previous = connector.upsert({"object": f"out{step}", "external_id_field": "key", "record": record})["id"]


def _measure(label: str, action: Any, steps: int) -> dict[str, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"contender": label, "wall_seconds": round(wall, 3), "cpu_seconds": round(cpu, 3), "steps": steps, "cpu_ms_per_step": round(cpu * 1000 / steps, 4)}


def run_overhead(jobs: int, profile: str) -> list[dict[str, Any]]:
    """Run both contenders on `jobs` events; return their figures, ours first."""
    if profile not in LATENCY:
        raise SystemExit(f"the overhead scenario takes the profiles {', '.join(LATENCY)}, not {profile}")
    events = _events(jobs)
    _SlowMemory.latency = LATENCY[profile]

    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as folder:
        recipe_path = Path(folder) / "overhead.yaml"
        recipe_path.write_text(_recipe_text(), encoding="utf-8")
        recipe = load_recipe(recipe_path, Registry({"memory": _SlowMemory}))

        world = World()
        for event in events:
            world.add("events", event)
        connector = _SlowMemory({}, world=world)
        store = SQLiteStore(Path(folder) / "recipe.db")
        summary: list[Any] = []
        ours = _measure("ours", lambda: summary.append(RecipeRun(recipe, {"memory": connector}, store).poll_and_run()), jobs * STEPS)
        store.close()
        succeeded = sum(1 for job in summary[0].jobs if job.status is JobStatus.SUCCEEDED)
        ours["jobs_succeeded"] = succeeded

        tuned = _measure("tuned", lambda: _hand_written(_SlowMemory({}, world=World()), events), jobs * STEPS)

    ours["engine_cpu_ms_per_step"] = round((ours["cpu_seconds"] - tuned["cpu_seconds"]) * 1000 / (jobs * STEPS), 4)
    ours["wall_over_tuned"] = round(ours["wall_seconds"] / tuned["wall_seconds"], 4) if tuned["wall_seconds"] else None
    return [ours, tuned]
