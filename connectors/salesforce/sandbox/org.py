"""`SalesforceSandbox`: the sandbox org served over HTTP on the loopback address."""

from __future__ import annotations

import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import requests

from connectors.sandbox.server import LOOPBACK, Faults, Request, Response, Router, SandboxServer, SandboxService
from engine import jsoncodec

from .admin import ADMIN_PREFIX, register_admin_routes
from .auth import Credentials, Sessions, invalid_session_response, register_login_routes
from .clock import Clock
from .composite import register_composite_routes
from .cursors import QueryCursors
from .faults import WriteFaults
from .limits import LIMIT_HEADER, ApiUsage
from .records import RecordStore
from .rest import register_fallback_routes, register_rest_routes
from .seed import seed_store
from .transport import loopback_session

if TYPE_CHECKING:
    from simple_salesforce import Salesforce

__all__ = ["SalesforceSandbox", "DEFAULT_LOGIN_DOMAIN", "DEFAULT_QUERY_BATCH_SIZE"]

log = logging.getLogger(__name__)

# simple-salesforce logs in at https://{domain}.salesforce.com. The sandbox's transport maps
# this one host to the loopback server. It is not "login" or "test" because simple-salesforce
# only offers the client-credentials flow for a My Domain style host.
DEFAULT_LOGIN_DOMAIN = "sandbox-org.my"
DEFAULT_QUERY_BATCH_SIZE = 2000
_DATA_PREFIX = "/services/data/"
_FAULT_BODIES = {
    500: (500, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-1 (-1)"),
    503: (503, "SERVER_UNAVAILABLE", "Server temporarily unavailable"),
    # Salesforce's REST API does not send 429; a burst over the concurrent limit gets this 403.
    429: (403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."),
}


class SalesforceSandbox(SandboxService):
    """A Salesforce org with the Ascent ERP objects, served on 127.0.0.1 for tests and benchmarks.

    The org starts from `state_file` when that file exists, else from the seeded catalogue,
    and saves to `state_file` on `stop()`. Credentials are fake test values. Clients reach
    the server with the Session from `http_session()`, which maps the https URLs that
    simple-salesforce builds to the plain-http loopback server.
    """

    def __init__(
        self,
        port: int = 0,
        seed: int = 7,
        state_file: str | os.PathLike[str] | None = None,
        faults: Faults | None = None,
        daily_limit: int = 100_000,
        session_ttl_requests: int | None = None,
        session_ttl_seconds: float | None = None,
        username: str = "integration@sandbox.example",
        password: str = "sandbox-password",
        security_token: str = "sandboxtoken",
        client_id: str = "sandbox-client-id",
        client_secret: str = "sandbox-client-secret",
        extra_items: int = 0,
        write_faults: WriteFaults | None = None,
        query_batch_size: int = DEFAULT_QUERY_BATCH_SIZE,
        clock: Callable[[], datetime] | None = None,
        login_domain: str = DEFAULT_LOGIN_DOMAIN,
    ) -> None:
        self.seed = seed
        self.extra_items = extra_items
        self.state_file = Path(state_file) if state_file else None
        self.credentials = Credentials(username, password, security_token, client_id, client_secret)
        self.sessions = Sessions(session_ttl_requests, session_ttl_seconds)
        self.usage = ApiUsage(daily_limit)
        self.cursors = QueryCursors()
        self.query_batch_size = query_batch_size
        self.login_domain = login_domain
        self.records = RecordStore(Clock(clock), write_faults)
        if self.state_file is not None and self.state_file.exists():
            self.load(self.state_file)
        else:
            seed_store(self.records, seed=seed, extra_items=extra_items)

        self.router = Router()
        register_login_routes(self.router, self)
        register_rest_routes(self.router, self)
        register_composite_routes(self.router, self)
        register_admin_routes(self.router, self)
        register_fallback_routes(self.router, self)
        self.server = SandboxServer(
            "salesforce",
            self.router,
            port=port,
            faults=faults,
            before_request=self._before_request,
            after_request=self._after_request,
            fault_response=self._fault_response,
        )

    def on_stop(self) -> None:
        """Save the state when the sandbox has a state file."""
        if self.state_file is not None:
            self.save(self.state_file)

    # ----- addresses and clients -------------------------------------------------------------

    @property
    def instance_url(self) -> str:
        """The https instance URL that logins return; only `http_session()` can reach it."""
        return f"https://{LOOPBACK}:{self.port}"

    @property
    def login_url(self) -> str:
        return f"https://{self.login_domain}.salesforce.com"

    @property
    def session_id(self) -> str:
        """A session id that is valid now, for `Salesforce(instance_url=..., session_id=...)`."""
        return self.sessions.default()

    def http_session(self) -> requests.Session:
        """Return a requests Session that reaches this sandbox, and only it, at its https origins."""
        return loopback_session({self.instance_url: self.base_url, self.base_url: self.base_url, self.login_url: self.base_url})

    def client(self, version: str = "62.0") -> "Salesforce":
        """Return a simple-salesforce client on the current session id."""
        from simple_salesforce import Salesforce

        return Salesforce(instance_url=self.instance_url, session_id=self.session_id, session=self.http_session(), version=version)

    # ----- sessions --------------------------------------------------------------------------

    def expire_sessions(self) -> None:
        """Expire every session now; the next API request with any of them gets 401."""
        self.sessions.expire_all()

    def expire_session_at_request(self, number: int) -> None:
        """Expire every session when the `number`-th authenticated API request from now arrives (1 = the next)."""
        self.sessions.expire_at_request(number)

    # ----- state -----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Return the org's data and API usage as a JSON-serialisable dict (numbers as Decimal)."""
        return {"store": self.records.to_state(), "api_usage": self.usage.used}

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the state to `path` as JSON, replacing the file in one step."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = jsoncodec.dumps(self.state(), indent=1)
        handle, temporary = tempfile.mkstemp(prefix=target.name, suffix=".tmp", dir=target.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, target)
        log.info("salesforce sandbox state saved to %s", target)

    def load(self, path: str | os.PathLike[str]) -> None:
        """Replace the org's data and API usage with a state written by `save`."""
        state = jsoncodec.loads(Path(path).read_text(encoding="utf-8"))
        self.records.load_state(state["store"])
        self.usage.used = int(state.get("api_usage", 0))
        log.info("salesforce sandbox state loaded from %s", path)

    # ----- hooks for the shared server -------------------------------------------------------

    def _before_request(self, request: Request) -> Response | None:
        """Authenticate data requests and spend the API allowance; admin and login routes are free."""
        if request.path.startswith(ADMIN_PREFIX) or not request.path.startswith(_DATA_PREFIX):
            return None
        if request.path.rstrip("/") == _DATA_PREFIX.rstrip("/"):
            return None
        if not self.sessions.authenticate(request):
            response = invalid_session_response()
            response.headers[LIMIT_HEADER] = self.usage.header_value()
            return response
        return self.usage.spend()

    def _after_request(self, request: Request, response: Response) -> None:
        response.headers[LIMIT_HEADER] = self.usage.header_value()

    def _fault_response(self, status: int) -> Response:
        answer_status, code, message = _FAULT_BODIES.get(status, (status, "UNKNOWN_EXCEPTION", "An unexpected error occurred."))
        return Response(answer_status, [{"message": message, "errorCode": code}], headers={LIMIT_HEADER: self.usage.header_value()})
