"""Salesforce API errors raised inside the sandbox and the error bodies the REST API returns.

The REST API responds to a failed call with a JSON list of errors, each with `message`, `errorCode`
and `fields`. sObject Collections use the same facts but call the code `statusCode`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "error_body", "MALFORMED_ID", "NOT_FOUND_MESSAGE"]

NOT_FOUND_MESSAGE = "The requested resource does not exist"
MALFORMED_ID = "MALFORMED_ID"


class ApiError(Exception):
    """One Salesforce API error: an HTTP status, an error code, a message and the fields involved."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = list(fields or [])

    def as_error(self) -> dict[str, Any]:
        """Return the error as one item of a REST error body."""
        return {"message": self.message, "errorCode": self.code, "fields": self.fields}

    def as_collection_error(self) -> dict[str, Any]:
        """Return the error as sObject Collections write it, with `statusCode` for the code."""
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}

    def body(self) -> list[dict[str, Any]]:
        return [self.as_error()]


def error_body(code: str, message: str, fields: list[str] | None = None) -> list[dict[str, Any]]:
    """Return a REST error body holding one error."""
    return [{"message": message, "errorCode": code, "fields": list(fields or [])}]
