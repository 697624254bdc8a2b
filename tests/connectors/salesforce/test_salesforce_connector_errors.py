"""Every Salesforce error and whether it retries, skips or fails; the request-limit pause."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses
from salesforce_connector_helpers import fake_settings, fake_url, token_settings

from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.sandbox import Faults, SalesforceSandbox, WriteFaults
from engine.errors import ActionError, ConfigurationError, ErrorKind

ACCOUNT = "0015g0000000001AAA"
GET_ACCOUNT = fake_url(f"sobjects/Account/{ACCOUNT}")


def sf_error(code: str, message: str, fields: list[str] | None = None) -> list[dict[str, Any]]:
    return [{"message": message, "errorCode": code, "fields": fields or []}]


# (status, body, kind, code, fields, retry_after)
ERROR_TABLE = [
    (400, sf_error("REQUIRED_FIELD_MISSING", "Required fields are missing: [Name]", ["Name"]), ErrorKind.FATAL, "REQUIRED_FIELD_MISSING", ["Name"], None),
    (400, sf_error("STRING_TOO_LONG", "Name: data value too large", ["Name"]), ErrorKind.FATAL, "STRING_TOO_LONG", ["Name"], None),
    (400, sf_error("FIELD_CUSTOM_VALIDATION_EXCEPTION", "Ship date must be after order date", ["PBSI__Ship_Date__c"]), ErrorKind.FATAL, "FIELD_CUSTOM_VALIDATION_EXCEPTION", ["PBSI__Ship_Date__c"], None),
    (400, sf_error("DUPLICATE_VALUE", "duplicate value found: Shopify_Customer_Id__c"), ErrorKind.FATAL, "DUPLICATE_VALUE", [], None),
    (400, sf_error("INVALID_FIELD", "No such column 'Colour__c' on entity 'Account'", ["Colour__c"]), ErrorKind.FATAL, "INVALID_FIELD", ["Colour__c"], None),
    (400, sf_error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["ParentId"]), ErrorKind.FATAL, "INVALID_CROSS_REFERENCE_KEY", ["ParentId"], None),
    (400, sf_error("MALFORMED_QUERY", "unexpected token: WHERE"), ErrorKind.FATAL, "MALFORMED_QUERY", [], None),
    (400, sf_error("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "Status: bad value for restricted picklist field", ["PBSI__Status__c"]), ErrorKind.FATAL, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", ["PBSI__Status__c"], None),
    (400, sf_error("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record"), ErrorKind.RETRYABLE, "UNABLE_TO_LOCK_ROW", [], 2.0),
    (403, sf_error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."), ErrorKind.RETRYABLE, "REQUEST_LIMIT_EXCEEDED", [], 3600.0),
    (403, sf_error("REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."), ErrorKind.RETRYABLE, "REQUEST_LIMIT_EXCEEDED", [], 300.0),
    (403, sf_error("INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id"), ErrorKind.FATAL, "INSUFFICIENT_ACCESS_OR_READONLY", [], None),
    (404, sf_error("NOT_FOUND", "The requested resource does not exist"), ErrorKind.FATAL, "NOT_FOUND", [], None),
    (404, sf_error("ENTITY_IS_DELETED", "entity is deleted"), ErrorKind.SKIP, "ENTITY_IS_DELETED", [], None),
    (300, ["/services/data/v62.0/sobjects/Account/0015g0000000001AAA", "/services/data/v62.0/sobjects/Account/0015g0000000002AAA"], ErrorKind.FATAL, "MULTIPLE_CHOICES", [], None),
    (500, sf_error("UNKNOWN_EXCEPTION", "An unexpected error occurred."), ErrorKind.RETRYABLE, "UNKNOWN_EXCEPTION", [], None),
    (502, "<html>Bad Gateway</html>", ErrorKind.RETRYABLE, None, [], None),
    (503, sf_error("SERVER_UNAVAILABLE", "Server temporarily unavailable"), ErrorKind.RETRYABLE, "SERVER_UNAVAILABLE", [], None),
    (429, sf_error("REQUEST_LIMIT_EXCEEDED", "Too many requests"), ErrorKind.RETRYABLE, "REQUEST_LIMIT_EXCEEDED", [], 300.0),
]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def add_reply(status: int, body: Any) -> None:
    if isinstance(body, str):
        responses.add(responses.GET, GET_ACCOUNT, body=body, status=status, content_type="text/html")
    else:
        responses.add(responses.GET, GET_ACCOUNT, json=body, status=status)


@pytest.mark.parametrize(("status", "body", "kind", "code", "fields", "retry_after"), ERROR_TABLE)
@responses.activate
def test_error_table(status: int, body: Any, kind: str, code: str | None, fields: list[str], retry_after: float | None) -> None:
    add_reply(status, body)

    with SalesforceConnector(fake_settings()) as connector:
        with pytest.raises(ActionError) as failure:
            connector.call("get", {"object": "account", "id": ACCOUNT})

    assert failure.value.kind == kind
    assert failure.value.code == code
    assert failure.value.status == status
    assert failure.value.fields == fields
    assert failure.value.retry_after == retry_after
    assert failure.value.message.startswith("get Account: ")
    assert connector.round_trips == 1


@pytest.mark.parametrize(
    ("raised", "code", "message"),
    [
        (requests.exceptions.ReadTimeout("read timed out"), "TIMEOUT", "get Account: the Salesforce request timed out after 30 s"),
        (requests.exceptions.ConnectTimeout("connect timed out"), "TIMEOUT", "get Account: the Salesforce request timed out after 30 s"),
        (requests.exceptions.ConnectionError("connection reset"), "CONNECTION_FAILED", "get Account: could not reach Salesforce: connection reset"),
    ],
)
@responses.activate
def test_timeouts_and_dropped_connections_are_retryable(raised: Exception, code: str, message: str) -> None:
    responses.add(responses.GET, GET_ACCOUNT, body=raised)

    with SalesforceConnector(fake_settings()) as connector:
        with pytest.raises(ActionError) as failure:
            connector.call("get", {"object": "account", "id": ACCOUNT})

    assert (failure.value.kind, failure.value.code, failure.value.message) == (ErrorKind.RETRYABLE, code, message)


@responses.activate
def test_locked_row_in_collection_result_is_retryable() -> None:
    result = [
        {"success": False, "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back", "fields": []}]},
        {"success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access to this record", "fields": []}]},
    ]
    responses.add(responses.PATCH, fake_url("composite/sobjects/Account/Shopify_Customer_Id__c"), json=result, status=200)
    records = [{"shopify_customer_id": "1", "name": "A"}, {"shopify_customer_id": "2", "name": "B"}]

    with SalesforceConnector(fake_settings()) as connector:
        with pytest.raises(ActionError) as failure:
            connector.call("upsert", {"object": "account", "external_id_field": "shopify_customer_id", "records": records})

    assert (failure.value.kind, failure.value.code, failure.value.retry_after) == (ErrorKind.RETRYABLE, "UNABLE_TO_LOCK_ROW", 2.0)
    assert failure.value.message == "upsert Account by Shopify_Customer_Id__c, record 2 of 2: unable to obtain exclusive access to this record"


@responses.activate
def test_request_limit_pauses_later_calls() -> None:
    clock = FakeClock()
    responses.add(responses.GET, GET_ACCOUNT, json=sf_error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."), status=403)
    responses.add(responses.GET, fake_url("limits"), json={"DailyApiRequests": {"Max": 100, "Remaining": 5}}, status=200)

    with SalesforceConnector(fake_settings(), clock=clock) as connector:
        with pytest.raises(ActionError):
            connector.call("get", {"object": "account", "id": ACCOUNT})
        clock.now += 3599
        with pytest.raises(ActionError) as paused:
            connector.call("query", {"soql": "SELECT Id FROM Account"})
        sent_while_paused = len(responses.calls)
        clock.now += 2
        line = connector.check()

    assert (paused.value.kind, paused.value.code, paused.value.retry_after) == (ErrorKind.RETRYABLE, "REQUEST_LIMIT_EXCEEDED", 1.0)
    assert paused.value.message == "paused after Salesforce's request limit was reached (get Account: TotalRequests Limit exceeded.); 1 s left"
    assert sent_while_paused == 1
    assert len(responses.calls) == 2
    assert line == "Salesforce org https://fake-org.my.salesforce.com (API 62.0): 5 of 100 daily API requests left"


@responses.activate
def test_expired_access_token_is_configuration_error() -> None:
    responses.add(responses.GET, GET_ACCOUNT, json=sf_error("INVALID_SESSION_ID", "Session expired or invalid"), status=401)

    with SalesforceConnector(fake_settings()) as connector:
        with pytest.raises(ConfigurationError) as failure:
            connector.call("get", {"object": "account", "id": ACCOUNT})

    assert str(failure.value) == (
        "the Salesforce access token has expired or was revoked (401 INVALID_SESSION_ID); give a new access_token, "
        "or connect with username and password or client credentials so the connector can log in again"
    )


@responses.activate
def test_logs_omit_values_and_token(caplog: pytest.LogCaptureFixture) -> None:
    responses.add(responses.GET, fake_url("query"), json={"totalSize": 0, "done": True, "records": []}, status=200)
    caplog.set_level("DEBUG", logger="connectors.salesforce")

    with SalesforceConnector(fake_settings()) as connector:
        connector.call("query", {"soql": "SELECT Id FROM Account WHERE Name = :name", "params": {"name": "Secret Customer"}})

    assert responses.calls[0].request.headers["Authorization"] == "Bearer 00Dfake000000001!fake_access_token"
    assert [record.getMessage().split(": 200 in")[0] for record in caplog.records] == ["GET query Account"]
    assert "Secret Customer" not in caplog.text
    assert "fake_access_token" not in caplog.text


# ----- the same errors from the sandbox --------------------------------------------------------


def test_sandbox_server_errors_are_retryable() -> None:
    with SalesforceSandbox(port=0, faults=Faults(error_share=1.0, seed=3)) as sandbox:
        with SalesforceConnector(token_settings(sandbox)) as connector:
            with pytest.raises(ActionError) as failure:
                connector.call("get", {"object": "account", "id": ACCOUNT})

    assert failure.value.kind == ErrorKind.RETRYABLE
    assert (failure.value.status, failure.value.code) in ((500, "UNKNOWN_EXCEPTION"), (503, "SERVER_UNAVAILABLE"))


def test_sandbox_locked_row_on_upsert_is_retryable() -> None:
    with SalesforceSandbox(port=0, write_faults=WriteFaults(unable_to_lock_row_next=1)) as sandbox:
        with SalesforceConnector(token_settings(sandbox)) as connector:
            with pytest.raises(ActionError) as failure:
                connector.call("upsert", {"object": "account", "external_id_field": "shopify_customer_id", "record": {"shopify_customer_id": "8100000000001", "phone": "1"}})
            retried = connector.call("upsert", {"object": "account", "external_id_field": "shopify_customer_id", "record": {"shopify_customer_id": "8100000000001", "phone": "1"}})

    assert (failure.value.kind, failure.value.code, failure.value.status) == (ErrorKind.RETRYABLE, "UNABLE_TO_LOCK_ROW", 400)
    assert retried == {"id": ACCOUNT, "created": False}


def test_sandbox_daily_limit_pauses_without_sending() -> None:
    clock = FakeClock()
    with SalesforceSandbox(port=0, daily_limit=1) as sandbox:
        with SalesforceConnector(token_settings(sandbox), clock=clock) as connector:
            connector.call("get", {"object": "account", "id": ACCOUNT})
            with pytest.raises(ActionError) as limited:
                connector.call("get", {"object": "account", "id": ACCOUNT})
            with pytest.raises(ActionError) as paused:
                connector.call("get", {"object": "account", "id": ACCOUNT})
            calls = sandbox.calls["GET sobjects.get"]

    assert (limited.value.code, limited.value.status, limited.value.retry_after) == ("REQUEST_LIMIT_EXCEEDED", 403, 3600.0)
    assert (paused.value.code, paused.value.retry_after) == ("REQUEST_LIMIT_EXCEEDED", 3600.0)
    assert calls == 2
