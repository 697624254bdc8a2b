"""A `requests` transport that carries https requests for the sandbox's origins to its loopback server.

simple-salesforce always builds `https://` URLs: from the instance URL for data calls and from
`https://{domain}.salesforce.com` for logins. The sandbox serves plain http on 127.0.0.1. This
adapter, mounted on a `requests.Session` for every scheme, rewrites each request for a mapped
origin to the loopback server and sends it unchanged otherwise (method, path, query, headers,
body). A request for any other origin raises `ConnectionError` before a socket is opened, so a
client given this session cannot reach a real host by mistake.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

__all__ = ["LoopbackAdapter", "loopback_session", "origin_of"]

log = logging.getLogger(__name__)

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """Return `scheme://host:port` for a URL, with the default port written out."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or _DEFAULT_PORTS.get(scheme)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


class LoopbackAdapter(HTTPAdapter):
    """Forwards requests for mapped origins to their loopback targets; raises for every other origin."""

    def __init__(self, routes: Mapping[str, str]) -> None:
        super().__init__()
        self.routes = {origin_of(origin): target.rstrip("/") for origin, target in routes.items()}

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        original_url = request.url or ""
        target = self.routes.get(origin_of(original_url))
        if target is None:
            raise requests.exceptions.ConnectionError(
                f"{original_url} is not a sandbox origin; this session only reaches {sorted(self.routes)}",
                request=request,
            )
        parts = urlsplit(original_url)
        target_parts = urlsplit(target)
        request.url = urlunsplit((target_parts.scheme, target_parts.netloc, parts.path, parts.query, ""))
        kwargs["proxies"] = {}
        response = super().send(request, **kwargs)
        # Clients and their error messages see the URL they asked for.
        response.url = original_url
        request.url = original_url
        return response


def loopback_session(routes: Mapping[str, str]) -> requests.Session:
    """Return a Session whose every request goes through a LoopbackAdapter for `routes`.

    The session ignores proxy settings from the environment, which could otherwise route a
    loopback request elsewhere.
    """
    session = requests.Session()
    session.trust_env = False
    adapter = LoopbackAdapter(routes)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
