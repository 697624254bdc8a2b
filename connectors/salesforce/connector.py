"""The Salesforce connector, for an org running the Ascent ERP (`PBSI__` objects).

Objects and fields may be named by their logical names from `ascent_names.yaml` (`sales_order`,
`order_date`) or by their API names (`PBSI__PBSI_Sales_Order__c`, `PBSI__Order_Date__c`).
Records come back with their API names and, for mapped fields, their logical names as well.

The HTTP side is `client.py`, the query values `soql.py`, the name mapping `names.py`, the
trigger `triggers.py`, and the writes `writes.py` (one object) and `tree.py` (a parent with its
children). `docs/decisions.md` gives the reasons for the design.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from engine.connector import Connector, Event, Poll, action, trigger
from engine.errors import EventInvalid, FatalError

from .client import SalesforceClient
from .names import AscentNames
from .reads import Reader, object_in_query, positive_integer
from .settings import CONNECTION_SCHEMA, ConnectionSettings
from .tree import TreeSaver
from .triggers import UpdatedRecords
from .writes import Writer

__all__ = ["SalesforceConnector"]

log = logging.getLogger(__name__)

_OBJECT = {"type": "string", "minLength": 1, "description": "Object: a logical name such as sales_order, or an API name."}
_FIELDS = {"type": "array", "items": {"type": "string"}, "description": "Fields to return, logical or API names; dotted paths reach parents."}
_RECORD = {"type": "object", "description": "Field values by logical or API name."}
_RECORDS = {"type": "array", "items": {"type": "object"}, "description": "Several records of the object, written 200 per request."}
_EXTERNAL_ID_FIELD = {"type": "string", "minLength": 1, "description": "The external id field that identifies the record, logical or API name."}
_FILTER = {
    "type": "object",
    "description": "Field to value (a list means IN, null means = null), or field to {operator: value} with =, !=, <, <=, >, >=, in, not in, like; and/or/not combine filters.",
}
_QUERY = {
    "soql": {"type": "string", "description": "A SOQL query with API names; values go in as :name parameters."},
    "params": {"type": "object", "description": "Values of the query's :name parameters, quoted and escaped by the connector."},
    "object": _OBJECT,
    "fields": _FIELDS,
    "where": _FILTER,
    "order_by": {"type": "array", "items": {"type": "string"}, "description": "Fields, each optionally followed by ASC or DESC."},
    "limit": {"type": "integer", "minimum": 1, "description": "At most this many records."},
}
_TREE_NODE = {
    "object": _OBJECT,
    "external_id_field": _EXTERNAL_ID_FIELD,
    "record": _RECORD,
    "ref": {"type": "string", "description": "A name later nodes use to point at this record: {\"$ref\": name}."},
    "children": {
        "type": "array",
        "items": {"type": "object"},
        "description": "Child nodes: object, external_id_field, parent_field (set to this record's id), record or records, ref, children.",
    },
}


class SalesforceConnector(Connector):
    """Salesforce REST API with the Ascent ERP objects, through simple-salesforce."""

    name = "salesforce"
    title = "Salesforce (Ascent ERP)"
    connection_schema = CONNECTION_SCHEMA

    def __init__(self, settings: dict[str, Any], connection_name: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(settings, connection_name)
        self._clock = clock
        self._client: SalesforceClient | None = None
        self._names: AscentNames | None = None

    # ----- lifecycle -------------------------------------------------------------------------

    @classmethod
    def sandbox_settings(cls, state_dir: str) -> dict[str, Any]:
        from connectors.sandbox.local import shared_sandbox

        return shared_sandbox(state_dir).salesforce_settings()

    @classmethod
    def close_sandbox(cls, state_dir: str) -> None:
        from connectors.sandbox.local import release_shared

        release_shared(state_dir)

    @classmethod
    def prepare_sandbox(cls, state_dir: str, given: Any) -> None:
        from connectors.sandbox.local import prepare_salesforce

        prepare_salesforce(state_dir, given)

    def open(self) -> None:
        """Check the settings, read the name mapping and log in; raises ConfigurationError."""
        settings = ConnectionSettings.from_settings(self.settings)
        self._names = AscentNames.load(settings.names_file)
        self._client = SalesforceClient(settings, self._count_round_trip, self._clock)
        self._client.open()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None

    def _count_round_trip(self) -> None:
        self.round_trips += 1

    @property
    def client(self) -> SalesforceClient:
        if self._client is None:
            raise RuntimeError("the Salesforce connector is not open; use it as a context manager or call open() first")
        return self._client

    @property
    def names(self) -> AscentNames:
        if self._names is None:
            raise RuntimeError("the Salesforce connector is not open; use it as a context manager or call open() first")
        return self._names

    def check(self) -> str:
        """Read the org's API limits: one cheap call that needs a working session."""
        reply = self.client.request("GET", "limits", label="limits")
        daily = (reply.body or {}).get("DailyApiRequests") or {}
        return (
            f"Salesforce org {self.client.instance_url} (API {self.client.settings.api_version}): "
            f"{daily.get('Remaining', '?')} of {daily.get('Max', '?')} daily API requests left"
        )

    def _reader(self) -> Reader:
        return Reader(self.client, self.names)

    # ----- trigger ---------------------------------------------------------------------------

    @trigger(
        "updated_records",
        input_schema={
            "type": "object",
            "properties": {"object": _OBJECT, "fields": _FIELDS, "condition": _FILTER},
            "required": ["object"],
            "additionalProperties": False,
        },
        description="Records created or changed, oldest SystemModstamp first; the event version is the SystemModstamp.",
    )
    def updated_records(self, inputs: dict[str, Any], cursor: Any, since: Any, limit: int) -> Poll:
        return UpdatedRecords(self._reader(), self.names).poll(inputs, cursor, since, limit)

    def event_from_payload(self, trigger_name: str, payload: Any) -> Event:
        """Shape a record (with Id and SystemModstamp) as an event of `updated_records`."""
        if not isinstance(payload, dict):
            raise EventInvalid(f"the event must be a JSON object, not {type(payload).__name__}")
        if not payload.get("Id"):
            raise EventInvalid("the event has no 'Id' field; give the record's Id (and its SystemModstamp as the version)")
        return Event(id=payload["Id"], version=str(payload.get("SystemModstamp") or ""), data=payload)

    # ----- reads -----------------------------------------------------------------------------

    @action(
        "query",
        writes=False,
        input_schema={
            "type": "object",
            "properties": _QUERY,
            "additionalProperties": False,
        },
    )
    def query(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Run a SOQL query (with bound parameters) or a query built from object, fields and where; follow every page."""
        reader = self._reader()
        soql, object_name, limit = self._soql(reader, inputs)
        records = reader.query(soql, object_name, max_records=limit)
        shaped = [self.names.with_logical_names(object_name, record) for record in records]
        return {"records": shaped, "count": len(shaped)}

    @action(
        "query_many",
        writes=False,
        input_schema={
            "type": "object",
            "properties": {
                "queries": {
                    "type": "object",
                    "minProperties": 1,
                    "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_]*$"},
                    "additionalProperties": {"type": "object", "properties": _QUERY, "additionalProperties": False},
                    "description": "Queries by name, each as `query` takes it; the output has each name's records and count.",
                },
            },
            "required": ["queries"],
            "additionalProperties": False,
        },
    )
    def query_many(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Run several queries in one Composite request (25 per request); return each name's records and count."""
        queries = inputs.get("queries")
        if not isinstance(queries, dict) or not queries:
            raise FatalError("query_many needs queries: a mapping of names to queries", code="INVALID_INPUT")

        reader = self._reader()
        built = [(name, *self._soql(reader, spec, f"query_many {name}")) for name, spec in queries.items()]
        found = reader.query_many([(object_name, soql) for _, soql, object_name, _ in built], "query_many")

        output: dict[str, Any] = {}
        for (name, _, object_name, limit), records in zip(built, found):
            first_records = records[:limit] if limit is not None else records
            shaped = [self.names.with_logical_names(object_name, record) for record in first_records]
            output[name] = {"records": shaped, "count": len(shaped)}
        return output

    def _soql(self, reader: Reader, inputs: Any, context: str = "") -> tuple[str, str, int | None]:
        """Return the SOQL, the object it reads and its row limit, from `query`'s inputs.

        Raises FatalError (INVALID_INPUT), its message starting with `context`, for inputs that
        mix or miss both forms.
        """
        prefix = f"{context}: " if context else ""
        if not isinstance(inputs, dict):
            raise FatalError(f"{prefix}a query is a mapping with soql (and params), or object with fields and where", code="INVALID_INPUT")
        limit = positive_integer(inputs["limit"], "limit") if inputs.get("limit") is not None else None
        if inputs.get("soql"):
            if inputs.get("object") or inputs.get("where") or inputs.get("fields") or inputs.get("order_by"):
                raise FatalError(f"{prefix}give either soql (with params) or object with fields and where, not both", code="INVALID_INPUT")
            soql = reader.bound_query(str(inputs["soql"]), inputs.get("params"))
            return soql, object_in_query(soql), limit
        if inputs.get("object"):
            if inputs.get("params"):
                raise FatalError(f"{prefix}params fill :name parameters of soql; with object, put the values in where", code="INVALID_INPUT")
            object_name = self.names.object_name(inputs["object"])
            soql = reader.select(object_name, inputs.get("fields") or ["Id"], inputs.get("where"), inputs.get("order_by"), limit)
            return soql, object_name, limit
        raise FatalError(f"{prefix}a query needs soql, or object with fields and where", code="INVALID_INPUT")

    @action(
        "get",
        writes=False,
        input_schema={
            "type": "object",
            "properties": {"object": _OBJECT, "id": {"type": "string", "description": "The record's 15- or 18-character Id."}, "fields": _FIELDS},
            "required": ["object", "id"],
            "additionalProperties": False,
        },
    )
    def get(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Get one record by Id; a missing record fails the job, a deleted one skips the event."""
        api_object = self.names.object_name(inputs["object"])
        record = self._reader().get(api_object, inputs["id"], inputs.get("fields"))
        return self.names.with_logical_names(api_object, record)

    @action(
        "get_by_external_id",
        writes=False,
        input_schema={
            "type": "object",
            "properties": {
                "object": _OBJECT,
                "external_id_field": _EXTERNAL_ID_FIELD,
                "value": {"type": ["string", "integer"], "description": "The external id value."},
                "missing_ok": {"type": "boolean", "description": "Return null instead of failing when no record has the value."},
            },
            "required": ["object", "external_id_field", "value"],
            "additionalProperties": False,
        },
    )
    def get_by_external_id(self, inputs: dict[str, Any]) -> dict[str, Any] | None:
        """Get the record whose external id field has a given value."""
        api_object = self.names.object_name(inputs["object"])
        missing_ok = bool(inputs.get("missing_ok", False))
        record = self._reader().get_by_external_id(api_object, inputs["external_id_field"], inputs["value"], accept_missing=missing_ok)
        return None if record is None else self.names.with_logical_names(api_object, record)

    # ----- writes ----------------------------------------------------------------------------

    def _writer(self) -> Writer:
        reader = self._reader()
        return Writer(self.client, self.names, reader)

    @action(
        "create",
        writes=True,
        target="object",
        input_schema={
            "type": "object",
            "properties": {
                "object": _OBJECT,
                "record": _RECORD,
                "external_id_field": {
                    "type": "string",
                    "description": "When given, a record that already holds the record's value for this field is returned instead of creating another.",
                },
            },
            "required": ["object", "record"],
            "additionalProperties": False,
        },
    )
    def create(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Create a record; idempotent only with external_id_field (a repeat then returns the existing record)."""
        return self._writer().create(inputs["object"], inputs["record"], inputs.get("external_id_field"))

    @action(
        "update",
        writes=True,
        target="object",
        input_schema={
            "type": "object",
            "properties": {
                "object": _OBJECT,
                "id": {"type": "string", "description": "The record's Id (for one record)."},
                "record": _RECORD,
                "records": {**_RECORDS, "description": "Several records, each with its Id, written 200 per request."},
            },
            "required": ["object"],
            "additionalProperties": False,
        },
    )
    def update(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Update one record by Id, or several by their Ids; repeating it leaves the same values."""
        writer = self._writer()
        if "records" in inputs:
            if "record" in inputs or "id" in inputs:
                raise FatalError("give either id with record, or records (each with its Id)", code="INVALID_INPUT")
            return writer.update_many(inputs["object"], _record_list(inputs["records"]))
        if "id" not in inputs or "record" not in inputs:
            raise FatalError("update needs id and record, or records", code="INVALID_INPUT")
        return writer.update(inputs["object"], inputs["id"], inputs["record"])

    @action(
        "upsert",
        writes=True,
        target="object",
        input_schema={
            "type": "object",
            "properties": {"object": _OBJECT, "external_id_field": _EXTERNAL_ID_FIELD, "record": _RECORD, "records": _RECORDS},
            "required": ["object", "external_id_field"],
            "additionalProperties": False,
        },
    )
    def upsert(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Create or update by external id: one record, or several through sObject Collections; idempotent."""
        writer = self._writer()
        if ("record" in inputs) == ("records" in inputs):
            raise FatalError("give either record (one) or records (a list)", code="INVALID_INPUT")
        if "records" in inputs:
            return writer.upsert_many(inputs["object"], inputs["external_id_field"], _record_list(inputs["records"]))
        return writer.upsert(inputs["object"], inputs["external_id_field"], inputs["record"])

    @action(
        "save_tree",
        writes=True,
        target="object",
        input_schema={
            "type": "object",
            "properties": {
                **_TREE_NODE,
                "existing": {
                    "type": "object",
                    "description": "Object name to the external ids of its records that exist already, read by an earlier step; those objects need no existence query.",
                },
            },
            "required": ["object", "external_id_field", "record"],
            "additionalProperties": False,
        },
    )
    def save_tree(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Upsert a record and its children (an order and its lines) in one Composite Graph request, all or none."""
        reader = self._reader()
        return TreeSaver(self.client, self.names, reader).save(inputs)


def _record_list(records: Any) -> list[dict[str, Any]]:
    if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
        raise FatalError("records must be a list of records (mappings of field to value)", code="INVALID_INPUT")
    return records
