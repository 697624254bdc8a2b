"""`recipe start` as a process: SIGKILL at several points, restart, and nothing lost or written twice; SIGTERM exits 0."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from connectors.testing.memory import World

from service_child import WRITES_FILE

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).resolve().parent / "service_child.py"

RECIPE = """\
name: copy-orders
trigger:
  connector: memory
  event: new_records
  input: {object: orders}
  schedule: every 1h
steps:
  - id: copy
    action: memory.upsert
    input:
      object: copies
      external_id_field: order_id
      record: {order_id: "{{ trigger.id }}", name: "{{ trigger.name }}"}
  - id: lines
    for_each: "{{ trigger.lines }}"
    as: line
    steps:
      - id: line
        action: memory.upsert
        input:
          object: lines
          external_id_field: line_key
          record: {line_key: "{{ trigger.id }}-{{ loop.number }}", copy_id: "{{ copy.id }}", sku: "{{ line.sku }}"}
"""

ORDERS = [
    {"id": number, "updated_at": "2026-11-02T09:00:00-05:00", "name": f"#{number}", "lines": [{"sku": "SKU-001-M"}, {"sku": "SKU-002"}]}
    for number in (1, 2, 3, 4)
]

# Each order writes its copy and two lines: 12 upserts when nothing is repeated.
WRITES_PER_RUN = 12


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "copy-orders.yaml").write_text(RECIPE, encoding="utf-8")
    state = tmp_path / "state"
    state.mkdir()
    world = World()
    for row in ORDERS:
        world.add("orders", row)
    (state / "memory-sandbox.json").write_text(world.to_json(), encoding="utf-8")
    return tmp_path


def start(folder: Path, **kill: int) -> subprocess.Popen:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("RECIPE_", "SERVICE_CHILD_"))}
    environment["PYTHONPATH"] = os.pathsep.join([str(ROOT), environment.get("PYTHONPATH", "")])
    for point, write in kill.items():
        environment[f"SERVICE_CHILD_KILL_{point.upper()}_WRITE"] = str(write)
    command = [sys.executable, str(CHILD), "--state-dir", str(folder / "state"), "start", "--sandbox", "--port", "0", str(folder / "recipes")]
    return subprocess.Popen(command, cwd=folder, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def jobs(folder: Path) -> list[tuple[str, str]]:
    database = folder / "state" / "recipe.db"
    if not database.exists():
        return []
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT event_id, status FROM jobs ORDER BY id").fetchall()
    except sqlite3.OperationalError:  # the child has not created the tables yet
        return []
    finally:
        connection.close()


def wait_for_all_succeeded(folder: Path, process: subprocess.Popen) -> bool:
    expected = [(str(row["id"]), "succeeded") for row in ORDERS]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if jobs(folder) == expected:
            return True
        time.sleep(0.05)
    return False


def test_killed_service_restarts_with_nothing_lost_and_nothing_created_twice(folder):
    kill_points = [{"before": 1}, {"after": 2}, {"after": 3}]
    for point in kill_points:
        killed = start(folder, **point)
        _, errors = killed.communicate(timeout=30)
        assert killed.returncode == -signal.SIGKILL, errors.decode()

    final = start(folder)
    try:
        assert wait_for_all_succeeded(folder, final)
    finally:
        final.send_signal(signal.SIGTERM)
        _, errors = final.communicate(timeout=30)
    log = errors.decode()
    assert final.returncode == 0, log
    assert "recipe copy-orders: resuming 3 unfinished job(s) from an earlier run" in log
    assert log.rstrip().endswith("service stopped")

    sandbox = json.loads((folder / "state" / "memory-sandbox.json").read_text(encoding="utf-8"))["records"]
    assert sorted(record["order_id"] for record in sandbox["copies"]) == [1, 2, 3, 4]
    assert sorted(record["line_key"] for record in sandbox["lines"]) == ["1-1", "1-2", "2-1", "2-2", "3-1", "3-2", "4-1", "4-2"]

    writes = [json.loads(line) for line in (folder / "state" / WRITES_FILE).read_text(encoding="utf-8").splitlines()]
    sent = Counter((write["object"], write["key"]) for write in writes)
    created = Counter((write["object"], write["key"]) for write in writes if write["created"])
    # A kill after a write and before its step was recorded sends that one write again, as an update.
    assert len(writes) == WRITES_PER_RUN + 2
    assert sorted(sent.values()) == [1] * 10 + [2, 2]
    assert set(created.values()) == {1}
    assert len(created) == WRITES_PER_RUN


def test_sigterm_stops_the_service_with_exit_0_and_releases_the_lock(folder):
    process = start(folder)
    try:
        assert wait_for_all_succeeded(folder, process)
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=30)

    assert process.returncode == 0, errors.decode()
    assert (folder / "state" / "service.lock").read_text(encoding="utf-8") == ""
