"""Query cursors: the rest of a query's rows, fetched page by page through `nextRecordsUrl`."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from .errors import ApiError
from .ids import encode_base62

__all__ = ["QueryCursors", "MAX_OPEN_CURSORS"]

# Salesforce keeps a limited number of open query cursors per user and drops the oldest.
MAX_OPEN_CURSORS = 200


@dataclass
class _Cursor:
    rows: list[dict[str, Any]]
    batch_size: int


class QueryCursors:
    """Rows of finished queries, held until a client pages through them or newer cursors push them out."""

    def __init__(self) -> None:
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._counter = 0
        self._lock = threading.Lock()

    def page(self, base: str, resource: str, rows: list[dict[str, Any]], batch_size: int) -> dict[str, Any]:
        """Return the first page of a result; open a cursor when more rows remain."""
        if len(rows) <= batch_size:
            return {"totalSize": len(rows), "done": True, "records": rows}
        with self._lock:
            self._counter += 1
            locator = "01g5g" + encode_base62(self._counter, 10)
            self._cursors[locator] = _Cursor(rows, batch_size)
            while len(self._cursors) > MAX_OPEN_CURSORS:
                self._cursors.popitem(last=False)
        return self._slice(base, resource, locator, rows, batch_size, 0)

    def more(self, base: str, resource: str, locator: str, offset: int) -> dict[str, Any]:
        """Return the page of a cursor starting at `offset`; the last page closes the cursor."""
        with self._lock:
            cursor = self._cursors.get(locator)
        if cursor is None or offset < 0 or offset >= len(cursor.rows):
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        page = self._slice(base, resource, locator, cursor.rows, cursor.batch_size, offset)
        if page["done"]:
            with self._lock:
                self._cursors.pop(locator, None)
        return page

    @staticmethod
    def _slice(base: str, resource: str, locator: str, rows: list[dict[str, Any]], batch_size: int, offset: int) -> dict[str, Any]:
        end = offset + batch_size
        page: dict[str, Any] = {"totalSize": len(rows), "done": end >= len(rows)}
        if end < len(rows):
            page["nextRecordsUrl"] = f"{base}/{resource}/{locator}-{end}"
        page["records"] = rows[offset:end]
        return page
