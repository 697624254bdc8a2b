"""SOQL values: the binding function, bound parameters, structured filters, and injection attempts."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from salesforce_connector_helpers import connector  # noqa: F401  (fixture)

from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.sandbox import SalesforceSandbox
from connectors.salesforce.soql import bind, datetime_literal, literal, where_clause
from engine.errors import FatalError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "'plain'"),
        ("O'Brien", "'O\\'Brien'"),
        ("back\\slash", "'back\\\\slash'"),
        ("ends with \\", "'ends with \\\\'"),
        ("line\nbreak\r\ttab", "'line\\nbreak\\r\\ttab'"),
        ('say "hi"', "'say \\\"hi\\\"'"),
        ("\\'", "'\\\\\\''"),
        ("", "''"),
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (-7, "-7"),
        (Decimal("19.99"), "19.99"),
        (Decimal("1E+2"), "100"),
        (Decimal("1234567890123456.78"), "1234567890123456.78"),
        (0.1, "0.1"),
        (date(2026, 11, 2), "2026-11-02"),
        (datetime(2026, 11, 2, 9, 15, tzinfo=timezone(timedelta(hours=-5))), "2026-11-02T14:15:00Z"),
        (datetime(2026, 11, 2, 14, 15, 0, 123000, tzinfo=timezone.utc), "2026-11-02T14:15:00.123Z"),
        (["a", "b'c"], "('a', 'b\\'c')"),
        ((1, Decimal("2.5")), "(1, 2.5)"),
    ],
)
def test_literal_writes_soql_form(value: object, expected: str) -> None:
    assert literal(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (datetime(2026, 11, 2, 9, 15), "has no time zone"),
        ([], "an empty list cannot be used"),
        ({"a": 1}, "a dict cannot be used"),
        (Decimal("NaN"), "cannot be used in a query"),
        ([["nested"]], "only plain values"),
    ],
)
def test_literal_rejects_unusable_values(value: object, message: str) -> None:
    with pytest.raises(FatalError) as failure:
        literal(value)

    assert message in failure.value.message
    assert failure.value.code == "INVALID_INPUT"


def test_datetime_literal_converts_to_utc() -> None:
    moment = datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=2)))

    assert datetime_literal(moment) == "2025-12-31T22:30:00Z"


def test_bind_fills_named_parameters() -> None:
    query = "SELECT Id FROM Account WHERE Name = :name AND Shopify_Customer_Id__c IN :ids LIMIT 5"

    bound = bind(query, {"name": "O'Brien", "ids": ["1", "2"]})

    assert bound == "SELECT Id FROM Account WHERE Name = 'O\\'Brien' AND Shopify_Customer_Id__c IN ('1', '2') LIMIT 5"


def test_bind_leaves_colons_in_strings_and_times_alone() -> None:
    query = "SELECT Id FROM Account WHERE Name = 'a :b' AND SystemModstamp > 2026-01-01T10:00:00Z AND Phone = :phone"

    bound = bind(query, {"phone": "555"})

    assert bound == "SELECT Id FROM Account WHERE Name = 'a :b' AND SystemModstamp > 2026-01-01T10:00:00Z AND Phone = '555'"


def test_bind_skips_escaped_quote_inside_string() -> None:
    bound = bind("SELECT Id FROM Account WHERE Name = 'it\\'s :x' AND Phone = :phone", {"phone": "1"})

    assert bound == "SELECT Id FROM Account WHERE Name = 'it\\'s :x' AND Phone = '1'"


def test_bind_reports_missing_parameter() -> None:
    with pytest.raises(FatalError) as failure:
        bind("SELECT Id FROM Account WHERE Name = :name", {})

    assert failure.value.message == "the query uses :name but no such parameter was given"


def test_bind_reports_unused_parameter() -> None:
    with pytest.raises(FatalError) as failure:
        bind("SELECT Id FROM Account", {"nmae": "x"})

    assert failure.value.message == "the parameters nmae are not used in the query; each needs a :name in it"


def test_where_clause_from_mapping_and_operators() -> None:
    condition = {
        "status": "Open",
        "PBSI__Tracking_Number__c": {"!=": None},
        "total": {">=": Decimal("100.00"), "<": 500},
        "stage": ["Packed", "Delivered"],
    }

    clause = where_clause(condition, lambda name: name.upper())

    assert clause == (
        "(STATUS = 'Open') AND (PBSI__TRACKING_NUMBER__C != null) AND ((TOTAL >= 100.00) AND (TOTAL < 500)) "
        "AND (STAGE IN ('Packed', 'Delivered'))"
    )


def test_where_clause_combines_or_and_not() -> None:
    condition = {"or": [{"a": 1}, {"not": {"b": {"like": "x%"}}}]}

    assert where_clause(condition, str) == "(a = 1) OR (NOT (b LIKE 'x%'))"


def test_where_clause_with_empty_in_matches_nothing() -> None:
    assert where_clause({"a": {"in": []}}, str) == "Id = null"
    assert where_clause({"a": {"not in": []}}, str) == "Id != null"


def test_where_clause_rejects_unknown_operator() -> None:
    with pytest.raises(FatalError) as failure:
        where_clause({"a": {"~=": 1}}, str)

    assert failure.value.message == "unknown filter operator '~=' on a; use one of =, !=, <, <=, >, >=, in, not in, like"


@pytest.mark.parametrize(
    "name",
    [
        "x' OR Name != '",
        "x\\' OR Name != \\'",
        "x\\",
        "Ada Lovelace' OR Name LIKE '%",
        "line\nbreak' OR Id != null OR Name = '",
    ],
)
def test_quoted_customer_name_cannot_change_query(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox, name: str) -> None:
    salesforce_sandbox.records.create("Account", {"Name": name})

    through_params = connector.call("query", {"soql": "SELECT Id, Name FROM Account WHERE Name = :name", "params": {"name": name}})
    through_where = connector.call("query", {"object": "account", "fields": ["name"], "where": {"name": name}})

    assert [record["Name"] for record in through_params["records"]] == [name]
    assert [record["Name"] for record in through_where["records"]] == [name]


def test_quote_in_external_id_reaches_only_its_record(connector: SalesforceConnector, salesforce_sandbox: SalesforceSandbox) -> None:
    value = "1' OR Name != '"

    result = connector.call("get_by_external_id", {"object": "account", "external_id_field": "shopify_customer_id", "value": value, "missing_ok": True})

    assert result is None
    assert salesforce_sandbox.calls["GET sobjects.get_by_external_id"] == 1


@pytest.mark.parametrize(
    "inputs",
    [
        {"object": "account", "fields": ["Name FROM Contact WHERE Name != null"]},
        {"object": "account", "where": {"Name = 'x' OR Name": "y"}},
        {"object": "Account WHERE Name != null", "fields": ["Name"]},
        {"object": "account", "fields": ["account.Name, (SELECT Id FROM Contacts)"]},
    ],
)
def test_text_in_place_of_a_name_is_rejected(connector: SalesforceConnector, inputs: dict) -> None:
    with pytest.raises(FatalError) as failure:
        connector.call("query", inputs)

    assert failure.value.code == "INVALID_NAME"
    assert connector.round_trips == 0


def test_limit_must_be_a_whole_number(connector: SalesforceConnector) -> None:
    with pytest.raises(FatalError) as failure:
        connector.call("query", {"object": "account", "limit": "5 OFFSET 1"})

    assert failure.value.message == "limit must be a whole number of 1 or more, not '5 OFFSET 1'"
