"""The service's HTTP server: webhook deliveries at `POST /webhooks/<recipe>` and `GET /healthz`.

A delivery is checked by the recipe trigger's connector (`verify_webhook`, over the raw body)
before anything else. A rejected one gets 401 and a log line that names the recipe and the
reason but never the payload. An accepted one is stored as a job and gets 200 at once, and the
recipe's job threads run the job later.
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator, Mapping

from engine import jsoncodec
from engine.errors import ConfigurationError, EventInvalid
from engine.logs import fields
from engine.service import DeliveryDeferred, RecipeNotRunning, Service

__all__ = ["WebhookServer", "MAX_BODY_BYTES", "WEBHOOK_PATH"]

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/"

# Shopify's own webhook payloads stay far below this; a larger body is refused before it is read.
MAX_BODY_BYTES = 5 * 1024 * 1024

# Seconds a sender is asked to wait before delivering again while a recipe cannot take deliveries.
_RETRY_AFTER = 30

# Seconds between the server loop's checks for a shutdown request; `stop` waits up to this long.
_SHUTDOWN_CHECK = 0.05

# Seconds a connection may stay silent before its thread gives up on it.
_SOCKET_TIMEOUT = 10.0


class _Headers(Mapping[str, str]):
    """Request headers looked up without regard to case, as HTTP defines them."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._values = {name.lower(): value for name, value in pairs}

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class WebhookServer:
    """A threading HTTP server on `host:port` (port 0 picks a free one) in front of a Service.

    `health` returns the `/healthz` document; by default the service's status.
    """

    def __init__(
        self,
        service: Service,
        host: str = "127.0.0.1",
        port: int = 8700,
        health: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.service = service
        self.health = health or (lambda: service.status().to_document())
        self._server = ThreadingHTTPServer((host, port), _handler_class(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}"

    def start(self) -> "WebhookServer":
        self._thread = threading.Thread(target=self._server.serve_forever, args=(_SHUTDOWN_CHECK,), name="webhook server", daemon=True)
        self._thread.start()
        log.info("listening for webhooks on %s%s<recipe> and health checks on %s/healthz", self.url, WEBHOOK_PATH, self.url, extra=fields(url=self.url))
        return self

    def stop(self) -> None:
        """Stop accepting requests; requests in progress finish on their own threads."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> "WebhookServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler_class(server: WebhookServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = _SOCKET_TIMEOUT
        server_version = "recipe-engine"

        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] != "/healthz":
                self._reply(404, {"error": f"no such page: {self.path}; webhooks go to POST {WEBHOOK_PATH}<recipe>"})
                return
            document = server.health()
            self._reply(200 if document.get("status") == "ok" else 503, document)

        def do_POST(self) -> None:
            path = self.path.split("?", 1)[0]
            if not path.startswith(WEBHOOK_PATH) or "/" in path[len(WEBHOOK_PATH):] or path == WEBHOOK_PATH:
                self._reply(404, {"error": f"no such page: {path}; webhooks go to POST {WEBHOOK_PATH}<recipe>"})
                return
            recipe = path[len(WEBHOOK_PATH):]
            raw_body = self._read_body()
            if raw_body is None:
                return
            self._deliver(recipe, raw_body)

        def _read_body(self) -> bytes | None:
            length_text = self.headers.get("Content-Length")
            if length_text is None or not length_text.isdigit():
                self._reply(411, {"error": "a Content-Length header is required"})
                return None
            length = int(length_text)
            if length > MAX_BODY_BYTES:
                self._reply(413, {"error": f"the body has {length} bytes; the maximum is {MAX_BODY_BYTES}"})
                return None
            try:
                return self.rfile.read(length)
            except OSError as error:  # the sender went silent or hung up before the body was complete
                log.warning("webhook body not received: %s", error, extra=fields(outcome="incomplete"))
                self.close_connection = True
                return None

        def _deliver(self, recipe: str, raw_body: bytes) -> None:
            headers = _Headers(list(self.headers.items()))
            try:
                delivery = server.service.accept_delivery(recipe, headers, raw_body)
            except EventInvalid as error:
                log.warning(
                    "webhook recipe=%s outcome=rejected reason=%s from=%s", recipe, error, self.client_address[0],
                    extra=fields(recipe=recipe, outcome="rejected", reason=str(error)),
                )
                self._reply(401, {"error": "the webhook signature or body is invalid"})
                return
            except RecipeNotRunning as error:
                log.warning("webhook recipe=%s outcome=not_running reason=%s", recipe, error, extra=fields(recipe=recipe, outcome="not_running"))
                self._reply(404, {"error": str(error)})
                return
            except DeliveryDeferred as error:
                log.warning("webhook recipe=%s outcome=deferred reason=%s", recipe, error, extra=fields(recipe=recipe, outcome="deferred"))
                self._reply(503, {"error": str(error)}, retry_after=_RETRY_AFTER)
                return
            except ConfigurationError as error:
                log.error("webhook recipe=%s outcome=error reason=%s", recipe, error, extra=fields(recipe=recipe, outcome="error", reason=str(error)))
                self._reply(500, {"error": "the recipe's connection cannot verify webhooks; the service log says why"})
                return
            except Exception:  # the store failed, so respond with 500 and the sender delivers again
                log.exception("webhook recipe=%s outcome=error", recipe, extra=fields(recipe=recipe, outcome="error"))
                self._reply(500, {"error": "the delivery could not be stored; deliver it again"})
                return
            self._reply(200, delivery.to_document())

        def _reply(self, status: int, document: dict[str, Any], retry_after: int | None = None) -> None:
            body = jsoncodec.dumps(document, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            if retry_after is not None:
                self.send_header("Retry-After", str(retry_after))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("http %s %s", self.address_string(), format % args)

    return Handler
