"""Reads: SOQL queries followed to their last page, and single records by id or external id."""

from __future__ import annotations

import re
from typing import Any, Mapping
from urllib.parse import quote as quote_url
from urllib.parse import urlencode

from engine.errors import FatalError

from .client import SalesforceClient
from .errors import error_from_items, error_from_response
from .names import AscentNames
from .soql import bind, where_clause

__all__ = ["Reader", "check_record_id", "check_api_name", "object_in_query", "external_id_text", "positive_integer", "MAX_SUBREQUESTS"]

# A Composite request takes at most 25 subrequests.
MAX_SUBREQUESTS = 25

_RECORD_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?\Z")
_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_FROM = re.compile(r"\bFROM\s+([A-Za-z][A-Za-z0-9_]*)", re.IGNORECASE)
_ORDER_ITEM = re.compile(r"\s*(?P<field>[A-Za-z_][A-Za-z0-9_.]*)(?P<direction>(?:\s+(?:ASC|DESC))?(?:\s+NULLS\s+(?:FIRST|LAST))?)\s*\Z", re.IGNORECASE)


def check_record_id(value: Any, description: str = "id") -> str:
    """Return a 15- or 18-character record id; raise FatalError (MALFORMED_ID) for anything else.

    Ids go into URL paths, so this check also keeps text such as `../` out of them.
    """
    if not isinstance(value, str) or not _RECORD_ID.match(value):
        raise FatalError(f"{description} {value!r} is not a Salesforce record id (15 or 18 letters and digits)", code="MALFORMED_ID")
    return value


def check_api_name(name: str, description: str) -> str:
    """Return an object or field API name that is safe in a URL path; raise FatalError otherwise."""
    if not _API_NAME.match(name):
        raise FatalError(f"{description} {name!r} is not a valid API name", code="INVALID_NAME")
    return name


def object_in_query(soql: str) -> str:
    """Return the object a SOQL query reads (the first FROM), for log labels and output names."""
    found = _FROM.search(soql)
    return found.group(1) if found else "unknown object"


