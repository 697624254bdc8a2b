"""Login flows, settings, session renewal mid-run, and the settings that reach the local sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from salesforce_connector_helpers import client_credentials_settings, password_settings, token_settings

from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.sandbox import SalesforceSandbox
from connectors.sandbox import local
from connectors.sandbox.local import LocalSandbox
from engine.connector import secret_fields
from engine.errors import ConfigurationError


def test_secret_settings_are_marked_secret() -> None:
    assert secret_fields(SalesforceConnector.connection_schema) == {"access_token", "password", "security_token", "client_secret"}


def test_password_login_then_calls(salesforce_sandbox: SalesforceSandbox) -> None:
    with SalesforceConnector(password_settings(salesforce_sandbox)) as connector:
        line = connector.check()

    assert line == f"Salesforce org {salesforce_sandbox.instance_url} (API 62.0): 99999 of 100000 daily API requests left"
    assert dict(salesforce_sandbox.calls) == {"POST login.soap": 1, "GET limits": 1}
    assert connector.round_trips == 2


def test_client_credentials_login_then_calls(salesforce_sandbox: SalesforceSandbox) -> None:
    with SalesforceConnector(client_credentials_settings(salesforce_sandbox)) as connector:
        record = connector.call("get", {"object": "account", "id": "0015g0000000001AAA", "fields": ["name"]})

    assert record == {"Id": "0015g0000000001AAA", "Name": "Ada Lovelace", "name": "Ada Lovelace"}
    assert dict(salesforce_sandbox.calls) == {"POST oauth2.token": 1, "GET sobjects.get": 1}


@pytest.mark.parametrize("make_settings", [password_settings, client_credentials_settings], ids=["password", "client_credentials"])
def test_session_expired_mid_run_is_renewed_once(salesforce_sandbox: SalesforceSandbox, make_settings: Any) -> None:
    login_endpoint = "POST login.soap" if make_settings is password_settings else "POST oauth2.token"
    salesforce_sandbox.query_batch_size = 5

    with SalesforceConnector(make_settings(salesforce_sandbox)) as connector:
        salesforce_sandbox.expire_session_at_request(3)
        seen: list[str] = []
        cursor = None
        for _ in range(3):
            poll = connector.poll("updated_records", {"object": "item"}, cursor, None, 4)
            seen.extend(event.id for event in poll.events)
            cursor = poll.cursor

    expected = sorted(record["Id"] for record in salesforce_sandbox.records.all("PBSI__PBSI_Item__c"))[:12]
    assert seen == expected
    assert salesforce_sandbox.calls[login_endpoint] == 2
    assert salesforce_sandbox.calls["GET query"] == 4
    assert connector.round_trips == 6


def test_expired_token_mid_run_is_configuration_error(salesforce_sandbox: SalesforceSandbox) -> None:
    with SalesforceConnector(token_settings(salesforce_sandbox)) as connector:
        connector.call("get", {"object": "account", "id": "0015g0000000001AAA"})
        salesforce_sandbox.expire_sessions()
        with pytest.raises(ConfigurationError) as failure:
            connector.call("get", {"object": "account", "id": "0015g0000000001AAA"})

    assert "access token has expired or was revoked" in str(failure.value)
    assert salesforce_sandbox.calls["GET sobjects.get"] == 2


def test_wrong_password_fails_open_with_the_api_message(salesforce_sandbox: SalesforceSandbox) -> None:
    connector = SalesforceConnector(password_settings(salesforce_sandbox, security_token="wrong"))

    with pytest.raises(ConfigurationError) as failure:
        connector.open()

    assert str(failure.value) == (
        "Salesforce login as integration@sandbox.example at https://sandbox-org.my.salesforce.com failed: INVALID_LOGIN: "
        "Invalid username, password, security token; or user locked out.; check the credentials and the domain"
    )


def test_wrong_client_secret_fails_open(salesforce_sandbox: SalesforceSandbox) -> None:
    connector = SalesforceConnector(client_credentials_settings(salesforce_sandbox, client_secret="wrong"))

    with pytest.raises(ConfigurationError) as failure:
        connector.open()

    assert "failed: invalid_client: invalid client credentials" in str(failure.value)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "the Salesforce connection needs one way to log in"),
        ({"access_token": "x"}, "instance_url must be the org's https URL, such as https://acme.my.salesforce.com; got ''"),
        ({"access_token": "x", "instance_url": "http://acme.my.salesforce.com"}, "instance_url must be the org's https URL"),
        ({"username": "u", "password": "p"}, "the username and password login needs security_token"),
        ({"client_id": "c", "client_secret": "s"}, "the OAuth client-credentials login needs domain"),
        ({"client_id": "c", "client_secret": "s", "domain": "login"}, "the client-credentials flow needs the org's My Domain (such as 'acme.my'), not 'login'"),
        ({"username": "u", "password": "p", "security_token": "", "domain": "https://acme.my.salesforce.com"}, "domain is the host name before .salesforce.com"),
        ({"access_token": "x", "instance_url": "https://a.my.salesforce.com", "api_version": "v62.0"}, "api_version is written without the 'v'"),
    ],
)
def test_incomplete_settings_fail_open(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as failure:
        SalesforceConnector(settings).open()

    assert message in str(failure.value)


def test_calls_before_open_are_a_clear_error() -> None:
    connector = SalesforceConnector({"access_token": "x", "instance_url": "https://a.my.salesforce.com"})

    with pytest.raises(RuntimeError) as failure:
        connector.call("get", {"object": "account", "id": "0015g0000000001AAA"})

    assert str(failure.value) == "the Salesforce connector is not open; use it as a context manager or call open() first"


def test_sandbox_settings_reach_the_local_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with LocalSandbox(tmp_path) as sandbox:
        monkeypatch.setattr(local, "shared_sandbox", lambda state_dir: sandbox)
        settings = SalesforceConnector.sandbox_settings(str(tmp_path))
        with SalesforceConnector(settings) as connector:
            result = connector.call("query", {"object": "account", "fields": ["name"], "order_by": ["name"]})

    assert settings == sandbox.salesforce_settings()
    assert [record["name"] for record in result["records"]] == ["Ada Lovelace", "José Núñez"]
