"""Sessions and the two login flows simple-salesforce uses: SOAP login and the OAuth token endpoint.

A session id is accepted as `Authorization: Bearer <id>` (or the older `OAuth <id>`). Sessions
expire after a number of requests or seconds when the sandbox is configured so, or on demand.
A request with an expired or unknown session gets 401 `INVALID_SESSION_ID`, which makes
simple-salesforce log in again when it has a username and password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from connectors.sandbox.server import Request, Response, Router

from .ids import make_id

if TYPE_CHECKING:
    from .org import SalesforceSandbox

__all__ = ["Credentials", "Sessions", "register_login_routes", "invalid_session_response", "ORG_ID", "USER_ID"]

log = logging.getLogger(__name__)

ORG_ID = make_id("00D", "5g0000", 1)
USER_ID = make_id("005", "5g0000", 1)
_PARTNER_NS = "urn:partner.soap.sforce.com"
_SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"
_INVALID_LOGIN = "Invalid username, password, security token; or user locked out."


@dataclass(frozen=True)
class Credentials:
    """The one user and connected app of the sandbox org. All values are fake test values."""

    username: str
    password: str
    security_token: str
    client_id: str
    client_secret: str

    def password_matches(self, candidate: str) -> bool:
        """Check a password as Salesforce does for API logins outside trusted IP ranges: password + token."""
        return hmac.compare_digest(candidate, self.password + self.security_token)


@dataclass
class _Session:
    issued_at: float
    requests: int = 0
    expired: bool = False


def invalid_session_response() -> Response:
    return Response(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])


class Sessions:
    """Issued session ids and their expiry rules.

    `ttl_requests` lets a session serve that many requests; the next one gets 401.
    `ttl_seconds` expires a session that long after login.
    """

    def __init__(self, ttl_requests: int | None = None, ttl_seconds: float | None = None) -> None:
        self.ttl_requests = ttl_requests
        self.ttl_seconds = ttl_seconds
        self._sessions: dict[str, _Session] = {}
        self._default: str | None = None
        self._expire_countdown: int | None = None
        self._lock = threading.Lock()

    def issue(self) -> str:
        token = f"{ORG_ID[:15]}!AQ{secrets.token_urlsafe(48)}"
        with self._lock:
            self._sessions[token] = _Session(issued_at=time.monotonic())
        return token

    def default(self) -> str:
        """Return a session id that is valid now, issuing a new one when the last one has expired."""
        with self._lock:
            current = self._default
            if current is not None and self._is_valid(self._sessions[current]):
                return current
        token = self.issue()
        with self._lock:
            self._default = token
        return token

    def expire_all(self) -> None:
        with self._lock:
            for session in self._sessions.values():
                session.expired = True
        log.info("expired every salesforce sandbox session")

    def expire_at_request(self, number: int) -> None:
        """Expire every session when the `number`-th authenticated API request from now arrives (1 = the next)."""
        if number < 1:
            raise ValueError(f"request number must be 1 or more, got {number}")
        with self._lock:
            self._expire_countdown = number

    def authenticate(self, request: Request) -> bool:
        """Check the request's session id and count the request against it; return False for a 401."""
        token = _bearer_token(request)
        expire_now = False
        with self._lock:
            if self._expire_countdown is not None:
                self._expire_countdown -= 1
                if self._expire_countdown == 0:
                    self._expire_countdown = None
                    expire_now = True
        if expire_now:
            self.expire_all()

        with self._lock:
            session = self._sessions.get(token or "")
            if session is None or not self._is_valid(session):
                return False
            session.requests += 1
            if self.ttl_requests is not None and session.requests > self.ttl_requests:
                session.expired = True
                return False
            return True

    def _is_valid(self, session: _Session) -> bool:
        if session.expired:
            return False
        if self.ttl_seconds is not None and time.monotonic() - session.issued_at >= self.ttl_seconds:
            session.expired = True
            return False
        return True


