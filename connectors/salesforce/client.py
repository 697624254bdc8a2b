"""The HTTP side of the connector: login through simple-salesforce, then every REST call.

simple-salesforce performs the login flows and keeps the session id, the instance and the
`requests` session. Calls are sent through that session by `SalesforceClient.request` rather than
through simple-salesforce's own methods, for three reasons. Bodies are written with
`engine.jsoncodec`, so a Decimal reaches the wire with its exact digits (simple-salesforce uses
`json.dumps`). An expired session is renewed once, not up to three times. And each HTTP
request, logins included, is counted and logged here.

An expired session (401 `INVALID_SESSION_ID`) is renewed by logging in again, and the call is
sent once more. With a bare access token there is nothing to log in with, so the client raises
ConfigurationError. After 403 `REQUEST_LIMIT_EXCEEDED` the client pauses: every later call
raises RetryableError without being sent until the pause has passed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed

from engine import jsoncodec
from engine.errors import ConfigurationError, RetryableError

from .errors import INVALID_SESSION_ID, REQUEST_LIMIT_EXCEEDED, error_from_response
from .settings import ConnectionSettings, LoginFlow

__all__ = ["SalesforceClient", "Reply"]

log = logging.getLogger(__name__)

_LIMIT_HEADER = "Sforce-Limit-Info"
_MAX_LOGGED_IDS = 10


@dataclass
class Reply:
    """A successful (or explicitly accepted) response: HTTP status, parsed JSON body and headers."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


