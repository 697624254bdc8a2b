"""The record store: every record of the org, with the schema enforced on each write.

Writes go through `create`, `update`, `upsert` and `delete`, which check the request against
`schema.py` and raise `ApiError` with Salesforce's error codes. Each write keeps the audit
fields, autonumbers, formulas and roll-ups current. `transaction()` groups writes so that a
failure undoes all of them, which `allOrNone` requests and composite graphs rely on.

Deleted records stay in the store with `IsDeleted = true`, as in the recycle bin, so
`queryAll` can still return them. Ids and autonumbers are never reused, even after a
rollback, as in Salesforce.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections import defaultdict
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Iterable, Iterator, Mapping

from .clock import Clock
from .errors import NOT_FOUND_MESSAGE, ApiError
from .faults import WriteFaults
from .formulas import ROLLUP_PARENTS, derived_values
from .ids import is_id, make_id, to_18
from .schema import NUMBER_TYPES, SCHEMA, Field, SObject, find_object, object_for_prefix
from .values import coerce_input

__all__ = ["RecordStore", "MultipleMatches", "STATE_FORMAT"]

log = logging.getLogger(__name__)

STATE_FORMAT = 1
_ID_MIDDLE = "5g0000"
_READ_ONLY_MESSAGE = (
    "Unable to create/update fields: {names}. Please check the security settings of this field "
    "and verify that it is read/write for your profile or permission set."
)


class MultipleMatches(ApiError):
    """An external id value matched more than one record (HTTP 300 on upsert and get)."""

    def __init__(self, object_name: str, record_ids: list[str]) -> None:
        super().__init__(300, "MULTIPLE_CHOICES", f"{len(record_ids)} records match", [])
        self.object_name = object_name
        self.record_ids = record_ids


class RecordStore:
    """All records of the sandbox org, keyed by object name and record id.

    Thread-safe: every public method holds `lock`, an RLock that request handlers also take
    to make one request's reads and writes atomic.
    """

    def __init__(self, clock: Clock | None = None, write_faults: WriteFaults | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock or Clock()
        self.write_faults = write_faults or WriteFaults()
        self._tables: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in SCHEMA}
        self._id_counters: dict[str, int] = defaultdict(int)
        self._autonumbers: dict[str, int] = defaultdict(int)
        # (object, unique field) -> case-folded value -> ids of live records holding it
        self._unique: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        # (object, reference field) -> referenced id -> ids of live records pointing at it
        self._references: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self._journal: list[tuple[str, str, dict[str, Any] | None]] | None = None

    # ----- reads -----------------------------------------------------------------------------

    def get(self, object_name: str, record_id: str, include_deleted: bool = False) -> dict[str, Any] | None:
        """Return a copy of one record in stored form, or None if there is none (or it is deleted)."""
        with self.lock:
            record = self._record(object_name, record_id)
            if record is None or (record["IsDeleted"] and not include_deleted):
                return None
            return copy.deepcopy(record)

    def all(self, object_name: str, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Return copies of every record of an object, in creation order."""
        with self.lock:
            return [copy.deepcopy(record) for record in self.scan(object_name, include_deleted)]

    def scan(self, object_name: str, include_deleted: bool = False) -> Iterator[dict[str, Any]]:
        """Iterate over the stored records themselves (not copies); the caller must hold `lock`."""
        sobject = self.require_object(object_name)
        for record in self._tables[sobject.name].values():
            if include_deleted or not record["IsDeleted"]:
                yield record

    def find(self, record_id: str) -> tuple[SObject, dict[str, Any]] | None:
        """Return the object and the stored record for any id, or None; the caller must hold `lock`."""
        if not isinstance(record_id, str) or not is_id(record_id):
            return None
        sobject = object_for_prefix(record_id[:3])
        if sobject is None:
            return None
        record = self._tables[sobject.name].get(to_18(record_id))
        return (sobject, record) if record is not None else None

    def match_external_id(self, object_name: str, field_name: str, value: str) -> list[str]:
        """Return the ids of live records whose external id field contains `value` (case-insensitive)."""
        with self.lock:
            sobject = self.require_object(object_name)
            field = self._external_id_field(sobject, field_name)
            if field.type == "id":
                found = self.find(value)
                alive = found is not None and found[0] is sobject and not found[1]["IsDeleted"]
                return [found[1]["Id"]] if alive and found else []
            key = str(coerce_input(field, value) or "").casefold()
            return sorted(self._unique[(sobject.name, field.name)].get(key, ()))

    def children(self, object_name: str, field_name: str, parent_id: str) -> list[dict[str, Any]]:
        """Return the live records of `object_name` whose reference `field_name` points at `parent_id`."""
        table = self._tables[object_name]
        child_ids = self._references[(object_name, field_name)].get(parent_id, ())
        return [table[child_id] for child_id in sorted(child_ids)]

    @staticmethod
    def require_object(object_name: str) -> SObject:
        sobject = find_object(object_name)
        if sobject is None:
            raise ApiError(404, "NOT_FOUND", NOT_FOUND_MESSAGE)
        return sobject

    # ----- writes ----------------------------------------------------------------------------

    def create(self, object_name: str, fields: Mapping[str, Any]) -> str:
        """Validate and insert one record; return its 18-character id."""
        with self.lock, self.transaction():
            return self._create(self.require_object(object_name), fields)

    def update(self, object_name: str, record_id: str, fields: Mapping[str, Any]) -> None:
        """Validate and apply a partial update to one record."""
        with self.lock, self.transaction():
            sobject = self.require_object(object_name)
            self._update(sobject, self._live_record(sobject, record_id), fields)

    def upsert(self, object_name: str, field_name: str, value: str, fields: Mapping[str, Any]) -> tuple[str, bool]:
        """Update the record whose external id `field_name` equals `value`, or create one.

        Returns the id and True when the record was created. Raises MultipleMatches when
        several records hold the value.
        """
        with self.lock, self.transaction():
            sobject = self.require_object(object_name)
            field = self._external_id_field(sobject, field_name)
            body = dict(fields)
            self._check_body_external_id(field, value, body)
            matches = self.match_external_id(sobject.name, field.name, value)
            if len(matches) > 1:
                raise MultipleMatches(sobject.name, matches)
            if matches:
                self._update(sobject, self._tables[sobject.name][matches[0]], body)
                return matches[0], False
            if field.type == "id":
                raise ApiError(404, "NOT_FOUND", NOT_FOUND_MESSAGE)
            body[field.name] = value
            return self._create(sobject, body), True

    def delete(self, object_name: str, record_id: str) -> None:
        """Move one record to the recycle bin, with its master-detail children."""
        with self.lock, self.transaction():
            sobject = self.require_object(object_name)
            record = self._live_record(sobject, record_id)
            self.write_faults.before_write(record["Id"])
            self._delete(sobject, record)

    def insert_unchecked(self, object_name: str, fields: Mapping[str, Any]) -> str:
        """Insert a record without the unique check, to model data a real org can hold anyway.

        Tests use it for duplicate external id values (rows loaded before a field was made
        unique), which make upsert return 300.
        """
        with self.lock, self.transaction():
            return self._create(self.require_object(object_name), fields, check_unique=False, faults=False)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: an exception inside undoes every write made since the block began.

        Blocks nest; an inner failure that the caller catches undoes only the inner writes.
        """
        with self.lock:
            outermost = self._journal is None
            if outermost:
                self._journal = []
            assert self._journal is not None
            savepoint = len(self._journal)
            try:
                yield
            except BaseException:
                self._rollback(savepoint)
                raise
            finally:
                if outermost:
                    self._journal = None

    # ----- warehouse actions (the ERP users' side, for tests) -------------------------------

    def pack_carton(
        self,
        sales_order_id: str,
        lines: Mapping[str, Any] | Iterable[tuple[str, Any]],
        tracking_number: str,
        carrier: str,
        ship_date: str | None = None,
        weight: Any = None,
    ) -> dict[str, Any]:
        """Pack sales order lines into a new carton; see `warehouse.pack_carton`."""
        from .warehouse import pack_carton

        with self.lock, self.transaction():
            return pack_carton(self, sales_order_id, lines, tracking_number, carrier, ship_date, weight)

    def set_stock(self, item: str, on_hand: Any, available_to_promise: Any = None) -> dict[str, Any]:
        """Change an item's stock; see `warehouse.set_stock`."""
        from .warehouse import set_stock

        with self.lock, self.transaction():
            return set_stock(self, item, on_hand, available_to_promise)

    # ----- state -----------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Return the whole store as a JSON-serialisable dict (numbers stay Decimal)."""
        with self.lock:
            return {
                "format": STATE_FORMAT,
                "objects": {name: list(copy.deepcopy(table).values()) for name, table in self._tables.items()},
                "id_counters": dict(self._id_counters),
                "autonumbers": dict(self._autonumbers),
            }

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Replace every record with those of a state written by `to_state`."""
        if state.get("format") != STATE_FORMAT:
            raise ValueError(f"unsupported sandbox state format {state.get('format')!r}; expected {STATE_FORMAT}")
        with self.lock:
            self.__init__(self.clock, self.write_faults)  # type: ignore[misc]
            self._id_counters.update(state.get("id_counters", {}))
            self._autonumbers.update(state.get("autonumbers", {}))
            for object_name, records in state.get("objects", {}).items():
                sobject = self.require_object(object_name)
                for record in records:
                    self._put(sobject, self._restore_numbers(sobject, record))

    # ----- internals -------------------------------------------------------------------------

    def _record(self, object_name: str, record_id: str) -> dict[str, Any] | None:
        sobject = self.require_object(object_name)
        if not isinstance(record_id, str) or not is_id(record_id):
            return None
        return self._tables[sobject.name].get(to_18(record_id))

    def _live_record(self, sobject: SObject, record_id: str) -> dict[str, Any]:
        record = self._record(sobject.name, record_id)
        if record is None:
            raise ApiError(404, "NOT_FOUND", NOT_FOUND_MESSAGE)
        if record["IsDeleted"]:
            raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        return record

    @staticmethod
    def _external_id_field(sobject: SObject, field_name: str) -> Field:
        field = sobject.field(field_name)
        if field is None or not (field.external_id or field.type == "id"):
            raise ApiError(404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {field_name}")
        return field

    @staticmethod
    def _check_body_external_id(field: Field, value: str, body: dict[str, Any]) -> None:
        for key in list(body):
            if key.lower() != field.name.lower():
                continue
            if body[key] is not None and str(body[key]).casefold() != str(value).casefold():
                # NOTE: Salesforce rejects a body whose external id differs from the URL's; the
                # exact wording of its message is not confirmed.
                raise ApiError(
                    400, "INVALID_FIELD", f"The value of {field.name} in the request body does not match the URL: {body[key]}", [field.name]
                )
            del body[key]

    def _coerce_fields(self, sobject: SObject, fields: Mapping[str, Any], creating: bool) -> dict[str, Any]:
        """Check names, writability and value types of a request body; return the stored values."""
        values: dict[str, Any] = {}
        read_only: list[str] = []
        for name, value in fields.items():
            if name == "attributes" or (name.lower() == "id" and not creating):
                continue
            field = sobject.field(name)
            if field is None:
                raise ApiError(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject.name}", [name])
            if not (field.createable if creating else field.updateable):
                read_only.append(field.name)
                continue
            values[field.name] = coerce_input(field, value)

        if read_only:
            raise ApiError(400, "INVALID_FIELD_FOR_INSERT_UPDATE", _READ_ONLY_MESSAGE.format(names=", ".join(read_only)), read_only)
        return values

    def _check_required(self, sobject: SObject, record: Mapping[str, Any]) -> None:
        missing = [field.name for field in sobject.fields if field.required and record.get(field.name) is None]
        if missing:
            raise ApiError(400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)

    def _check_references(self, sobject: SObject, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            field = sobject.field(name)
            if field is None or field.type != "reference" or value is None:
                continue
            target = SCHEMA[field.reference_to or ""]
            if value[:3] != target.key_prefix:
                raise ApiError(400, "FIELD_INTEGRITY_EXCEPTION", f"{field.label}: id value of incorrect type: {value}", [field.name])
            referenced = self._tables[target.name].get(value)
            if referenced is None or referenced["IsDeleted"]:
                raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [field.name])

    def _check_unique(self, sobject: SObject, values: Mapping[str, Any], own_id: str | None) -> None:
        for field in sobject.unique_fields():
            value = values.get(field.name)
            if value is None:
                continue
            holders = self._unique[(sobject.name, field.name)].get(str(value).casefold(), set()) - {own_id}
            if holders:
                raise ApiError(
                    400,
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {field.name} duplicates value on record with id: {min(holders)}",
                    [],
                )

    def _create(
        self,
        sobject: SObject,
        fields: Mapping[str, Any],
        check_unique: bool = True,
        faults: bool = True,
        timestamp: str | None = None,
    ) -> str:
        values = self._coerce_fields(sobject, fields, creating=True)
        record: dict[str, Any] = {field.name: None for field in sobject.fields}
        for field in sobject.fields:
            if field.type == "boolean":
                record[field.name] = False
        record.update(values)
        self._check_required(sobject, record)
        self._check_references(sobject, values)
        if check_unique:
            self._check_unique(sobject, values, None)
        if faults:
            self.write_faults.before_write(None)

        self._id_counters[sobject.name] += 1
        record["Id"] = make_id(sobject.key_prefix, _ID_MIDDLE, self._id_counters[sobject.name])
        number_field = sobject.autonumber_field()
        if number_field is not None and number_field.autonumber_format:
            self._autonumbers[sobject.name] += 1
            record[number_field.name] = _format_autonumber(number_field.autonumber_format, self._autonumbers[sobject.name])
        now = timestamp or self.clock.now()
        record.update(CreatedDate=now, LastModifiedDate=now, SystemModstamp=now, IsDeleted=False)
        record.update(derived_values(sobject.name, record, self.children))

        self._put(sobject, record)
        self._refresh_parents(sobject, record, None)
        return record["Id"]

    def _update(self, sobject: SObject, record: dict[str, Any], fields: Mapping[str, Any], faults: bool = True) -> None:
        values = self._coerce_fields(sobject, fields, creating=False)
        updated = dict(record)
        updated.update(values)
        self._check_required(sobject, updated)
        self._check_references(sobject, values)
        self._check_unique(sobject, values, record["Id"])
        if faults:
            self.write_faults.before_write(record["Id"])
        self._write(sobject, record, values)

    def _write(self, sobject: SObject, record: dict[str, Any], values: Mapping[str, Any]) -> None:
        """Store new values (already checked), recompute formulas and the parents' roll-ups."""
        before = dict(record)
        updated = dict(record)
        updated.update(values)
        updated.update(derived_values(sobject.name, updated, self.children))
        now = self.clock.now()
        updated.update(LastModifiedDate=now, SystemModstamp=now)
        self._put(sobject, updated)
        self._refresh_parents(sobject, updated, before)

    def _refresh_parents(self, sobject: SObject, record: dict[str, Any], before: dict[str, Any] | None) -> None:
        for field_name, parent_object in ROLLUP_PARENTS.get(sobject.name, []):
            parent_ids = {record.get(field_name), (before or {}).get(field_name)} - {None}
            for parent_id in sorted(parent_ids):
                parent = self._tables[parent_object].get(parent_id)
                if parent is None or parent["IsDeleted"]:
                    continue
                parent_schema = SCHEMA[parent_object]
                derived = derived_values(parent_object, parent, self.children)
                if any(parent.get(name) != value for name, value in derived.items()):
                    self._write(parent_schema, parent, derived)

    def _delete(self, sobject: SObject, record: dict[str, Any]) -> None:
        for child_schema in SCHEMA.values():
            for field in child_schema.fields:
                if field.reference_to != sobject.name:
                    continue
                for child in self.children(child_schema.name, field.name, record["Id"]):
                    if field.master_detail:
                        self._delete(child_schema, child)
                    else:
                        # A deleted lookup target leaves the lookup blank, as Salesforce's default.
                        self._write(child_schema, child, {field.name: None})

        deleted = dict(record)
        now = self.clock.now()
        deleted.update(IsDeleted=True, LastModifiedDate=now, SystemModstamp=now)
        self._put(sobject, deleted)
        self._refresh_parents(sobject, deleted, record)

    def _put(self, sobject: SObject, record: dict[str, Any]) -> None:
        """Store a record and keep the indexes in step; the only place that changes a table."""
        table = self._tables[sobject.name]
        previous = table.get(record["Id"])
        if self._journal is not None:
            self._journal.append((sobject.name, record["Id"], previous))
        if previous is not None:
            self._unindex(sobject, previous)
        table[record["Id"]] = record
        self._index(sobject, record)

    def _index(self, sobject: SObject, record: dict[str, Any]) -> None:
        if record["IsDeleted"]:
            return
        for field in sobject.fields:
            value = record.get(field.name)
            if value is None:
                continue
            if field.unique:
                self._unique[(sobject.name, field.name)][str(value).casefold()].add(record["Id"])
            if field.type == "reference":
                self._references[(sobject.name, field.name)][value].add(record["Id"])

    def _unindex(self, sobject: SObject, record: dict[str, Any]) -> None:
        for field in sobject.fields:
            value = record.get(field.name)
            if value is None:
                continue
            if field.unique:
                self._unique[(sobject.name, field.name)][str(value).casefold()].discard(record["Id"])
            if field.type == "reference":
                self._references[(sobject.name, field.name)][value].discard(record["Id"])

    def _rollback(self, savepoint: int) -> None:
        assert self._journal is not None
        undone = 0
        while len(self._journal) > savepoint:
            object_name, record_id, previous = self._journal.pop()
            sobject = SCHEMA[object_name]
            table = self._tables[object_name]
            current = table.pop(record_id, None)
            if current is not None:
                self._unindex(sobject, current)
            if previous is not None:
                table[record_id] = previous
                self._index(sobject, previous)
            undone += 1
        if undone:
            log.debug("rolled back %d record writes", undone)

    @staticmethod
    def _restore_numbers(sobject: SObject, record: Mapping[str, Any]) -> dict[str, Any]:
        restored = dict(record)
        for field in sobject.fields:
            value = restored.get(field.name)
            if field.type in NUMBER_TYPES and isinstance(value, int) and not isinstance(value, bool):
                restored[field.name] = Decimal(value).quantize(Decimal(1).scaleb(-field.scale))
        return restored


def _format_autonumber(display_format: str, number: int) -> str:
    """Fill an autonumber display format such as `SO-{000000}` with `number`."""
    start = display_format.index("{")
    end = display_format.index("}", start)
    width = end - start - 1
    return display_format[:start] + str(number).zfill(width) + display_format[end + 1 :]

