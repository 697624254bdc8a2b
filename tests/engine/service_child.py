"""`recipe` with a memory connector that can SIGKILL its own process around its writes.

The kill tests run this file as a subprocess in place of the `recipe` command. The memory
connector saves its file after each write, as a real system keeps each write. Environment variables:

- `SERVICE_CHILD_KILL_BEFORE_WRITE=N`: SIGKILL this process just before its Nth upsert.
- `SERVICE_CHILD_KILL_AFTER_WRITE=N`: SIGKILL it right after its Nth upsert was saved, before the
  engine could record the step.

Each upsert is appended to `writes.jsonl` beside the sandbox file: object, external id, created.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import threading
from pathlib import Path
from typing import Any

import engine.cli
from connectors.testing.memory import MemoryConnector
from engine.registry import Registry

WRITES_FILE = "writes.jsonl"

_counter = itertools.count(1)
_counter_lock = threading.Lock()


def _limit(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None


class DurableMemoryConnector(MemoryConnector):
    """The memory connector, counting upserts for the kill points and logging each one."""

    def upsert(self, inputs: dict[str, Any]) -> dict[str, Any]:
        with _counter_lock:
            number = next(_counter)
        if number == _limit("SERVICE_CHILD_KILL_BEFORE_WRITE"):
            os.kill(os.getpid(), signal.SIGKILL)

        output = super().upsert(inputs)
        self._log_write(inputs, output)

        if number == _limit("SERVICE_CHILD_KILL_AFTER_WRITE"):
            os.kill(os.getpid(), signal.SIGKILL)
        return output

    def _log_write(self, inputs: dict[str, Any], output: dict[str, Any]) -> None:
        key = inputs["record"][inputs["external_id_field"]]
        line = json.dumps({"object": inputs["object"], "key": key, "created": output["created"]})
        with open(Path(self.settings["path"]).parent / WRITES_FILE, "a", encoding="utf-8") as writes:
            writes.write(line + "\n")


if __name__ == "__main__":
    registry = Registry({"memory": DurableMemoryConnector})
    # The CLI builds its registry from installed entry points; the tests swap it the same way.
    engine.cli.Registry = lambda: registry  # type: ignore[assignment]
    engine.cli.main()
