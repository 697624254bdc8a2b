"""One `recipe start` per state directory: the second-instance guard, stale-lock takeover and standby."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import cli
from engine.lock import AlreadyRunning, ServiceLock, read_owner
from engine.registry import Registry

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "recipes"


@pytest.fixture
def lock(tmp_path):
    service_lock = ServiceLock(tmp_path)
    yield service_lock
    service_lock.release()


def test_lock_records_its_owner(tmp_path, lock):
    lock.acquire({"recipes": "/srv/recipes"})

    owner = read_owner(tmp_path)

    assert (owner.pid, owner.details) == (os.getpid(), {"recipes": "/srv/recipes"})
    assert owner.started_at == lock.owner.started_at


def test_second_lock_names_the_running_owner(tmp_path, lock):
    lock.acquire()

    with pytest.raises(AlreadyRunning) as raised:
        ServiceLock(tmp_path).acquire()

    owner = lock.owner
    assert str(raised.value) == f"another `recipe start` is running on {tmp_path}: pid {owner.pid} on {owner.host}, since {owner.started_at}"


def test_released_lock_is_free_and_empty(tmp_path, lock):
    lock.acquire()
    lock.release()

    assert read_owner(tmp_path) is None
    assert (tmp_path / "service.lock").read_text(encoding="utf-8") == ""
    assert ServiceLock(tmp_path).acquire() is None


def test_stale_lock_of_a_killed_process_is_taken_over(tmp_path, lock):
    script = textwrap.dedent(
        f"""
        import os, signal
        from engine.lock import ServiceLock
        ServiceLock({str(tmp_path)!r}).acquire({{"recipes": "killed"}})
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    killed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, timeout=30)
    assert killed.returncode == -signal.SIGKILL
    left = json.loads((tmp_path / "service.lock").read_text(encoding="utf-8"))

    stale = lock.acquire()

    assert (stale.pid, stale.details) == (left["pid"], {"recipes": "killed"})
    assert read_owner(tmp_path).pid == os.getpid()


def test_standby_takes_over_when_the_owner_stops(tmp_path, lock):
    lock.acquire()
    standby = ServiceLock(tmp_path)
    waiting, result = threading.Event(), []
    thread = threading.Thread(target=lambda: result.append(standby.acquire_standby({}, threading.Event(), 0.01, lambda running: waiting.set())))
    thread.start()

    assert waiting.wait(10)
    lock.release()
    thread.join(10)

    assert result == [True]
    assert read_owner(tmp_path).pid == os.getpid()
    standby.release()


def test_standby_gives_up_when_stopped(tmp_path, lock):
    lock.acquire()
    stop = threading.Event()
    stop.set()

    assert ServiceLock(tmp_path).acquire_standby({}, stop, 0.01) is False


def test_second_start_exits_with_the_owner(tmp_path, lock, monkeypatch, registry: Registry):
    monkeypatch.setattr("engine.cli.Registry", lambda: registry)
    lock.acquire()
    owner = lock.owner
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    for name in ("example-memory-orders.yaml", "example-items.csv"):
        (recipes / name).write_bytes((EXAMPLES / name).read_bytes())

    result = CliRunner().invoke(cli, ["--state-dir", str(tmp_path), "start", "--sandbox", "--port", "0", str(recipes)])

    assert result.exit_code == 4
    assert result.output.splitlines()[-1] == (
        f"error: another `recipe start` is running on {tmp_path}: pid {owner.pid} on {owner.host}, since {owner.started_at}."
        " Stop it first, or start this one with --standby to take over when it stops."
    )
