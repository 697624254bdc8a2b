"""Faults injected into record writes, on top of the request-level `Faults` of the shared server.

Salesforce rejects a write that cannot lock a row with `UNABLE_TO_LOCK_ROW`, and large orgs
take time per record written. Both happen per record, inside the request, so they live here
and not in the HTTP layer.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

from .errors import ApiError

__all__ = ["WriteFaults"]


@dataclass
class WriteFaults:
    """Per-record write latency and injected `UNABLE_TO_LOCK_ROW` errors.

    `latency_per_record` is in seconds and applies to every record a client writes (created,
    updated, upserted or deleted). `unable_to_lock_row_next` fails that many next writes;
    `unable_to_lock_row_share` fails that fraction of writes at random (seeded by `seed`).
    """

    latency_per_record: float = 0.0
    unable_to_lock_row_share: float = 0.0
    unable_to_lock_row_next: int = 0
    seed: int | None = None
    _random: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def before_write(self, record_id: str | None) -> None:
        """Sleep for the per-record latency, then raise ApiError if a lock error is due."""
        if self.latency_per_record:
            time.sleep(self.latency_per_record)
        if self._draw_lock_error():
            message = "unable to obtain exclusive access to this record"
            if record_id:
                message += f" or 1 records: {record_id}"
            raise ApiError(400, "UNABLE_TO_LOCK_ROW", message)

    def _draw_lock_error(self) -> bool:
        with self._lock:
            if self.unable_to_lock_row_next > 0:
                self.unable_to_lock_row_next -= 1
                return True
            return self.unable_to_lock_row_share > 0 and self._random.random() < self.unable_to_lock_row_share