class Reader:
    """Queries and record reads through one client, with names translated by one mapping."""

    def __init__(self, client: SalesforceClient, names: AscentNames) -> None:
        self.client = client
        self.names = names

    def query(self, soql: str, object_name: str, max_records: int | None = None) -> list[dict[str, Any]]:
        """Run a SOQL query and follow `nextRecordsUrl` until the last page or `max_records` rows.

        Returns the records as the API wrote them (API names, `attributes` included).
        """
        label = f"query {object_name}"
        reply = self.client.request("GET", "query", label=label, params={"q": soql})
        records = list(reply.body.get("records") or [])
        while not reply.body.get("done", True) and reply.body.get("nextRecordsUrl"):
            if max_records is not None and len(records) >= max_records:
                break
            reply = self.client.request("GET", str(reply.body["nextRecordsUrl"]), label=f"{label} (next page)")
            records.extend(reply.body.get("records") or [])
        return records[:max_records] if max_records is not None else records

    def query_many(self, queries: list[tuple[str, str]], label: str) -> list[list[dict[str, Any]]]:
        """Run several SOQL queries, given as (object name, SOQL), and return their records in order.

        The queries share one Composite request (25 per request), so up to 25 queries cost one
        round trip. A result with more rows than one batch follows its `nextRecordsUrl`, one
        request per further batch. A single query is sent as a plain query. Records come as the
        API wrote them. The first failed query raises its error, labelled `label` and its object.
        """
        if len(queries) == 1:
            object_name, soql = queries[0]
            return [self.query(soql, object_name)]

        results: list[list[dict[str, Any]]] = []
        for start in range(0, len(queries), MAX_SUBREQUESTS):
            batch = queries[start : start + MAX_SUBREQUESTS]
            subrequests = [
                {"method": "GET", "url": f"{self.client.data_path}/query?{urlencode({'q': soql})}", "referenceId": f"query{number}"}
                for number, (_, soql) in enumerate(batch)
            ]
            reply = self.client.request("POST", "composite", label=label, body={"allOrNone": False, "compositeRequest": subrequests})
            items = list(reply.body.get("compositeResponse") or [])
            if len(items) != len(batch):
                raise FatalError(f"{label}: the Composite response has {len(items)} results for {len(batch)} queries", code="COMPOSITE_INCOMPLETE")
            for (object_name, _), item in zip(batch, items):
                results.append(self._composite_result(item, object_name, label))
        return results

    def _composite_result(self, item: Mapping[str, Any], object_name: str, label: str) -> list[dict[str, Any]]:
        body = item.get("body")
        status = item.get("httpStatusCode", 500)
        if status >= 300:
            errors = body if isinstance(body, list) else []
            if isinstance(body, Mapping):
                errors = [body]
            raise error_from_items(errors, f"{label} {object_name}", status)

        records = list(body.get("records") or [])
        page = body
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            page = self.client.request("GET", str(page["nextRecordsUrl"]), label=f"{label} {object_name} (next page)").body
            records.extend(page.get("records") or [])
        return records

    def select(
        self,
        object_name: str,
        fields: list[str],
        where: Any = None,
        order_by: list[str] | None = None,
        limit: int | None = None,
    ) -> str:
        """Build a SELECT from logical or API names, with the filter's values bound by `literal`.

        `Id` is always selected, first.
        """
        api_object = check_api_name(self.names.object_name(object_name), "object")
        selected = ["Id"]
        for name in fields:
            api_field = self.names.field_name(api_object, name)
            if api_field.lower() not in (item.lower() for item in selected):
                selected.append(api_field)

        soql = f"SELECT {', '.join(selected)} FROM {api_object}"
        condition = where_clause(where, lambda name: self.names.field_name(api_object, name))
        if condition:
            soql += f" WHERE {condition}"
        if order_by:
            soql += " ORDER BY " + ", ".join(self._order_item(api_object, item) for item in order_by)
        if limit is not None:
            soql += f" LIMIT {positive_integer(limit, 'limit')}"
        return soql

    def _order_item(self, api_object: str, item: str) -> str:
        found = _ORDER_ITEM.match(item) if isinstance(item, str) else None
        if found is None:
            raise FatalError(f"order_by entry {item!r} must be a field name, optionally followed by ASC or DESC and NULLS FIRST or LAST", code="INVALID_INPUT")
        direction = " ".join(found.group("direction").upper().split())
        field = self.names.field_name(api_object, found.group("field"))
        return f"{field} {direction}".strip()

    def bound_query(self, soql: str, parameters: Mapping[str, Any] | None) -> str:
        """Return a recipe's SOQL with its `:name` parameters bound."""
        return bind(soql, parameters)

    def get(self, object_name: str, record_id: Any, fields: list[str] | None = None) -> dict[str, Any]:
        """Read one record by id; NOT_FOUND is a FatalError and ENTITY_IS_DELETED skips the event."""
        api_object = check_api_name(self.names.object_name(object_name), "object")
        record_id = check_record_id(record_id)
        params = None
        if fields:
            # Id is asked for too, so the output always carries it.
            names = ["Id"] + [self.names.field_name(api_object, name) for name in fields]
            params = {"fields": ",".join(dict.fromkeys(names))}
        reply = self.client.request("GET", f"sobjects/{api_object}/{record_id}", label=f"get {api_object}", params=params)
        return reply.body

    def get_by_external_id(self, object_name: str, field_name: str, value: Any, accept_missing: bool = False) -> dict[str, Any] | None:
        """Read the record whose external id field has the value `value`.

        A value held by several records is a FatalError (MULTIPLE_CHOICES). A missing record is
        a FatalError unless `accept_missing`, when None is returned.
        """
        api_object = check_api_name(self.names.object_name(object_name), "object")
        api_field = check_api_name(self.names.field_name(api_object, field_name), "external id field")
        text = external_id_text(value, api_field)
        path = f"sobjects/{api_object}/{api_field}/{quote_url(text, safe='')}"
        label = f"get {api_object} by {api_field}"
        reply = self.client.request("GET", path, label=label, accept=(404,) if accept_missing else ())
        if reply.status != 404:
            return reply.body
        if _names_bad_field(reply.body):
            # A wrong field name must not pass for a missing record, or a recipe would create duplicates.
            raise error_from_response(404, reply.body, label)
        return None


def _names_bad_field(body: Any) -> bool:
    messages = [str(item.get("message", "")) for item in body if isinstance(item, dict)] if isinstance(body, list) else []
    return any("external ID field" in message for message in messages)


def positive_integer(value: Any, name: str) -> int:
    """Return `value` as an int of at least 1; raise FatalError for anything else (text, 0, a fraction)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise FatalError(f"{name} must be a whole number of 1 or more, not {value!r}", code="INVALID_INPUT")
    return value


def external_id_text(value: Any, field: str) -> str:
    """Return an external id value as the text that goes into a URL; raises FatalError when empty."""
    if value is None or isinstance(value, bool) or str(value) == "":
        raise FatalError(f"the external id {field} is empty", code="REQUIRED_FIELD_MISSING", fields=[field])
    return str(value)
