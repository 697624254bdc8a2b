"""Writes of one object: create, update and upsert, one record at a time or by sObject Collections.

A batch (`records`) goes through sObject Collections, at most 200 records per request, each
request all or none. Results keep the order of the records given.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping
from urllib.parse import quote as quote_url

from engine.errors import FatalError

from .client import SalesforceClient
from .errors import ROLLED_BACK_CODES, error_from_items
from .names import AscentNames
from .reads import Reader, check_api_name, check_record_id, external_id_text
from .values import wire_record

__all__ = ["Writer", "COLLECTION_SIZE", "take_external_id"]

log = logging.getLogger(__name__)

# sObject Collections take at most 200 records per request.
COLLECTION_SIZE = 200


class Writer:
    """Writes through one client, with names translated by one mapping."""

    def __init__(self, client: SalesforceClient, names: AscentNames, reader: Reader) -> None:
        self.client = client
        self.names = names
        self.reader = reader

    # ----- one record ------------------------------------------------------------------------

    def create(self, object_name: str, record: Mapping[str, Any], external_id_field: str | None = None) -> dict[str, Any]:
        """Create a record; with `external_id_field`, return the existing record instead when one has the value.

        The check makes a repeated create a no-op: `created` is False and nothing is written.
        """
        api_object = check_api_name(self.names.object_name(object_name), "object")
        body = wire_record(self.names.record_to_api(api_object, record))
        if external_id_field:
            api_field = self.names.field_name(api_object, external_id_field)
            value = take_external_id(body, api_field, remove=False)
            existing = self.reader.get_by_external_id(api_object, api_field, value, accept_missing=True)
            if existing is not None:
                return {"id": existing["Id"], "created": False}

        reply = self.client.request("POST", f"sobjects/{api_object}", label=f"create {api_object}", body=body)
        return {"id": reply.body["id"], "created": True}

    def update(self, object_name: str, record_id: Any, record: Mapping[str, Any]) -> dict[str, Any]:
        """Change the given fields of one record; repeating it leaves the same values."""
        api_object = check_api_name(self.names.object_name(object_name), "object")
        record_id = check_record_id(record_id)
        body = wire_record(self.names.record_to_api(api_object, record))
        body.pop("Id", None)
        self.client.request("PATCH", f"sobjects/{api_object}/{record_id}", label=f"update {api_object}", body=body)
        return {"id": record_id}

    def upsert(self, object_name: str, external_id_field: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """Create or update the record whose external id field has the same value as `record`."""
        api_object = check_api_name(self.names.object_name(object_name), "object")
        api_field = check_api_name(self.names.field_name(api_object, external_id_field), "external id field")
        body = wire_record(self.names.record_to_api(api_object, record))
        value = take_external_id(body, api_field, remove=True)

        path = f"sobjects/{api_object}/{api_field}/{quote_url(value, safe='')}"
        reply = self.client.request("PATCH", path, label=f"upsert {api_object} by {api_field}", body=body)
        if reply.status == 204:
            # API versions before 46.0 return no body for an update, so read the id back.
            existing = self.reader.get_by_external_id(api_object, api_field, value)
            return {"id": (existing or {}).get("Id"), "created": False}
        return {"id": reply.body["id"], "created": bool(reply.body.get("created", reply.status == 201))}

    # ----- batches (sObject Collections) -----------------------------------------------------

    def upsert_many(self, object_name: str, external_id_field: str, records: list[Mapping[str, Any]]) -> dict[str, Any]:
        """Upsert records of one object, 200 per request, each request all or none."""
        api_object = check_api_name(self.names.object_name(object_name), "object")
        api_field = check_api_name(self.names.field_name(api_object, external_id_field), "external id field")
        bodies = []
        for record in records:
            body = wire_record(self.names.record_to_api(api_object, record))
            take_external_id(body, api_field, remove=False)
            bodies.append({"attributes": {"type": api_object}, **body})

        path = f"composite/sobjects/{api_object}/{api_field}"
        results = self._collections("PATCH", path, f"upsert {api_object} by {api_field}", bodies)
        return _batch_output(results)

    def update_many(self, object_name: str, records: list[Mapping[str, Any]]) -> dict[str, Any]:
        """Update records of one object by their `Id`, 200 per request, each request all or none."""
        api_object = check_api_name(self.names.object_name(object_name), "object")
        bodies = []
        for index, record in enumerate(records, start=1):
            body = wire_record(self.names.record_to_api(api_object, record))
            check_record_id(body.get("Id"), f"record {index}: Id")
            bodies.append({"attributes": {"type": api_object}, **body})

        results = self._collections("PATCH", "composite/sobjects", f"update {api_object}", bodies)
        return _batch_output(results)

    def _collections(self, method: str, path: str, label: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not bodies:
            return []
        results: list[dict[str, Any]] = []
        for start in range(0, len(bodies), COLLECTION_SIZE):
            chunk = bodies[start : start + COLLECTION_SIZE]
            reply = self.client.request(method, path, label=label, body={"allOrNone": True, "records": chunk})
            answers = reply.body if isinstance(reply.body, list) else []
            failure = _first_failure(answers)
            if failure is not None:
                offset, answer = failure
                label_at = f"{label}, record {start + offset + 1} of {len(bodies)}"
                raise error_from_items(answer.get("errors") or [], label_at, record_id=answer.get("id"))
            results.extend(answers)
        return results


def _first_failure(answers: list[dict[str, Any]]) -> tuple[int, dict[str, Any]] | None:
    """Return the position and result of the record that caused a failure, or None if all succeeded.

    With allOrNone, the valid records report only that they were rolled back; the cause is the
    first record with another error code.
    """
    failed = [(offset, answer) for offset, answer in enumerate(answers) if not answer.get("success")]
    for offset, answer in failed:
        codes = {error.get("statusCode") or error.get("errorCode") for error in answer.get("errors") or []}
        if codes - ROLLED_BACK_CODES:
            return offset, answer
    return failed[0] if failed else None


def take_external_id(body: dict[str, Any], api_field: str, remove: bool) -> str:
    """Return the record's external id value (as URL text), optionally removing it from the body."""
    for key in list(body):
        if key.lower() == api_field.lower():
            value = external_id_text(body[key], api_field)
            if remove:
                del body[key]
            return value
    raise FatalError(f"the record has no value for its external id field {api_field}", code="REQUIRED_FIELD_MISSING", fields=[api_field])


def _batch_output(results: list[dict[str, Any]]) -> dict[str, Any]:
    records = [{"id": item.get("id"), "created": bool(item.get("created", False))} for item in results]
    created = sum(1 for item in records if item["created"])
    return {"records": records, "count": len(records), "created": created, "updated": len(records) - created}
