"""Batch triggers: one job takes every event of a poll page, for actions that write many records at once.

A recipe whose trigger sets `batch: true` gets one job per poll page (at most `batch_size`
events) instead of one job per event. Its steps see the events as `trigger.events`, in the order
the trigger returned them, and their number as `trigger.count`.

The batch is keyed like any event, so the store's once-only rule holds for it: its id is a digest
of its members' ids and versions, so the same page polled again (after a crash before the cursor
was saved) is the same batch and runs once. An event is not tracked on its own, so a page cut
differently (another `batch_size`) makes new batches; actions used in batches are expected to
be idempotent, as `shopify.set_stock` is.
"""

from __future__ import annotations

import hashlib

from engine.connector import Event

__all__ = ["BATCH_KEY", "batch_event"]

# Every batch of a recipe has the same ordering key, so `recipe start` runs its batches one
# after another, in poll order: a later batch may carry a newer value of the same record.
BATCH_KEY = "batch"


def batch_event(events: list[Event]) -> Event:
    """Return one event holding `events`; its id and version name exactly that set of events."""
    labels = "\n".join(sorted(event.label for event in events))
    digest = hashlib.sha256(labels.encode("utf-8")).hexdigest()[:20]
    return Event(
        id=f"batch-{digest}",
        version=f"{len(events)} events",
        data={"events": [event.data for event in events], "count": len(events)},
        key=BATCH_KEY,
    )
