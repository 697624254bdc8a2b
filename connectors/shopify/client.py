"""HTTP access to the Shopify Admin API: REST and GraphQL calls, rate limiting, retries and errors.

One `ShopifyClient` serves one connection and sends the access token in `X-Shopify-Access-Token`.
It waits before a call that would overflow the shop's REST bucket or GraphQL points. It retries a
throttled call (HTTP 429, GraphQL THROTTLED) up to `max_retries` times, and raises the engine's
errors for every other failure (see `connectors.shopify.errors`). Each HTTP request calls
`on_request` once, which the connector uses to count round trips.

Only the method, the path (which carries record ids), the status, the duration and the query cost
are logged, at debug level: never bodies, query values or the token.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import urlsplit

import requests

from engine import jsoncodec
from engine.errors import FatalError, RetryableError

from .errors import error_from_graphql, error_from_response
from .ratelimit import GraphQLBudget, RestBucket
from .settings import ShopifySettings

__all__ = ["ClientStats", "QueryCostExceeded", "RestResponse", "ShopifyClient", "CALL_LIMIT_HEADER"]

log = logging.getLogger(__name__)

CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"
_USER_AGENT = "recipe-engine-shopify/0.1"


@dataclass(frozen=True)
class RestResponse:
    """A successful REST response: status, decoded JSON body, headers and the next page's URL."""

    status: int
    body: Any
    headers: Mapping[str, str]
    next_url: str | None


@dataclass
class ClientStats:
    """Counters for tests and logs: throttled responses received and seconds spent waiting."""

    throttled: int = 0
    waited_seconds: float = 0.0
    waits: list[float] = field(default_factory=list)


class QueryCostExceeded(FatalError):
    """A GraphQL query costs more than Shopify allows for one query (MAX_COST_EXCEEDED)."""

    def __init__(self, message: str, cost: float | None, max_cost: float | None) -> None:
        super().__init__(message, code="MAX_COST_EXCEEDED")
        self.cost = cost
        self.max_cost = max_cost


