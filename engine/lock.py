"""One `recipe start` per state directory: an exclusive lock on `<state dir>/service.lock`.

The lock is an advisory `flock` on the file, which the operating system drops when the holding
process ends in any way, SIGKILL included. The file also records the owner (pid, host, start
time), so a second instance can name the running one. When the lock is free but the file still
names an owner, that owner died without releasing it. The next instance takes the lock over and
logs the old owner.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from engine.errors import ConfigurationError
from engine.store import utc_now

try:
    import fcntl
except ImportError:  # Windows has no flock; the rest of the command line must still import
    fcntl = None  # type: ignore[assignment]

__all__ = ["LockOwner", "AlreadyRunning", "ServiceLock", "read_owner"]

log = logging.getLogger(__name__)

FILE_NAME = "service.lock"

# A status command probes the lock with a shared lock for an instant. A service that starts in
# that instant tries again this many times, this many seconds apart, before it gives up.
_ACQUIRE_ATTEMPTS = 5
_ACQUIRE_PAUSE = 0.05


@dataclass(frozen=True)
class LockOwner:
    """The process recorded in a lock file, with the details it wrote about itself."""

    pid: int
    host: str
    started_at: str
    details: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, since {self.started_at}"

    def to_document(self) -> dict[str, Any]:
        return {"pid": self.pid, "host": self.host, "started_at": self.started_at, **self.details}

    @classmethod
    def from_text(cls, text: str) -> "LockOwner | None":
        try:
            document = json.loads(text)
            details = {key: value for key, value in document.items() if key not in ("pid", "host", "started_at")}
            return cls(pid=int(document["pid"]), host=str(document["host"]), started_at=str(document["started_at"]), details=details)
        except (ValueError, KeyError, TypeError):
            return None


class AlreadyRunning(Exception):
    """Another live process has the lock; `owner` is the record in its lock file (None if unreadable)."""

    def __init__(self, path: Path, owner: LockOwner | None) -> None:
        holder = owner.describe() if owner else "a process that did not record its pid yet"
        super().__init__(f"another `recipe start` is running on {path.parent}: {holder}")
        self.owner = owner


class ServiceLock:
    """The lock of one state directory. Acquire it once; `release` gives it up and clears the file."""

    def __init__(self, state_dir: str | Path) -> None:
        self.path = Path(state_dir) / FILE_NAME
        self._file: Any = None
        self.owner: LockOwner | None = None

    def acquire(self, details: dict[str, Any] | None = None) -> LockOwner | None:
        """Take the lock and write this process as its owner.

        Returns the owner a dead process left in the file (a stale lock taken over), or None.
        Raises AlreadyRunning when a live process holds the lock, and ConfigurationError on a
        system without `flock` (Windows).
        """
        _require_flock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        for attempt in range(_ACQUIRE_ATTEMPTS):
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt == _ACQUIRE_ATTEMPTS - 1:
                    handle.close()
                    raise AlreadyRunning(self.path, read_owner_text(self.path)) from None
                time.sleep(_ACQUIRE_PAUSE)

        self._file = handle
        handle.seek(0)
        stale = LockOwner.from_text(handle.read())
        if stale is not None:
            log.warning("took over the lock of %s from %s, which stopped without releasing it", self.path.parent, stale.describe())
        self.owner = LockOwner(os.getpid(), socket.gethostname(), utc_now(), dict(details or {}))
        self._write(self.owner)
        return stale

    def acquire_standby(
        self,
        details: dict[str, Any] | None,
        stop: threading.Event,
        retry_seconds: float = 1.0,
        on_wait: Callable[[AlreadyRunning], None] | None = None,
    ) -> bool:
        """Wait until the lock is free and take it; returns False when `stop` is set first.

        `on_wait` is called once with the first AlreadyRunning, to report whom this process waits for.
        """
        reported = False
        while not stop.is_set():
            try:
                self.acquire(details)
                return True
            except AlreadyRunning as running:
                if not reported and on_wait is not None:
                    on_wait(running)
                reported = True
            stop.wait(retry_seconds)
        return False

    def update(self, details: dict[str, Any]) -> None:
        """Add facts to the owner record, such as the address the HTTP server got."""
        if self._file is None or self.owner is None:
            raise RuntimeError("the lock is not held")
        self.owner = LockOwner(self.owner.pid, self.owner.host, self.owner.started_at, {**self.owner.details, **details})
        self._write(self.owner)

    def _write(self, owner: LockOwner) -> None:
        self._file.seek(0)
        self._file.truncate()
        self._file.write(json.dumps(owner.to_document()))
        self._file.flush()

    def release(self) -> None:
        """Clear the owner record and give up the lock; a no-op when it is not held."""
        if self._file is None:
            return
        self._file.seek(0)
        self._file.truncate()
        self._file.flush()
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()
        self._file = None
        self.owner = None


def _require_flock() -> None:
    if fcntl is None:
        raise ConfigurationError("`recipe start` needs flock to lock its state directory, which this system lacks; run it on Linux or macOS")


def read_owner_text(path: Path) -> LockOwner | None:
    try:
        return LockOwner.from_text(path.read_text(encoding="utf-8"))
    except OSError:
        return None


def read_owner(state_dir: str | Path) -> LockOwner | None:
    """Return the live process holding the lock of a state directory, or None when none holds it."""
    path = Path(state_dir) / FILE_NAME
    if not path.exists() or fcntl is None:
        return None
    with open(path, "r", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_held_owner(path)
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def _read_held_owner(path: Path) -> LockOwner | None:
    # The holder truncates and rewrites the file when it starts, so an empty read is retried.
    for _ in range(_ACQUIRE_ATTEMPTS):
        owner = read_owner_text(path)
        if owner is not None:
            return owner
        time.sleep(_ACQUIRE_PAUSE)
    # NOTE: a holder whose record stays unreadable is reported as no holder at all.
    return None
