"""Login flows, sessions and the transport that keeps every request on the loopback server."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceExpiredSession

from connectors.salesforce.sandbox import SalesforceSandbox

from salesforce_sandbox_helpers import API_VERSION, RawApi


def test_soap_login_returns_session_on_sandbox_instance(salesforce_sandbox: SalesforceSandbox) -> None:
    client = Salesforce(
        username="integration@sandbox.example",
        password="sandbox-password",
        security_token="sandboxtoken",
        domain=salesforce_sandbox.login_domain,
        session=salesforce_sandbox.http_session(),
        version=API_VERSION,
    )

    assert client.sf_instance == f"127.0.0.1:{salesforce_sandbox.port}"
    assert client.session_id.startswith("00D5g0000000001!")
    assert client.query("SELECT COUNT() FROM Account")["totalSize"] == 2
    assert salesforce_sandbox.calls["POST login.soap"] == 1


def test_soap_login_with_wrong_token_is_invalid_login(salesforce_sandbox: SalesforceSandbox) -> None:
    with pytest.raises(SalesforceAuthenticationFailed) as failure:
        Salesforce(
            username="integration@sandbox.example",
            password="sandbox-password",
            security_token="wrong",
            domain=salesforce_sandbox.login_domain,
            session=salesforce_sandbox.http_session(),
        )

    assert failure.value.code == "INVALID_LOGIN"
    assert failure.value.auth_message == "Invalid username, password, security token; or user locked out."


def test_soap_fault_is_the_real_envelope(salesforce_sandbox: SalesforceSandbox) -> None:
    response = salesforce_sandbox.http_session().post(
        f"{salesforce_sandbox.login_url}/services/Soap/u/{API_VERSION}",
        data="<not-xml",
        headers={"content-type": "text/xml", "SOAPAction": "login"},
    )

    assert response.status_code == 500
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert "<faultcode>sf:INVALID_LOGIN</faultcode>" in response.text
    assert "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>" in response.text


def test_client_credentials_flow_returns_token(salesforce_sandbox: SalesforceSandbox) -> None:
    client = Salesforce(
        consumer_key="sandbox-client-id",
        consumer_secret="sandbox-client-secret",
        domain=salesforce_sandbox.login_domain,
        session=salesforce_sandbox.http_session(),
        version=API_VERSION,
    )

    assert client.sf_instance == f"127.0.0.1:{salesforce_sandbox.port}"
    assert client.query("SELECT COUNT() FROM Contact")["totalSize"] == 2
    assert salesforce_sandbox.calls["POST oauth2.token"] == 1


def test_token_response_has_documented_fields(salesforce_sandbox: SalesforceSandbox) -> None:
    response = salesforce_sandbox.http_session().post(
        f"{salesforce_sandbox.login_url}/services/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "sandbox-client-id", "client_secret": "sandbox-client-secret"},
    )

    body = response.json()
    assert response.status_code == 200
    assert sorted(body) == ["access_token", "id", "instance_url", "issued_at", "signature", "token_type"]
    assert body["instance_url"] == salesforce_sandbox.instance_url
    assert body["token_type"] == "Bearer"
    assert body["issued_at"].isdigit()


def test_password_grant_flow_returns_token(salesforce_sandbox: SalesforceSandbox) -> None:
    client = Salesforce(
        username="integration@sandbox.example",
        password="sandbox-passwordsandboxtoken",
        consumer_key="sandbox-client-id",
        consumer_secret="sandbox-client-secret",
        domain=salesforce_sandbox.login_domain,
        session=salesforce_sandbox.http_session(),
    )

    assert client.query("SELECT COUNT() FROM Account")["totalSize"] == 2


def test_token_with_wrong_secret_is_invalid_client(salesforce_sandbox: SalesforceSandbox) -> None:
    response = salesforce_sandbox.http_session().post(
        f"{salesforce_sandbox.login_url}/services/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "sandbox-client-id", "client_secret": "nope"},
    )

    assert response.status_code == 400
    assert response.json() == {"error": "invalid_client", "error_description": "invalid client credentials"}


def test_token_through_client_reports_invalid_client(salesforce_sandbox: SalesforceSandbox) -> None:
    with pytest.raises(SalesforceAuthenticationFailed) as failure:
        Salesforce(
            consumer_key="sandbox-client-id",
            consumer_secret="wrong",
            domain=salesforce_sandbox.login_domain,
            session=salesforce_sandbox.http_session(),
        )

    assert failure.value.code == "invalid_client"


def test_password_grant_with_wrong_password_is_invalid_grant(salesforce_sandbox: SalesforceSandbox) -> None:
    response = salesforce_sandbox.http_session().post(
        f"{salesforce_sandbox.login_url}/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": "sandbox-client-id",
            "client_secret": "sandbox-client-secret",
            "username": "integration@sandbox.example",
            "password": "sandbox-password",
        },
    )

    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "authentication failure"}


def test_unknown_grant_type_is_rejected(salesforce_sandbox: SalesforceSandbox) -> None:
    response = salesforce_sandbox.http_session().post(
        f"{salesforce_sandbox.login_url}/services/oauth2/token", data={"grant_type": "authorization_code"}
    )

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_missing_session_is_invalid_session_id(salesforce_sandbox: SalesforceSandbox) -> None:
    response = salesforce_sandbox.http_session().get(f"{salesforce_sandbox.instance_url}/services/data/v62.0/sobjects")

    assert response.status_code == 401
    assert response.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    assert response.headers["Sforce-Limit-Info"] == "api-usage=0/100000"


def test_session_expires_at_request_n(salesforce_sandbox: SalesforceSandbox, salesforce_client: Salesforce) -> None:
    salesforce_sandbox.expire_session_at_request(3)

    assert salesforce_client.query("SELECT COUNT() FROM Account")["totalSize"] == 2
    assert salesforce_client.query("SELECT COUNT() FROM Account")["totalSize"] == 2
    with pytest.raises(SalesforceExpiredSession) as failure:
        salesforce_client.query("SELECT COUNT() FROM Account")

    assert failure.value.status == 401
    assert failure.value.content == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_password_client_logs_in_again_after_expiry(salesforce_sandbox: SalesforceSandbox) -> None:
    client = Salesforce(
        username="integration@sandbox.example",
        password="sandbox-password",
        security_token="sandboxtoken",
        domain=salesforce_sandbox.login_domain,
        session=salesforce_sandbox.http_session(),
    )
    first_session = client.session_id
    salesforce_sandbox.expire_session_at_request(1)

    assert client.query("SELECT COUNT() FROM Account")["totalSize"] == 2
    assert client.session_id != first_session
    assert salesforce_sandbox.calls["POST login.soap"] == 2
    assert salesforce_sandbox.calls["GET query"] == 2


def test_session_ttl_in_requests() -> None:
    with SalesforceSandbox(session_ttl_requests=2) as sandbox:
        api = RawApi(sandbox)
        token = sandbox.session_id
        statuses = [api.get("limits", headers={"Authorization": f"Bearer {token}"}).status_code for _ in range(3)]

    assert statuses == [200, 200, 401]


def test_session_ttl_in_seconds() -> None:
    with SalesforceSandbox(session_ttl_seconds=0) as sandbox:
        response = RawApi(sandbox).get("limits", headers={"Authorization": "Bearer " + sandbox.sessions.issue()})

    assert response.status_code == 401


def test_expire_sessions_then_default_session_is_renewed(salesforce_sandbox: SalesforceSandbox, raw_api: RawApi) -> None:
    old = salesforce_sandbox.session_id
    salesforce_sandbox.expire_sessions()

    stale = raw_api.get("limits", headers={"Authorization": f"Bearer {old}"})
    fresh = raw_api.get("limits")

    assert stale.status_code == 401
    assert fresh.status_code == 200
    assert salesforce_sandbox.session_id != old


def test_transport_refuses_unmapped_hosts(salesforce_sandbox: SalesforceSandbox) -> None:
    session = salesforce_sandbox.http_session()

    with pytest.raises(requests.exceptions.ConnectionError, match="is not a sandbox origin"):
        session.get("https://login.salesforce.com/services/data/")
    with pytest.raises(requests.exceptions.ConnectionError, match="is not a sandbox origin"):
        session.get("http://127.0.0.1:1/")


def test_transport_keeps_the_requested_url(salesforce_sandbox: SalesforceSandbox) -> None:
    url = f"{salesforce_sandbox.instance_url}/services/data/"

    response = salesforce_sandbox.http_session().get(url)

    assert response.status_code == 200
    assert response.url == url
    assert response.json()[-1] == {"label": "API 62.0", "url": "/services/data/v62.0", "version": "62.0"}