def _bearer_token(request: Request) -> str | None:
    header = request.header("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and token.strip():
        return token.strip()
    return None


# ----- SOAP login ----------------------------------------------------------------------------


def _soap_fault(code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>sf:{code}</faultcode><faultstring>{code}: {escape(message)}</faultstring>"
        '<detail><sf:LoginFault xsi:type="sf:LoginFault">'
        f"<sf:exceptionCode>{code}</sf:exceptionCode><sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        "</sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return Response(500, body, content_type=_SOAP_CONTENT_TYPE)


def _soap_login_result(instance_url: str, version: str, session_id: str, username: str) -> Response:
    server_url = f"{instance_url}/services/Soap/u/{version}/{ORG_ID[:15]}"
    metadata_url = f"{instance_url}/services/Soap/m/{version}/{ORG_ID[:15]}"
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns="{_PARTNER_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><loginResponse><result>"
        f"<metadataServerUrl>{metadata_url}</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired><sandbox>true</sandbox>"
        f"<serverUrl>{server_url}</serverUrl><sessionId>{escape(session_id)}</sessionId>"
        f"<userId>{USER_ID}</userId><userInfo>"
        f"<organizationId>{ORG_ID}</organizationId><organizationName>Ascent ERP Sandbox</organizationName>"
        f"<userEmail>{escape(username)}</userEmail><userFullName>Integration User</userFullName>"
        f"<userId>{USER_ID}</userId><userName>{escape(username)}</userName><userTimeZone>Etc/UTC</userTimeZone>"
        "</userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )
    return Response(200, body, content_type=_SOAP_CONTENT_TYPE)


def _soap_login(sandbox: "SalesforceSandbox", request: Request) -> Response:
    try:
        envelope = ElementTree.fromstring(request.body)
    except ElementTree.ParseError:
        return _soap_fault("INVALID_LOGIN", _INVALID_LOGIN)
    username = envelope.findtext(f".//{{{_PARTNER_NS}}}username") or ""
    password = envelope.findtext(f".//{{{_PARTNER_NS}}}password") or ""
    if username != sandbox.credentials.username or not sandbox.credentials.password_matches(password):
        log.info("salesforce sandbox SOAP login rejected for user %r", username)
        return _soap_fault("INVALID_LOGIN", _INVALID_LOGIN)
    session_id = sandbox.sessions.issue()
    return _soap_login_result(sandbox.instance_url, request.params["version"], session_id, username)


# ----- OAuth 2.0 token endpoint --------------------------------------------------------------


def _oauth_error(error: str, description: str) -> Response:
    return Response(400, {"error": error, "error_description": description})


def _client_from_request(request: Request, form: dict[str, str]) -> tuple[str, str]:
    header = request.header("authorization") or ""
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return "", ""
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return form.get("client_id", ""), form.get("client_secret", "")


def _token(sandbox: "SalesforceSandbox", request: Request) -> Response:
    form = {key: values[0] for key, values in parse_qs(request.body.decode("utf-8"), keep_blank_values=True).items()}
    grant_type = form.get("grant_type", "")
    if grant_type not in ("client_credentials", "password"):
        return _oauth_error("unsupported_grant_type", "grant type not supported")

    client_id, client_secret = _client_from_request(request, form)
    credentials = sandbox.credentials
    if client_id != credentials.client_id or not hmac.compare_digest(client_secret, credentials.client_secret):
        log.info("salesforce sandbox OAuth token request rejected for client %r", client_id)
        return _oauth_error("invalid_client", "invalid client credentials")
    if grant_type == "password":
        if form.get("username") != credentials.username or not credentials.password_matches(form.get("password", "")):
            return _oauth_error("invalid_grant", "authentication failure")

    access_token = sandbox.sessions.issue()
    issued_at = str(int(time.time() * 1000))
    identity = f"{sandbox.login_url}/id/{ORG_ID}/{USER_ID}"
    digest = hmac.new(credentials.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
    return Response(
        200,
        {
            "access_token": access_token,
            "instance_url": sandbox.instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": base64.b64encode(digest).decode("ascii"),
        },
    )


def register_login_routes(router: Router, sandbox: "SalesforceSandbox") -> None:
    router.add("POST", r"/services/Soap/u/(?P<version>\d+\.0)/?", "login.soap", lambda request: _soap_login(sandbox, request))
    router.add("POST", r"/services/oauth2/token/?", "oauth2.token", lambda request: _token(sandbox, request))

