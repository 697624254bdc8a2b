"""The API allowance, the limit header, injected faults, write latency and request counting."""

from __future__ import annotations

import pytest
from salesforce_sandbox_helpers import RawApi
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceGeneralError, SalesforceMalformedRequest, SalesforceRefusedRequest

from connectors.salesforce.sandbox import Faults, SalesforceSandbox, WriteFaults
from connectors.salesforce.sandbox import faults as write_fault_module


def test_every_response_carries_limit_header(raw_api: RawApi) -> None:
    first = raw_api.get("limits")
    second = raw_api.get("sobjects/Nope__c/describe")

    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/100000"
    assert second.headers["Sforce-Limit-Info"] == "api-usage=2/100000"
    assert first.json() == {"DailyApiRequests": {"Max": 100000, "Remaining": 99999}}


def test_client_reads_api_usage(salesforce_client: Salesforce) -> None:
    salesforce_client.query("SELECT COUNT() FROM Account")

    assert salesforce_client.api_usage["api-usage"].used == 1
    assert salesforce_client.api_usage["api-usage"].total == 100000


def test_spent_daily_limit_is_403() -> None:
    with SalesforceSandbox(daily_limit=2) as sandbox:
        client = sandbox.client()
        client.query("SELECT COUNT() FROM Account")
        client.query("SELECT COUNT() FROM Account")

        with pytest.raises(SalesforceRefusedRequest) as failure:
            client.query("SELECT COUNT() FROM Account")
        response = RawApi(sandbox).get("limits")

    assert failure.value.status == 403
    assert failure.value.content == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert response.headers["Sforce-Limit-Info"] == "api-usage=2/2"


def test_logins_and_admin_routes_are_free(salesforce_sandbox: SalesforceSandbox) -> None:
    session = salesforce_sandbox.http_session()
    session.post(
        f"{salesforce_sandbox.login_url}/services/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "sandbox-client-id", "client_secret": "sandbox-client-secret"},
    )
    session.get(f"{salesforce_sandbox.base_url}/sandbox/usage")

    assert salesforce_sandbox.usage.used == 0


def test_injected_server_errors_carry_salesforce_bodies() -> None:
    expected = {
        500: "UNKNOWN_EXCEPTION",
        503: "SERVER_UNAVAILABLE",
    }
    with SalesforceSandbox(faults=Faults(error_share=1.0, seed=3)) as sandbox:
        responses = [RawApi(sandbox).get("limits") for _ in range(6)]

    for response in responses:
        assert response.status_code in expected
        assert response.json()[0]["errorCode"] == expected[response.status_code]
        assert response.headers["Sforce-Limit-Info"] == "api-usage=0/100000"
    unavailable = [response.json() for response in responses if response.status_code == 503]
    assert all(body == [{"message": "Server temporarily unavailable", "errorCode": "SERVER_UNAVAILABLE"}] for body in unavailable)


def test_injected_503_reaches_client_as_general_error() -> None:
    with SalesforceSandbox(faults=Faults(error_share=1.0, seed=3)) as sandbox:
        client = sandbox.client()
        with pytest.raises(SalesforceGeneralError) as failure:
            client.query("SELECT COUNT() FROM Account")

    assert failure.value.status in (500, 503)


def test_forced_429_becomes_concurrent_limit_403() -> None:
    with SalesforceSandbox(faults=Faults(forced_429=1)) as sandbox:
        api = RawApi(sandbox)
        limited = api.get("limits")
        after = api.get("limits")

    assert limited.status_code == 403
    assert limited.json() == [{"message": "ConcurrentPerOrgLongTxn Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert after.status_code == 200


def test_unable_to_lock_row_on_next_write(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox) -> None:
    record_id = salesforce_client.Account.create({"Name": "Acme"})["id"]
    salesforce_sandbox.records.write_faults.unable_to_lock_row_next = 1

    with pytest.raises(SalesforceMalformedRequest) as failure:
        salesforce_client.Account.update(record_id, {"Phone": "1"})
    retried = salesforce_client.Account.update(record_id, {"Phone": "2"})

    assert failure.value.content == [
        {"message": f"unable to obtain exclusive access to this record or 1 records: {record_id}", "errorCode": "UNABLE_TO_LOCK_ROW", "fields": []}
    ]
    assert retried == 204
    assert salesforce_sandbox.records.get("Account", record_id)["Phone"] == "2"  # type: ignore[index]


def test_unable_to_lock_row_through_admin_route(salesforce_sandbox: SalesforceSandbox, raw_api: RawApi) -> None:
    answer = salesforce_sandbox.http_session().post(f"{salesforce_sandbox.base_url}/sandbox/faults/unable-to-lock-row", json={"count": 1})

    response = raw_api.post("sobjects/Account", json={"Name": "Locked"})

    assert answer.status_code == 204
    assert response.status_code == 400
    assert response.json() == [{"message": "unable to obtain exclusive access to this record", "errorCode": "UNABLE_TO_LOCK_ROW", "fields": []}]


def test_write_latency_applies_per_record(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(write_fault_module.time, "sleep", sleeps.append)
    sandbox = SalesforceSandbox(write_faults=WriteFaults(latency_per_record=0.002))
    records = [{"attributes": {"type": "Account"}, "Name": f"A{index}"} for index in range(3)]

    with sandbox:
        RawApi(sandbox).post("composite/sobjects", json={"records": records})

    assert sleeps == [0.002, 0.002, 0.002]


def test_requests_are_counted_by_endpoint(salesforce_client: Salesforce, salesforce_sandbox: SalesforceSandbox) -> None:
    salesforce_client.query("SELECT Id FROM Account")
    salesforce_client.Account.upsert("Shopify_Customer_Id__c/1", {"Name": "A"})
    salesforce_client.Account.upsert("Shopify_Customer_Id__c/1", {"Name": "B"})
    salesforce_client.Account.describe()

    assert salesforce_sandbox.calls == {"GET query": 1, "PATCH sobjects.upsert": 2, "GET sobjects.describe": 1}
