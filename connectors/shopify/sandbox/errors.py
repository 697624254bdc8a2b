"""Shopify's REST error responses, with the status codes and bodies the real Admin API sends."""

from __future__ import annotations

import math
from typing import Any

from connectors.sandbox.server import Response

__all__ = [
    "ApiError",
    "INVALID_TOKEN_MESSAGE",
    "fault",
    "not_found",
    "throttled",
    "unauthorized",
]

INVALID_TOKEN_MESSAGE = "[API] Invalid API key or access token (unrecognized login or wrong password)"


def unauthorized() -> Response:
    return Response(401, {"errors": INVALID_TOKEN_MESSAGE})


def not_found() -> Response:
    return Response(404, {"errors": "Not Found"})


def throttled(retry_after: float, calls_per_second: float, call_limit: str | None = None) -> Response:
    """Return the 429 for a full REST bucket; `Retry-After` is in seconds, written like "2.0".

    The wait is rounded up to a tenth of a second, so a client that waits exactly that long fits.
    """
    headers = {"Retry-After": f"{math.ceil(retry_after * 10 - 1e-9) / 10:.1f}"}
    if call_limit is not None:
        headers["X-Shopify-Shop-Api-Call-Limit"] = call_limit
    message = (
        f"Exceeded {calls_per_second:g} calls per second for api client. "
        "Reduce request rates to resume uninterrupted service."
    )
    return Response(429, {"errors": message}, headers)


def fault(status: int) -> Response:
    """Return an injected server fault with a Shopify-style body."""
    # NOTE: neither body was checked against what Shopify sends for a 500 or 503.
    messages = {500: "Internal Server Error", 503: "Service Unavailable"}
    return Response(status, {"errors": messages.get(status, "Internal Server Error")})


class ApiError(Exception):
    """A request the store rejects, carrying the status and the `errors` value Shopify would send."""

    def __init__(self, status: int, errors: Any) -> None:
        super().__init__(f"{status}: {errors}")
        self.status = status
        self.errors = errors

    def response(self) -> Response:
        return Response(self.status, {"errors": self.errors})
