"""Helpers for the Salesforce connector tests: settings for each login flow and an open connector.

Imported by name, because the test folders are not packages. The fixtures here are imported
into each test module that uses them.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.sandbox import SalesforceSandbox

FAKE_INSTANCE = "https://fake-org.my.salesforce.com"
FAKE_TOKEN = "00Dfake000000001!fake_access_token"
DATA = "/services/data/v62.0"


def sandbox_routes(sandbox: SalesforceSandbox) -> dict[str, str]:
    """Routes for the instance, the loopback address and the login host, as `http_session()` maps them."""
    return {sandbox.instance_url: sandbox.base_url, sandbox.base_url: sandbox.base_url, sandbox.login_url: sandbox.base_url}


def token_settings(sandbox: SalesforceSandbox, **extra: Any) -> dict[str, Any]:
    return {"instance_url": sandbox.instance_url, "access_token": sandbox.session_id, "transport_routes": sandbox_routes(sandbox), **extra}


def password_settings(sandbox: SalesforceSandbox, **extra: Any) -> dict[str, Any]:
    return {
        "username": "integration@sandbox.example",
        "password": "sandbox-password",
        "security_token": "sandboxtoken",
        "domain": sandbox.login_domain,
        "transport_routes": sandbox_routes(sandbox),
        **extra,
    }


def client_credentials_settings(sandbox: SalesforceSandbox, **extra: Any) -> dict[str, Any]:
    return {
        "client_id": "sandbox-client-id",
        "client_secret": "sandbox-client-secret",
        "domain": sandbox.login_domain,
        "transport_routes": sandbox_routes(sandbox),
        **extra,
    }


def fake_settings(**extra: Any) -> dict[str, Any]:
    """Access-token settings for a fake host that only `responses` serves."""
    return {"instance_url": FAKE_INSTANCE, "access_token": FAKE_TOKEN, **extra}


def fake_url(path: str) -> str:
    return f"{FAKE_INSTANCE}{DATA}/{path}"


def total_calls(sandbox: SalesforceSandbox) -> int:
    return sum(sandbox.calls.values())


@pytest.fixture
def connector(salesforce_sandbox: SalesforceSandbox) -> Iterator[SalesforceConnector]:
    """A connector on the sandbox's session id, open for the test; the sandbox's call count starts at zero."""
    opened = SalesforceConnector(token_settings(salesforce_sandbox))
    opened.open()
    salesforce_sandbox.server.reset_calls()
    try:
        yield opened
    finally:
        opened.close()
