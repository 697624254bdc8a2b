"""Turn Shopify's error responses into the engine's errors, keeping Shopify's messages and field names.

REST errors come as an HTTP status with a body whose `errors` (or `error`) value is a string, a list
of strings, or an object of field name to messages. GraphQL errors come with status 200: top-level
`errors` whose `extensions.code` names the problem, or `userErrors` in a mutation's payload.

| Answer | Raised | Code |
| --- | --- | --- |
| 401, 402, 403, 404, 405, 406, 409, 414, 415, 423, other 4xx | FatalError | UNAUTHORIZED, PAYMENT_REQUIRED, FORBIDDEN, NOT_FOUND, ... |
| 400, 422 | FatalError with fields | BAD_REQUEST, UNPROCESSABLE_ENTITY |
| 429 | RetryableError with retry_after | THROTTLED |
| 500, 502, 503, 504 and other 5xx but 501 | RetryableError | INTERNAL_SERVER_ERROR, ... |
| timeout, dropped connection | RetryableError | TIMEOUT, CONNECTION_FAILED |
| GraphQL THROTTLED, INTERNAL_SERVER_ERROR | RetryableError | the extension code |
| other GraphQL errors | FatalError | the extension code, else GRAPHQL_ERROR |
| GraphQL userErrors | FatalError (RetryableError for a stale compare quantity) | the user error's code |
"""

from __future__ import annotations

from typing import Any, Iterable

from engine.errors import ActionError, FatalError, RetryableError

__all__ = [
    "RETRYABLE_GRAPHQL_CODES",
    "STALE_QUANTITY_CODES",
    "error_from_graphql",
    "error_from_response",
    "error_from_user_errors",
    "messages_and_fields",
    "status_code_name",
]

_STATUS_NAMES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    402: "PAYMENT_REQUIRED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    414: "URI_TOO_LONG",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "UNPROCESSABLE_ENTITY",
    423: "LOCKED",
    429: "THROTTLED",
    500: "INTERNAL_SERVER_ERROR",
    501: "NOT_IMPLEMENTED",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}

# The fix a person can make for each status. Shopify's own message names the problem.
_HINTS = {
    401: "check the connection's access_token",
    402: "the shop's plan is unpaid or frozen; the shop owner must settle it in Shopify",
    403: "the app lacks an access scope for this call; grant it in the app's configuration",
    423: "the shop is locked; contact Shopify support",
}

RETRYABLE_GRAPHQL_CODES = frozenset({"THROTTLED", "INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"})

# A stale compare quantity means the stock moved between the read and the write; a retry reads again.
STALE_QUANTITY_CODES = frozenset({"CHANGE_FROM_QUANTITY_STALE", "COMPARE_QUANTITY_STALE"})

# Keys of an `errors` object that name no input field.
_NOT_FIELDS = frozenset({"base", "error", "errors"})


def status_code_name(status: int) -> str:
    """Return the code the connector gives an HTTP status, such as NOT_FOUND for 404."""
    if status in _STATUS_NAMES:
        return _STATUS_NAMES[status]
    return "SERVER_ERROR" if status >= 500 else "CLIENT_ERROR"


def messages_and_fields(body: Any) -> tuple[list[str], list[str]]:
    """Return Shopify's error messages and the input fields they name, from a REST error body.

    `{"errors": {"email": ["is invalid"]}}` gives (["email is invalid"], ["email"]);
    `{"errors": "Not Found"}` gives (["Not Found"], []).
    """
    value = body.get("errors", body.get("error")) if isinstance(body, dict) else body
    if value is None:
        return [], []
    if isinstance(value, str):
        return [value], []
    if isinstance(value, list):
        return [str(item) for item in value], []
    if not isinstance(value, dict):
        return [str(value)], []

    messages, fields = [], []
    for name, problems in value.items():
        for problem in problems if isinstance(problems, list) else [problems]:
            text = str(problem)
            messages.append(text if name in _NOT_FIELDS or text.startswith(str(name)) else f"{name} {text}")
        if name not in _NOT_FIELDS:
            fields.append(str(name))
    return messages, fields


def error_from_response(status: int, body: Any, call: str, retry_after: float | None = None) -> ActionError:
    """Return the error for a REST or GraphQL response with an HTTP error status.

    `call` names the request for the message, for example "GET orders/123.json".
    """
    code = status_code_name(status)
    messages, fields = messages_and_fields(body)
    detail = "; ".join(messages) or f"HTTP {status}"
    message = f"Shopify rejected {call}: {detail}"
    if status in _HINTS:
        message += f" ({_HINTS[status]})"

    if status == 429:
        return RetryableError(message, code=code, status=status, retry_after=retry_after)
    if status >= 500 and status != 501:
        return RetryableError(f"Shopify could not process {call}: {detail}", code=code, status=status, retry_after=retry_after)
    return FatalError(message, code=code, status=status, fields=fields)


def error_from_graphql(errors: list[Any], operation: str, retry_after: float | None = None) -> ActionError:
    """Return the error for a GraphQL response's top-level `errors`."""
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    extensions = first.get("extensions") or {}
    code = str(extensions.get("code") or "GRAPHQL_ERROR")
    messages = [str(error.get("message", error)) if isinstance(error, dict) else str(error) for error in errors]
    message = f"Shopify GraphQL {operation} failed: {'; '.join(messages)}"

    if code in RETRYABLE_GRAPHQL_CODES:
        return RetryableError(message, code=code, retry_after=retry_after)
    status = 403 if code == "ACCESS_DENIED" else None
    return FatalError(message, code=code, status=status)


def error_from_user_errors(user_errors: Iterable[dict[str, Any]], operation: str, describe_field: Any = None) -> ActionError:
    """Return the error for a mutation's `userErrors`, with each error's code and field path.

    `describe_field(path)` may return words that name the record a field path points at.
    """
    problems = list(user_errors)
    fields, messages = [], []
    for problem in problems:
        path = [str(part) for part in problem.get("field") or []]
        if path:
            fields.append(".".join(path))
        where = describe_field(path) if describe_field and path else None
        code = problem.get("code")
        text = str(problem.get("message", ""))
        messages.append(" ".join(part for part in (f"[{code}]" if code else "", f"{where}:" if where else "", text) if part))

    code = next((str(problem["code"]) for problem in problems if problem.get("code")), "USER_ERROR")
    message = f"Shopify rejected {operation}: {'; '.join(messages)}"
    if code in STALE_QUANTITY_CODES:
        return RetryableError(message, code=code, fields=fields)
    return FatalError(message, code=code, fields=fields)
