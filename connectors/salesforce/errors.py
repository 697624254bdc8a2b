"""Salesforce REST errors as the engine's errors: retry, skip the event, or fail the job.

The REST API responds to a failed call with a list of `{"message", "errorCode", "fields"}`.
sObject Collections write the code as `statusCode`, and composite requests nest the same
lists per subrequest. Every error keeps the API's own code, HTTP status, message and fields.

| what | engine error |
| --- | --- |
| 5xx, timeouts, dropped connections, `UNABLE_TO_LOCK_ROW`, 429 | RetryableError |
| 403 `REQUEST_LIMIT_EXCEEDED` | RetryableError with a long `retry_after` (the client pauses) |
| `DUPLICATE_VALUE` on an upsert inside `save_tree`'s graph (`tree.py`) | RetryableError: a racing insert |
| `ENTITY_IS_DELETED` | SkipEventError: the record went to the recycle bin |
| validation codes, `NOT_FOUND`, 300 on an external id, any other 4xx | FatalError |
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from engine.errors import ActionError, FatalError, RetryableError, SkipEventError

__all__ = [
    "error_from_response",
    "error_from_items",
    "first_error",
    "limit_pause_seconds",
    "ROLLED_BACK_CODES",
    "REQUEST_LIMIT_EXCEEDED",
    "INVALID_SESSION_ID",
    "DAILY_LIMIT_PAUSE_SECONDS",
    "CONCURRENCY_LIMIT_PAUSE_SECONDS",
    "LOCKED_ROW_RETRY_SECONDS",
]

REQUEST_LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"
INVALID_SESSION_ID = "INVALID_SESSION_ID"

# Codes that only report that another part of the same request failed. The cause is elsewhere.
ROLLED_BACK_CODES = frozenset({"ALL_OR_NONE_OPERATION_ROLLED_BACK", "PROCESSING_HALTED"})

_RETRYABLE_CODES = frozenset({"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_RUNNING_TOO_LONG", "QUERY_TIMEOUT"})
_SKIP_CODES = frozenset({"ENTITY_IS_DELETED"})

# The daily allowance is a rolling 24-hour count, so requests free up gradually: look again in an
# hour. Other REQUEST_LIMIT_EXCEEDED errors (concurrent long transactions) clear within minutes.
# NOTE: both pauses are estimates, not values Salesforce documents.
DAILY_LIMIT_PAUSE_SECONDS = 3600.0
CONCURRENCY_LIMIT_PAUSE_SECONDS = 300.0
# A row lock is held by another transaction for seconds at most.
LOCKED_ROW_RETRY_SECONDS = 2.0


def limit_pause_seconds(message: str) -> float:
    """Return how long to pause after REQUEST_LIMIT_EXCEEDED with this message."""
    if "TotalRequests" in message:
        return DAILY_LIMIT_PAUSE_SECONDS
    return CONCURRENCY_LIMIT_PAUSE_SECONDS


def _items(body: Any) -> list[dict[str, Any]]:
    """Return the error entries of a response body, whatever its shape."""
    if isinstance(body, list):
        return [item for item in body if isinstance(item, Mapping)]
    if isinstance(body, Mapping):
        if "errors" in body and isinstance(body["errors"], list):
            return [item for item in body["errors"] if isinstance(item, Mapping)]
        if "error" in body:
            # The OAuth endpoints return {"error", "error_description"}.
            return [{"errorCode": body["error"], "message": body.get("error_description", "")}]
        return [body]
    return []


def first_error(items: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """Return the entry that names the cause: the first that is not only a rolled-back notice."""
    entries = list(items)
    for item in entries:
        if _code(item) not in ROLLED_BACK_CODES:
            return item
    return entries[0] if entries else None


def _code(item: Mapping[str, Any]) -> str:
    return str(item.get("errorCode") or item.get("statusCode") or "")


def error_from_items(items: Iterable[Mapping[str, Any]], context: str, status: int | None = None, record_id: str | None = None) -> ActionError:
    """Build the engine error for a list of Salesforce error entries (REST or Collections form)."""
    chosen = first_error(items)
    if chosen is None:
        return _by_status(status, None, f"{context}: Salesforce answered HTTP {status} with no error details", [])
    code = _code(chosen) or None
    message = str(chosen.get("message") or code or "no message")
    fields = [str(name) for name in chosen.get("fields") or []]
    where = f"{context} ({record_id})" if record_id else context
    return _classify(status, code, f"{where}: {message}", fields)


def error_from_response(status: int, body: Any, context: str) -> ActionError:
    """Build the engine error for an HTTP error response; `body` is the parsed JSON or the text."""
    if status == 300:
        # Several records hold the external id value; the body lists their URLs.
        urls = [str(url) for url in body] if isinstance(body, list) else []
        ids = [url.rstrip("/").rsplit("/", 1)[-1] for url in urls]
        return FatalError(f"{context}: more than one record has this external id: {', '.join(ids)}", code="MULTIPLE_CHOICES", status=300)

    items = _items(body)
    if not items and isinstance(body, str) and body.strip():
        return _by_status(status, None, f"{context}: HTTP {status}: {body.strip()[:300]}", [])
    return error_from_items(items, context, status)


def _classify(status: int | None, code: str | None, message: str, fields: list[str]) -> ActionError:
    if code == REQUEST_LIMIT_EXCEEDED:
        return RetryableError(message, code=code, status=status, retry_after=limit_pause_seconds(message))
    if code in _RETRYABLE_CODES:
        retry_after = LOCKED_ROW_RETRY_SECONDS if code == "UNABLE_TO_LOCK_ROW" else None
        return RetryableError(message, code=code, status=status, fields=fields, retry_after=retry_after)
    if code in _SKIP_CODES:
        return SkipEventError(message, code=code, status=status, fields=fields)
    return _by_status(status, code, message, fields)


def _by_status(status: int | None, code: str | None, message: str, fields: list[str]) -> ActionError:
    if status is not None and (status >= 500 or status == 429):
        return RetryableError(message, code=code, status=status, fields=fields)
    return FatalError(message, code=code, status=status, fields=fields)