class ShopifyClient:
    """Calls one shop's Admin API with `requests`; see the module docstring for the contract."""

    def __init__(
        self,
        settings: ShopifySettings,
        on_request: Callable[[], None] = lambda: None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        self.settings = settings
        self.stats = ClientStats()
        self.rest_bucket = RestBucket(monotonic)
        self.graphql_budget = GraphQLBudget(monotonic)
        self.served_version: str | None = None
        self._on_request = on_request
        self._sleep = sleep
        self._session = session or requests.Session()
        # Proxy variables from the environment must not divert calls to a local sandbox.
        self._session.trust_env = not settings.loopback
        self._session.headers.update(
            {"X-Shopify-Access-Token": settings.access_token, "Accept": "application/json", "User-Agent": _USER_AGENT}
        )

    def close(self) -> None:
        self._session.close()

    # REST --------------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None) -> RestResponse:
        """GET `path` (relative to the versioned API root, such as "orders/1.json")."""
        return self._rest("GET", self._url(path), params, None, f"GET {path}")

    def post(self, path: str, body: Any) -> RestResponse:
        return self._rest("POST", self._url(path), None, body, f"POST {path}")

    def pages(self, path: str, params: dict[str, Any], key: str) -> Iterator[list[dict[str, Any]]]:
        """Yield the `key` list of each page of a REST list, following the `Link` header's next URL.

        Later pages are requested with the URL Shopify gives, which carries only `limit`,
        `fields` and `page_info`, as Shopify requires.
        """
        response = self.get(path, params)
        while True:
            yield list((response.body or {}).get(key) or [])
            if not response.next_url:
                return
            response = self._rest("GET", response.next_url, None, None, f"GET {path} (next page)")

    def _rest(self, method: str, url: str, params: dict[str, Any] | None, body: Any, call: str) -> RestResponse:
        for attempt in itertools.count():
            self._wait(self.rest_bucket.take(), call)
            response = self._send(method, url, params, body, call)
            self.rest_bucket.observe(response.headers.get(CALL_LIMIT_HEADER))

            if response.status_code == 429:
                retry_after = _retry_after(response) or self.rest_bucket.seconds_until_one_fits()
                self.stats.throttled += 1
                if attempt < self.settings.max_retries:
                    log.info("shopify %s throttled (429); retrying in %.2f s", call, retry_after)
                    self._wait(retry_after, call)
                    continue
                raise error_from_response(429, _error_body(response), call, retry_after)

            payload = _decode(response)
            if response.status_code >= 400:
                raise error_from_response(response.status_code, _error_body(response), call, _retry_after(response))
            if payload is _NOT_JSON:
                raise FatalError(f"Shopify's response to {call} is not JSON", code="INVALID_RESPONSE", status=response.status_code)
            return RestResponse(response.status_code, payload, response.headers, self._next_url(response, call))
        raise AssertionError("unreachable")

    # GraphQL -----------------------------------------------------------------------------------

    def graphql(self, query: str, variables: dict[str, Any], operation: str, cost: float) -> dict[str, Any]:
        """Run a GraphQL query or mutation and return its `data`.

        `cost` is the caller's estimate of the requested query cost; the client waits until the
        shop has that many points. Raises QueryCostExceeded when Shopify finds the query too
        costly for any bucket, RetryableError when still throttled after `max_retries` retries.
        """
        url = self._url("graphql.json")
        call = f"GraphQL {operation}"
        for attempt in itertools.count():
            self._wait(self.graphql_budget.take(cost), call)
            response = self._send("POST", url, None, {"query": query, "variables": variables, "operationName": operation}, call)
            if response.status_code == 429:
                retry_after = _retry_after(response) or 1.0
                self.stats.throttled += 1
                if attempt < self.settings.max_retries:
                    self._wait(retry_after, call)
                    continue
                raise error_from_response(429, _error_body(response), call, retry_after)

            payload = _decode(response)
            if response.status_code >= 400:
                raise error_from_response(response.status_code, _error_body(response), call, _retry_after(response))
            if not isinstance(payload, dict):
                raise FatalError(f"Shopify's response to {call} is not a JSON object", code="INVALID_RESPONSE", status=response.status_code)

            extensions_cost = (payload.get("extensions") or {}).get("cost") or {}
            self.graphql_budget.observe(extensions_cost)
            log.debug("shopify %s cost requested=%s actual=%s", call, extensions_cost.get("requestedQueryCost"), extensions_cost.get("actualQueryCost"))

            errors = payload.get("errors")
            if not errors:
                return payload.get("data") or {}
            code = _graphql_code(errors)
            if code == "THROTTLED":
                self.stats.throttled += 1
                cost = max(cost, float(extensions_cost.get("requestedQueryCost") or cost))
                retry_after = self.graphql_budget.wait_for(cost)
                if attempt < self.settings.max_retries:
                    log.info("shopify %s throttled; retrying in %.2f s", call, retry_after)
                    if retry_after <= 0:
                        # The response had no throttle status to compute the wait from.
                        self._wait(1.0, call)
                    continue
                raise error_from_graphql(errors, operation, retry_after or 1.0)
            if code == "MAX_COST_EXCEEDED":
                extensions = errors[0].get("extensions") or {}
                raise QueryCostExceeded(f"Shopify GraphQL {operation} costs too much: {errors[0].get('message', '')}", _number(extensions.get("cost")), _number(extensions.get("maxCost")))
            raise error_from_graphql(errors, operation)
        raise AssertionError("unreachable")

    # Transport ---------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.settings.api_root}/{path.lstrip('/')}"

    def _wait(self, seconds: float, call: str) -> None:
        if seconds <= 0:
            return
        log.debug("shopify waiting %.2f s before %s", seconds, call)
        self.stats.waited_seconds += seconds
        self.stats.waits.append(seconds)
        self._sleep(seconds)

    def _send(self, method: str, url: str, params: dict[str, Any] | None, body: Any, call: str) -> requests.Response:
        """Send one HTTP request; a timeout or a dropped connection raises RetryableError."""
        self._on_request()
        data = jsoncodec.dumps(body).encode("utf-8") if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else None
        started = time.perf_counter()
        try:
            response = self._session.request(method, url, params=params, data=data, headers=headers, timeout=self.settings.timeout_seconds)
        except requests.Timeout:
            log.debug("shopify %s timed out after %.1f ms", call, (time.perf_counter() - started) * 1000)
            raise RetryableError(f"Shopify request {call} timed out after {self.settings.timeout_seconds:g} s", code="TIMEOUT") from None
        except requests.ConnectionError as error:
            log.debug("shopify %s failed to connect: %s", call, type(error).__name__)
            raise RetryableError(f"could not reach Shopify at {self.settings.base_url} for {call} ({type(error).__name__})", code="CONNECTION_FAILED") from None

        self.served_version = response.headers.get("X-Shopify-API-Version") or self.served_version
        log.debug("shopify %s %s -> %s in %.1f ms", method, urlsplit(url).path, response.status_code, (time.perf_counter() - started) * 1000)
        return response

    def _next_url(self, response: requests.Response, call: str) -> str | None:
        url = (response.links.get("next") or {}).get("url")
        if not url:
            return None
        # The token goes wherever the link points, so follow only links back to the same shop.
        if _origin(url) != _origin(self.settings.base_url):
            raise FatalError(f"Shopify's Link header for {call} points to another host ({_origin(url)}); not following it", code="INVALID_RESPONSE")
        return url


class _NotJson:
    def __repr__(self) -> str:
        return "<not JSON>"


_NOT_JSON: Any = _NotJson()


def _decode(response: requests.Response) -> Any:
    """Return the JSON body (Decimals for fractional numbers), None when empty, or _NOT_JSON."""
    if not response.content:
        return None
    try:
        return jsoncodec.loads(response.content)
    except ValueError:
        return _NOT_JSON


def _error_body(response: requests.Response) -> Any:
    """Return an error response's JSON body, or None when it has none (an HTML page from a proxy)."""
    body = _decode(response)
    return None if body is _NOT_JSON else body


def _retry_after(response: requests.Response) -> float | None:
    text = response.headers.get("Retry-After")
    try:
        seconds = float(text) if text else None
    except ValueError:
        return None
    return seconds if seconds is not None and seconds >= 0 else None


def _graphql_code(errors: Any) -> str | None:
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    return (first.get("extensions") or {}).get("code")


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
