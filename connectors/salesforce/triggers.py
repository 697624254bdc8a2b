"""The `updated_records` polling trigger: records of one object in `SystemModstamp, Id` order.

The cursor is the last SystemModstamp returned plus the ids already returned at that time.
The next poll requests records strictly later, or at that same time with an id not yet
returned. Records that share a timestamp across a page boundary are therefore neither lost
nor returned twice. Real orgs store SystemModstamp to the second, so such ties are common
after a bulk load.

A cursor keeps at most `MAX_TIE_IDS` ids, which keeps the query short enough for a URL. Past
that, the cursor keeps the last id and requests ids after it (`Id > last`), which follows
the `ORDER BY Id` order.

NOTE: a record written by a transaction that is still open during a poll is not visible yet,
and once it commits its SystemModstamp can be earlier than the cursor. Such a record is not
returned, because this trigger has no look-back window.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from engine.connector import Event, Poll
from engine.errors import FatalError

from .names import AscentNames
from .reads import Reader, check_api_name
from .soql import datetime_literal, literal, where_clause

__all__ = ["UpdatedRecords", "MAX_TIE_IDS", "parse_modstamp"]

# 200 quoted 18-character ids make a NOT IN list of about 4,400 characters.
MAX_TIE_IDS = 200
_ALWAYS_SELECTED = ("Id", "SystemModstamp")


def parse_modstamp(text: str) -> datetime:
    """Read a SystemModstamp as the API writes it (`2026-11-02T10:00:00.000+0000`)."""
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise FatalError(f"cannot read the SystemModstamp {text!r} in the trigger cursor", code="INVALID_CURSOR") from None


class UpdatedRecords:
    """Polls one object for records created or changed since the cursor."""

    def __init__(self, reader: Reader, names: AscentNames) -> None:
        self.reader = reader
        self.names = names

    def poll(self, inputs: Mapping[str, Any], cursor: Any, since: datetime | None, limit: int) -> Poll:
        """Return up to `limit` records after `cursor` (or from `since` on the first poll)."""
        api_object = check_api_name(self.names.object_name(inputs["object"]), "object")
        fields = self._fields(api_object, inputs.get("fields") or [])
        conditions = []
        condition = where_clause(inputs.get("condition"), lambda name: self.names.field_name(api_object, name))
        if condition:
            conditions.append(f"({condition})")
        after = _after_cursor(cursor, since)
        if after:
            conditions.append(f"({after})")

        soql = f"SELECT {', '.join(fields)} FROM {api_object}"
        if conditions:
            soql += " WHERE " + " AND ".join(conditions)
        # One record more than asked shows whether more are waiting.
        soql += f" ORDER BY SystemModstamp ASC, Id ASC LIMIT {limit + 1}"

        records = self.reader.query(soql, api_object, max_records=limit + 1)
        more = len(records) > limit
        records = records[:limit]
        events = [
            Event(id=record["Id"], version=str(record["SystemModstamp"]), data=self.names.with_logical_names(api_object, record))
            for record in records
        ]
        return Poll(events=events, cursor=_next_cursor(cursor, records), more=more)

    def _fields(self, api_object: str, fields: list[str]) -> list[str]:
        if not isinstance(fields, list):
            raise FatalError("fields must be a list of field names", code="INVALID_INPUT")
        selected = list(_ALWAYS_SELECTED)
        for name in fields:
            api_field = self.names.field_name(api_object, name)
            if api_field.lower() not in (item.lower() for item in selected):
                selected.append(api_field)
        return selected


def _after_cursor(cursor: Any, since: datetime | None) -> str | None:
    """Return the condition for records after the cursor, or from `since` on the first poll."""
    if not cursor:
        return f"SystemModstamp >= {datetime_literal(since)}" if since is not None else None
    if not isinstance(cursor, Mapping) or "modstamp" not in cursor:
        raise FatalError(f"the trigger cursor {cursor!r} is not one this trigger wrote", code="INVALID_CURSOR")

    moment = datetime_literal(parse_modstamp(str(cursor["modstamp"])))
    same_time = [f"SystemModstamp = {moment}"]
    if cursor.get("after_id"):
        same_time.append(f"Id > {literal(str(cursor['after_id']))}")
    ids = [str(item) for item in cursor.get("ids") or []]
    if ids:
        same_time.append(f"Id NOT IN {literal(ids)}")
    if len(same_time) == 1:
        return f"SystemModstamp > {moment}"
    return f"SystemModstamp > {moment} OR ({' AND '.join(same_time)})"


def _next_cursor(cursor: Any, records: list[dict[str, Any]]) -> Any:
    """Return the cursor after `records`: the last timestamp and the ids returned at it."""
    if not records:
        return cursor
    last = str(records[-1]["SystemModstamp"])
    at_last = [str(record["Id"]) for record in records if str(record["SystemModstamp"]) == last]

    if cursor and str(cursor.get("modstamp")) == last:
        ids = list(cursor.get("ids") or []) + at_last
        after_id = cursor.get("after_id")
    else:
        ids, after_id = at_last, None
    if len(ids) > MAX_TIE_IDS:
        # NOTE: assumes Salesforce compares Id values in the same order ORDER BY Id sorts them.
        ids, after_id = [], ids[-1]

    next_cursor: dict[str, Any] = {"modstamp": last, "ids": ids}
    if after_id:
        next_cursor["after_id"] = after_id
    return next_cursor
