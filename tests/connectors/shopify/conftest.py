"""Fixtures for the Shopify sandbox tests: a running sandbox, a REST client, a manual clock and a webhook receiver."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest
import requests

from connectors.shopify.sandbox import ManualClock, ShopifySandbox

TOKEN = "shpat_sandbox_token"
SECRET = "sandbox_app_secret"


class SandboxClient:
    """A `requests` session that sends the access token to one sandbox's REST API."""

    def __init__(self, sandbox: ShopifySandbox) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers["X-Shopify-Access-Token"] = TOKEN

    def url(self, path: str, version: str = "2026-10") -> str:
        return f"{self.sandbox.api_url(version)}/{path}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.url(path), params=params)

    def post(self, path: str, body: Any) -> requests.Response:
        return self.session.post(self.url(path), json=body)

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> requests.Response:
        return self.session.post(self.url("graphql.json"), json={"query": query, "variables": variables or {}})

    def admin(self, method: str, path: str, body: Any = None) -> requests.Response:
        return self.session.request(method, f"{self.sandbox.base_url}/sandbox/{path}", json=body)


@pytest.fixture
def shopify_sandbox() -> Iterator[ShopifySandbox]:
    """A seeded sandbox (seed 7) on a free loopback port, stopped after the test."""
    sandbox = ShopifySandbox(port=0, seed=7).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def client(shopify_sandbox: ShopifySandbox) -> Iterator[SandboxClient]:
    client = SandboxClient(shopify_sandbox)
    yield client
    client.session.close()


@pytest.fixture
def manual_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def clocked_client(manual_clock: ManualClock) -> Iterator[SandboxClient]:
    """A client of a sandbox whose rate-limit buckets follow `manual_clock`."""
    sandbox = ShopifySandbox(port=0, seed=7, clock=manual_clock).start()
    client = SandboxClient(sandbox)
    try:
        yield client
    finally:
        client.session.close()
        sandbox.stop()


@dataclass
class ReceivedWebhook:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    """A tiny HTTP server on 127.0.0.1 that records every POST it gets."""

    url: str
    received: list[ReceivedWebhook] = field(default_factory=list)

    def topics(self) -> list[str]:
        return [hook.headers["X-Shopify-Topic"] for hook in self.received]


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    received: list[ReceivedWebhook] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received.append(ReceivedWebhook(self.path, dict(self.headers.items()), self.rfile.read(length)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield WebhookReceiver(f"http://127.0.0.1:{server.server_address[1]}/webhooks", received)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def order_id(shopify_sandbox: ShopifySandbox) -> Any:
    """Look up a seeded order's id by its name, such as "#1001"."""

    def find(name: str) -> int:
        return next(order["id"] for order in shopify_sandbox.state.orders.values() if order["name"] == name)

    return find