class SalesforceClient:
    """One org connection: login, renewal, the request-limit pause and every REST call.

    `count_round_trip` is called once per HTTP request, logins included. `clock` returns
    monotonic seconds and decides when a pause ends; tests replace it.
    """

    def __init__(
        self,
        settings: ConnectionSettings,
        count_round_trip: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._count_round_trip = count_round_trip
        self._clock = clock
        self._session: requests.Session | None = None
        self._salesforce: Salesforce | None = None
        self._paused_until: float | None = None
        self._pause_error: RetryableError | None = None
        self.api_usage: str | None = None

    # ----- lifecycle -------------------------------------------------------------------------

    def open(self) -> None:
        """Build the HTTP session and log in (the access-token flow sends nothing yet).

        Raises ConfigurationError when the login is rejected or the login host cannot be reached.
        """
        self._session = self._build_session()
        self._salesforce = self._login(during_open=True)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        self._session = None
        self._salesforce = None

    @property
    def instance_url(self) -> str:
        return f"https://{self._client().sf_instance}"

    @property
    def data_path(self) -> str:
        """The versioned REST path, `/services/data/v62.0`."""
        return f"/services/data/v{self.settings.api_version}"

    def _build_session(self) -> requests.Session:
        routes = self.settings.transport_routes
        if routes:
            # Only the sandbox gives routes: its session reaches the loopback server and nothing else.
            from connectors.salesforce.sandbox.transport import loopback_session

            return loopback_session(routes)
        return requests.Session()

    def _login(self, during_open: bool) -> Salesforce:
        settings = self.settings
        session = self._session
        version = settings.api_version
        if settings.flow is LoginFlow.ACCESS_TOKEN:
            return Salesforce(instance_url=settings.instance_url, session_id=settings.access_token, session=session, version=version)

        started = time.perf_counter()
        self._count_round_trip()
        try:
            if settings.flow is LoginFlow.PASSWORD:
                client = Salesforce(
                    username=settings.username,
                    password=settings.password,
                    security_token=settings.security_token,
                    domain=settings.domain,
                    session=session,
                    version=version,
                )
            else:
                client = Salesforce(
                    consumer_key=settings.client_id,
                    consumer_secret=settings.client_secret,
                    domain=settings.domain,
                    session=session,
                    version=version,
                )
        except SalesforceAuthenticationFailed as failure:
            user = settings.username or settings.client_id
            raise ConfigurationError(
                f"Salesforce login as {user} at https://{settings.domain}.salesforce.com failed: {failure.code}: {failure.auth_message}; "
                "check the credentials and the domain"
            ) from None
        except requests.RequestException as error:
            message = f"Salesforce login at https://{settings.domain}.salesforce.com failed: {type(error).__name__}: {error}"
            if during_open:
                raise ConfigurationError(message + "; check the domain and the network") from None
            raise RetryableError(message, code="LOGIN_FAILED") from None

        log.debug("login %s at %s: ok in %.1f ms", settings.flow.value, settings.domain, (time.perf_counter() - started) * 1000)
        return client

    def _client(self) -> Salesforce:
        if self._salesforce is None:
            raise RuntimeError("the Salesforce connector is not open; use it as a context manager or call open() first")
        return self._salesforce

    # ----- calls -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        label: str,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        accept: Iterable[int] = (),
    ) -> Reply:
        """Send one REST call and return its reply; raise the engine error for a failure.

        `path` is relative to the versioned data path (`sobjects/Account`), or absolute when it
        starts with `/services/` (a `nextRecordsUrl`). `label` names the call in logs and error
        messages; it must hold no record data. Statuses in `accept` are returned, not raised.
        """
        self._check_pause()
        reply = self._send(method, path, label, body, params)
        if reply.status == 401:
            reply = self._renew_and_resend(method, path, label, body, params, reply)

        if reply.status < 300 or reply.status in accept:
            return reply

        error = error_from_response(reply.status, reply.body, label)
        if error.code == REQUEST_LIMIT_EXCEEDED:
            self._pause(error)
        raise error

    def _renew_and_resend(self, method: str, path: str, label: str, body: Any, params: Mapping[str, str] | None, reply: Reply) -> Reply:
        codes = [item.get("errorCode") for item in reply.body if isinstance(item, dict)] if isinstance(reply.body, list) else []
        if codes and INVALID_SESSION_ID not in codes:
            return reply
        if not self.settings.renewable:
            raise ConfigurationError(
                "the Salesforce access token has expired or was revoked (401 INVALID_SESSION_ID); "
                "give a new access_token, or connect with username and password or client credentials so the connector can log in again"
            )

        log.info("Salesforce session expired during %s; logging in again", label)
        self._salesforce = self._login(during_open=False)
        renewed = self._send(method, path, label, body, params)
        if renewed.status == 401:
            raise ConfigurationError(
                f"Salesforce rejected the session it issued a moment ago ({label}: 401 INVALID_SESSION_ID); check the integration user's access"
            )
        return renewed

    def _send(self, method: str, path: str, label: str, body: Any, params: Mapping[str, str] | None) -> Reply:
        client = self._client()
        url = self._url(client, path)
        headers = {"Authorization": f"Bearer {client.session_id}", "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = jsoncodec.dumps(body).encode("utf-8")

        started = time.perf_counter()
        self._count_round_trip()
        try:
            response = client.session.request(method, url, headers=headers, data=data, params=params, timeout=self.settings.timeout)
        except requests.Timeout:
            log.debug("%s %s: timed out after %.1f s", method, label, time.perf_counter() - started)
            raise RetryableError(f"{label}: the Salesforce request timed out after {self.settings.timeout:g} s", code="TIMEOUT") from None
        except requests.ConnectionError as error:
            log.debug("%s %s: connection failed: %s", method, label, type(error).__name__)
            raise RetryableError(f"{label}: could not reach Salesforce: {error}", code="CONNECTION_FAILED") from None

        reply = Reply(response.status_code, _parse(response), response.headers)
        self.api_usage = response.headers.get(_LIMIT_HEADER, self.api_usage)
        log.debug(
            "%s %s: %d in %.1f ms%s",
            method, label, reply.status, (time.perf_counter() - started) * 1000, _ids_for_log(reply.body),
        )
        return reply

    def _url(self, client: Salesforce, path: str) -> str:
        base = f"https://{client.sf_instance}"
        if path.startswith("/services/"):
            return base + path
        return f"{base}{self.data_path}/{path.lstrip('/')}"

    # ----- the request-limit pause -----------------------------------------------------------

    def _pause(self, error: RetryableError) -> None:
        seconds = error.retry_after or 0.0
        self._paused_until = self._clock() + seconds
        self._pause_error = error
        log.warning("Salesforce request limit reached (%s); pausing this connection for %.0f s", error.message, seconds)

    def _check_pause(self) -> None:
        if self._paused_until is None or self._pause_error is None:
            return
        remaining = self._paused_until - self._clock()
        if remaining <= 0:
            self._paused_until = None
            self._pause_error = None
            return
        raise RetryableError(
            f"paused after Salesforce's request limit was reached ({self._pause_error.message}); {remaining:.0f} s left",
            code=REQUEST_LIMIT_EXCEEDED,
            status=self._pause_error.status,
            retry_after=remaining,
        )


def _parse(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return jsoncodec.loads(response.content)
    except ValueError:
        return response.text


def _ids_for_log(body: Any) -> str:
    """Return the record ids in a reply body for a log line (never field values)."""
    ids: list[str] = []
    if isinstance(body, dict):
        if isinstance(body.get("id"), str):
            ids.append(body["id"])
        for record in body.get("records") or []:
            if isinstance(record, dict) and isinstance(record.get("Id"), str):
                ids.append(record["Id"])
    elif isinstance(body, list):
        ids.extend(item["id"] for item in body if isinstance(item, dict) and isinstance(item.get("id"), str))
    if not ids:
        return ""
    listed = ", ".join(ids[:_MAX_LOGGED_IDS])
    more = f" and {len(ids) - _MAX_LOGGED_IDS} more" if len(ids) > _MAX_LOGGED_IDS else ""
    return f" ids {listed}{more}"
