"""Helpers shared by the REST route modules: route templates, JSON bodies and `fields` selection.

Routes are written as templates such as `orders/{id}.json`. The template, prefixed with
`/admin/api/{version}/`, is also the endpoint name under which requests are counted, so counts
are the same whatever API version a client uses.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Callable

from connectors.sandbox.server import Request, Response, Router
from engine import jsoncodec

from .errors import ApiError

__all__ = ["API_PREFIX", "add_route", "api_base", "json_response", "parse_int", "read_body", "select_fields"]

log = logging.getLogger(__name__)

API_PREFIX = "/admin/api/{version}/"
_VERSION_PATTERN = r"(?P<version>\d{4}-\d{2}|unstable)"


def _template_pattern(template: str) -> str:
    pattern = re.escape(template)
    pattern = re.sub(r"\\\{(\w+)\\\}", lambda found: f"(?P<{found.group(1)}>\\d+)", pattern)
    return f"/admin/api/{_VERSION_PATTERN}/{pattern}"


def add_route(router: Router, method: str, template: str, handler: Callable[[Request], Response]) -> None:
    """Register `handler` for `/admin/api/{version}/<template>`; ApiError becomes its response."""

    def guarded(request: Request) -> Response:
        try:
            return handler(request)
        except ApiError as error:
            log.debug("%s %s rejected with %s: %s", method, request.path, error.status, error.errors)
            return error.response()

    router.add(method, _template_pattern(template), API_PREFIX + template, guarded)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Encode `body` now, so the response no longer shares objects with the store."""
    return Response(status, jsoncodec.dumps(body).encode("utf-8"), dict(headers or {}))


def read_body(request: Request) -> Any:
    try:
        return request.json()
    except ValueError:
        # NOTE: Shopify's exact body for malformed JSON was not checked; the status is 400.
        raise ApiError(400, "The request body is not valid JSON.") from None


def select_fields(record: dict[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
    """Keep only the requested top-level fields, as Shopify's `fields` parameter does."""
    if not fields:
        return record
    return {name: record[name] for name in fields if name in record}


def parse_int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, {name: "Required parameter missing or invalid"}) from None


def api_base(request: Request, fallback: str) -> str:
    """Return the scheme and host the client used, so `Link` URLs lead back to this server."""
    host = request.header("host")
    return f"http://{host}" if host else fallback
