"""`ShopifySandbox`: the store, its REST, GraphQL and admin routes, rate limits and webhooks, on one server."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from connectors.sandbox.server import Faults, Request, Response, Router, SandboxServer, SandboxService

from . import errors
from .admin import register_admin_routes
from .clock import Clock, SystemClock
from .graphql_api import register_graphql_route
from .ratelimit import LeakyBucket
from .rest import API_PREFIX
from .rest_catalog import register_catalogue_routes
from .rest_fulfillments import register_fulfillment_routes
from .rest_orders import register_order_routes
from .seed import seed_state
from .state import ShopProfile, ShopState
from .webhooks import WebhookSender

__all__ = ["DEFAULT_API_VERSION", "ShopifySandbox"]

log = logging.getLogger(__name__)

DEFAULT_API_VERSION = "2026-10"
_GRAPHQL_SUFFIX = "/graphql.json"


class ShopifySandbox(SandboxService):
    """A local Shopify Admin API on 127.0.0.1, seeded with a store, for tests and benchmarks.

    The state is loaded from `state_file` when that file exists (else seeded from `seed` and
    `extra_orders`), and written back to it on `stop`. REST requests share one leaky bucket of
    `bucket_size` requests leaking `leak_rate` per second; GraphQL queries spend points from a
    bucket of `graphql_bucket_size` restored at `graphql_restore_rate` per second. `clock`
    drives both buckets and the timestamps of new changes; tests pass a `ManualClock`.
    """

    def __init__(
        self,
        port: int = 0,
        seed: int = 7,
        state_file: str | Path | None = None,
        faults: Faults | None = None,
        bucket_size: int = 40,
        leak_rate: float = 2.0,
        shop: str = "sandbox-store.myshopify.com",
        access_token: str = "shpat_sandbox_token",
        app_secret: str = "sandbox_app_secret",
        extra_orders: int = 0,
        graphql_bucket_size: float = 1000.0,
        graphql_restore_rate: float = 50.0,
        api_version: str = DEFAULT_API_VERSION,
        clock: Clock | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.state_file = Path(state_file) if state_file else None
        self.access_token = access_token
        self.app_secret = app_secret
        self.api_version = api_version
        self.state = self._initial_state(seed, extra_orders, shop)

        self.rest_bucket = LeakyBucket(bucket_size, leak_rate, self.clock)
        self.graphql_bucket = LeakyBucket(graphql_bucket_size, graphql_restore_rate, self.clock)
        self.webhooks = WebhookSender(self.state.profile.domain, app_secret, api_version, self.clock)
        self.state.add_listener(self.webhooks.deliver)

        router = Router()
        register_order_routes(router, self.state, lambda: self.base_url)
        register_fulfillment_routes(router, self.state)
        register_catalogue_routes(router, self.state, lambda: self.base_url)
        register_graphql_route(router, self.state, self.graphql_bucket)
        register_admin_routes(router, self)
        router.add("GET", r"/admin/oauth/access_scopes\.json", "/admin/oauth/access_scopes.json", self._access_scopes)
        for method in ("GET", "POST", "PUT", "DELETE"):
            router.add(method, r"/admin/api/(?P<version>[^/]+)/.*", API_PREFIX + "*", lambda request: errors.not_found())

        self.server = SandboxServer(
            "shopify",
            router,
            port=port,
            faults=faults,
            before_request=self._before_request,
            after_request=self._after_request,
            fault_response=self._fault_response,
        )

    # --- public surface ------------------------------------------------------------------

    def api_url(self, version: str | None = None) -> str:
        """Return the REST base URL, for example `http://127.0.0.1:PORT/admin/api/2026-10`."""
        return f"{self.base_url}/admin/api/{version or self.api_version}"

    @property
    def webhook_target(self) -> str | None:
        return self.webhooks.target

    @webhook_target.setter
    def webhook_target(self, url: str | None) -> None:
        self.webhooks.target = url

    def on_stop(self) -> None:
        """Close the webhook sender, and save the state when a state file is set."""
        self.webhooks.close()
        if self.state_file is not None:
            self.save()

    def save(self, path: str | Path | None = None) -> Path:
        """Write the state to `path` (default: the state file) and return where it went."""
        target = Path(path) if path else self.state_file
        if target is None:
            raise ValueError("no path given and the sandbox has no state file")
        self.state.save(target)
        return target

    # --- request hooks -------------------------------------------------------------------

    def _initial_state(self, seed: int, extra_orders: int, shop: str) -> ShopState:
        if self.state_file is not None and self.state_file.exists():
            return ShopState.load(self.state_file, self.clock)
        return seed_state(seed, extra_orders, ShopProfile(domain=shop), self.clock)

    def _before_request(self, request: Request) -> Response | None:
        """Check the access token, then take a slot in the REST bucket (GraphQL has its own)."""
        if not request.path.startswith("/admin/"):
            return None
        if request.header("x-shopify-access-token") != self.access_token:
            return errors.unauthorized()
        if request.path.endswith(_GRAPHQL_SUFFIX) or not request.path.startswith("/admin/api/"):
            return None

        reading = self.rest_bucket.pour(1)
        capacity = int(self.rest_bucket.capacity)
        if not reading.allowed:
            log.info("REST bucket full, returning 429 for %s %s", request.method, request.path)
            return errors.throttled(reading.retry_after, self.rest_bucket.leak_rate, f"{capacity}/{capacity}")
        # The header must show the bucket as this request left it, so keep it on the request.
        request.context["call_limit"] = f"{self.rest_bucket.used_slots(reading.level)}/{capacity}"
        return None

    def _after_request(self, request: Request, response: Response) -> None:
        if not request.path.startswith("/admin/api/"):
            return
        response.headers.setdefault("X-Request-Id", str(uuid.uuid4()))
        version = request.params.get("version") or request.path.split("/")[3]
        response.headers.setdefault("X-Shopify-API-Version", version)
        call_limit = request.context.get("call_limit")
        if call_limit:
            response.headers["X-Shopify-Shop-Api-Call-Limit"] = call_limit

    def _fault_response(self, status: int) -> Response:
        if status == 429:
            return errors.throttled(1 / self.rest_bucket.leak_rate, self.rest_bucket.leak_rate)
        return errors.fault(status)

    def _access_scopes(self, request: Request) -> Response:
        handles = ["read_orders", "write_orders", "read_products", "read_inventory", "write_inventory", "read_locations", "read_fulfillments", "write_fulfillments", "read_merchant_managed_fulfillment_orders", "write_merchant_managed_fulfillment_orders"]
        return Response(200, {"access_scopes": [{"handle": handle} for handle in handles]})
