"""A small threaded HTTP server on the loopback address for the sandbox APIs.

Each sandbox (Shopify, Salesforce) registers its routes on a `Router` and runs inside a
`SandboxServer`. The server adds what both need: injected latency and faults, and a count of
requests per endpoint so tests and benchmarks can assert how many calls a job made.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from engine import jsoncodec

__all__ = ["Faults", "Request", "Response", "Router", "SandboxServer", "SandboxService", "LOOPBACK"]

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


@dataclass
class Faults:
    """Latency and failures injected before a request reaches its handler.

    Shares are fractions of requests between 0 and 1. Latency is in seconds.
    """

    latency: float = 0.0
    jitter: float = 0.0
    error_share: float = 0.0
    timeout_share: float = 0.0
    timeout_seconds: float = 30.0
    forced_429: int = 0
    seed: int | None = None
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def delay(self) -> float:
        return self.latency + (self._random.uniform(0, self.jitter) if self.jitter else 0.0)

    def draw_error(self) -> bool:
        return self.error_share > 0 and self._random.random() < self.error_share

    def draw_timeout(self) -> bool:
        return self.timeout_share > 0 and self._random.random() < self.timeout_share

    def take_forced_429(self) -> bool:
        if self.forced_429 <= 0:
            return False
        self.forced_429 -= 1
        return True


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str]
    endpoint: str
    context: dict[str, Any] = field(default_factory=dict)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def json(self) -> Any:
        if not self.body:
            return None
        return jsoncodec.loads(self.body)


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return jsoncodec.dumps(self.body).encode("utf-8")


Handler = Callable[[Request], Response]


class Router:
    """Maps a method and a path pattern to a handler; each route has an endpoint name for counting."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], str, Handler]] = []

    def add(self, method: str, pattern: str, endpoint: str, handler: Handler) -> None:
        self._routes.append((method.upper(), re.compile(pattern + r"\Z"), endpoint, handler))

    def match(self, method: str, path: str) -> tuple[str, dict[str, str], Handler] | None:
        for route_method, pattern, endpoint, handler in self._routes:
            found = pattern.match(path)
            if found and route_method == method:
                return endpoint, found.groupdict(), handler
        return None


class SandboxServer:
    """Serves a router on the loopback address in a background thread.

    `before_request` runs before faults and routing; a sandbox uses it for authentication or
    rate limits and returns a Response to answer early, or None to go on.
    """

    def __init__(
        self,
        name: str,
        router: Router,
        port: int = 0,
        faults: Faults | None = None,
        before_request: Callable[[Request], Response | None] | None = None,
        after_request: Callable[[Request, Response], None] | None = None,
        fault_response: Callable[[int], Response] | None = None,
    ) -> None:
        self.name = name
        self.router = router
        self.faults = faults or Faults()
        self.before_request = before_request
        self.after_request = after_request
        self.fault_response = fault_response or (lambda status: Response(status, {"error": "sandbox fault"}))
        self.calls: Counter[str] = Counter()
        self._calls_lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((LOOPBACK, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> "SandboxServer":
        # A short poll interval lets stop() return quickly instead of after serve_forever's default 0.5 s.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sandbox-{self.name}", daemon=True)
        self._thread.start()
        log.info("%s sandbox listening on %s", self.name, self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and release the port; safe to call when never started, and more than once."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            # shutdown() waits for serve_forever, which only runs once start() was called.
            self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reset_calls(self) -> None:
        with self._calls_lock:
            self.calls.clear()

    def count(self, endpoint: str) -> None:
        with self._calls_lock:
            self.calls[endpoint] += 1

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def dispatch(self, request: Request) -> Response | None:
        """Answer one request; None means the connection is dropped with no answer (a timeout)."""
        self.count(request.endpoint)

        delay = self.faults.delay()
        if delay:
            time.sleep(delay)

        if self.faults.draw_timeout():
            time.sleep(self.faults.timeout_seconds)
            return None

        if self.faults.draw_error():
            return self.fault_response(random.choice([500, 503]))

        if self.before_request:
            early = self.before_request(request)
            if early is not None:
                return early

        if self.faults.take_forced_429():
            return self.fault_response(429)

        matched = self.router.match(request.method, request.path)
        if matched is None:
            response = Response(404, {"errors": "Not Found"})
        else:
            _, params, handler = matched
            request.params = params
            response = handler(request)

        if self.after_request:
            self.after_request(request, response)
        return response

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; without TCP_NODELAY the second waits about 40 ms.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("%s sandbox: " + format, server.name, *args)

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                matched = server.router.match(self.command, parts.path)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={key.lower(): value for key, value in self.headers.items()},
                    body=body,
                    params={},
                    endpoint=f"{self.command} {matched[0] if matched else parts.path}",
                )
                response = server.dispatch(request)
                if response is None:
                    self.close_connection = True
                    return
                payload = response.encode()
                self.send_response(response.status)
                if payload:
                    self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                try:
                    self.end_headers()
                    if payload and self.command != "HEAD":
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    # The client went away (a killed process, a timeout) before reading the response.
                    log.debug("%s sandbox: the client closed the connection before the response to %s", server.name, request.endpoint)
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        return _Handler


class SandboxService:
    """Base of a sandbox API (Shopify, Salesforce): the lifecycle around its `SandboxServer`.

    A subclass sets `self.server` and may override `on_stop`, which runs after the server has
    stopped (to save state, close clients).
    """

    server: SandboxServer

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def base_url(self) -> str:
        """The plain-http loopback address the server listens on."""
        return self.server.base_url

    @property
    def calls(self) -> Counter[str]:
        """Requests received, by endpoint name."""
        return self.server.calls

    @property
    def faults(self) -> Faults:
        return self.server.faults

    def start(self) -> "SandboxService":
        self.server.start()
        return self

    def stop(self) -> None:
        """Stop serving (or only release the port if never started), then run `on_stop`."""
        self.server.stop()
        log.info("%s sandbox on port %d stopped", self.server.name, self.port)
        self.on_stop()

    def on_stop(self) -> None:
        """Run after the server has stopped; does nothing by default."""

    def __enter__(self) -> "SandboxService":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
