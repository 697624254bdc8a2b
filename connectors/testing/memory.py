"""An in-memory connector for the engine's tests and the first-run example.

It keeps records by object name, records every call it receives, and can be set to fail the
next calls of an action with a given error. With the `path` setting its records persist in a JSON
file between runs; `recipe run --sandbox` uses a file in the state directory, seeded with a few
demo orders so the example recipe has something to do.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import itertools
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from engine import jsoncodec
from engine.connector import Connector, Event, Poll, action, trigger
from engine.errors import ActionError, ConfigurationError, EventInvalid, FatalError

__all__ = ["MemoryConnector", "World", "DEMO_ORDERS", "WEBHOOK_SIGNATURE_HEADER", "webhook_signature"]

WEBHOOK_SIGNATURE_HEADER = "X-Memory-Hmac-Sha256"

_MADE_ID = re.compile(r"\A[^-]+-(\d+)\Z")
_OBJECT = {"type": "string", "minLength": 1, "description": "Object name, for example 'orders'."}
_WRITE_RESULT = {"type": "object", "properties": {"id": {"description": "The record's id."}, "created": {"type": "boolean", "description": "Whether a new record was made."}}}


def webhook_signature(secret: str, raw_body: bytes) -> str:
    """Return the signature a memory webhook carries: base64 of the HMAC-SHA256 of the raw body."""
    digest = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass
class Call:
    action: str
    inputs: dict[str, Any]


@dataclass
class World:
    """The records and call log behind one or more MemoryConnector instances."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[ActionError]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1), repr=False)

    def fail_next(self, action_name: str, error: ActionError, times: int = 1) -> None:
        """Make the next `times` calls of `action_name` raise `error`."""
        self.failures.setdefault(action_name, []).extend([error] * times)

    def add(self, object_name: str, record: dict[str, Any]) -> dict[str, Any]:
        """Store a record, giving it an id if it has none, and return it."""
        stored = dict(record)
        stored.setdefault("id", f"{object_name[:3]}-{next(self._ids)}")
        self.records.setdefault(object_name, []).append(stored)
        return stored

    def calls_of(self, action_name: str) -> list[dict[str, Any]]:
        return [call.inputs for call in self.calls if call.action == action_name]

    def to_json(self) -> str:
        return jsoncodec.dumps({"records": self.records}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "World":
        world = cls(records=jsoncodec.loads(text).get("records", {}))
        # Only ids this class made (`ord-7`) count; ids that came with the records (1001) do not.
        numbers = [int(match.group(1)) for rows in world.records.values() for record in rows if (match := _MADE_ID.match(str(record.get("id", ""))))]
        world._ids = itertools.count(max(numbers, default=0) + 1)
        return world


DEMO_ORDERS = [
    {"id": 1001, "updated_at": "2026-11-02T09:15:00-05:00", "name": "#1001", "customer": {"first_name": "Ada", "last_name": "Lovelace"},
     "line_items": [{"sku": "SKU-001-M", "quantity": 2, "price": "19.99", "tax_lines": [{"price": "1.60"}, {"price": "0.40"}]}]},
    {"id": 1002, "updated_at": "2026-11-02T10:05:00-05:00", "name": "#1002", "customer": {"first_name": "Jürgen", "last_name": "Schäfer"},
     "line_items": [{"sku": "SKU-002", "quantity": 1, "price": "12.50", "tax_lines": [{"price": "1.00"}]},
                    {"sku": "SKU-005", "quantity": 3, "price": "24.00", "tax_lines": []}]},
    {"id": 1003, "updated_at": "2026-11-02T11:40:00-05:00", "name": "#1003", "customer": None,
     "line_items": [{"sku": "SKU-003-L", "quantity": 1, "price": "149.00", "tax_lines": [{"price": "11.92"}]}]},
]


# Serialises the writes to sandbox files of every memory connector in this process.
_FILE_LOCK = threading.Lock()

class MemoryConnector(Connector):
    """Records in memory; a stand-in for a real system in tests and examples."""

    name = "memory"
    title = "In-memory test connector"
    connection_schema = {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "JSON file the records persist in between runs."},
            "seed_demo_orders": {"type": "boolean", "description": "Start an empty file with a few demo orders."},
            "api_key": {"type": "string", "secret": True, "description": "The secret webhook signatures are checked with; also lets tests check that secrets are redacted."},
        },
        "additionalProperties": False,
    }

    def __init__(self, settings: dict[str, Any], connection_name: str | None = None, world: World | None = None) -> None:
        super().__init__(settings, connection_name)
        self.world = world or World()
        self._path = Path(settings["path"]) if settings.get("path") else None

    @classmethod
    def sandbox_settings(cls, state_dir: str) -> dict[str, Any]:
        return {"path": str(Path(state_dir) / "memory-sandbox.json"), "seed_demo_orders": True}

    @classmethod
    def prepare_sandbox(cls, state_dir: str, given: Any) -> None:
        """Write the demo orders plus the given records (`{object: [record, ...]}`) as the sandbox file."""
        if not isinstance(given, dict) or not all(isinstance(rows, list) for rows in given.values()):
            raise ConfigurationError("the memory connector's given state must map object names to lists of records")
        world = World()
        for order in DEMO_ORDERS:
            world.add("orders", order)
        for object_name, rows in given.items():
            for row in rows:
                world.add(object_name, row)
        path = Path(cls.sandbox_settings(state_dir)["path"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(world.to_json(), encoding="utf-8")

    def open(self) -> None:
        if self._path is None:
            return
        if self._path.exists():
            self.world = World.from_json(self._path.read_text(encoding="utf-8"))
        elif self.settings.get("seed_demo_orders"):
            for order in DEMO_ORDERS:
                self.world.add("orders", order)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[World]:
        """Yield the current records for one write, then save them to the file at once.

        Each write reads the file again under a process-wide lock, so several connector
        instances (the service's threads) never overwrite each other's records, and a killed
        process loses no write it reported as done. Only a write touches the file, so a dry run
        leaves no trace, not even the seeded demo orders.
        """
        if self._path is None:
            with self.world.lock:
                yield self.world
            return
        with _FILE_LOCK:
            self._reload()
            yield self.world
            self._path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self._path.with_suffix(".tmp")
            temporary.write_text(self.world.to_json(), encoding="utf-8")
            temporary.replace(self._path)

    def check(self) -> str:
        return f"memory connector with {sum(len(rows) for rows in self.world.records.values())} records"

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes, trigger_name: str | None = None) -> Event:
        """Check the `X-Memory-Hmac-Sha256` header against the raw body, signed with the `api_key` setting.

        The body is a record as the `new_records` trigger delivers it, with `id` and `updated_at`.
        """
        secret = self.settings.get("api_key")
        if not secret:
            raise EventInvalid("the memory connection has no api_key, so it cannot check webhook signatures")
        given = headers.get(WEBHOOK_SIGNATURE_HEADER)
        if not given:
            raise EventInvalid(f"the webhook has no {WEBHOOK_SIGNATURE_HEADER} header")
        if not hmac.compare_digest(given.encode("utf-8"), webhook_signature(secret, raw_body).encode("ascii")):
            raise EventInvalid(f"the webhook's {WEBHOOK_SIGNATURE_HEADER} signature does not match its body")
        try:
            payload = jsoncodec.loads(raw_body)
        except (ValueError, UnicodeDecodeError) as error:
            raise EventInvalid(f"the webhook body is not valid JSON: {error}") from None
        return self.event_from_payload(trigger_name or "new_records", payload)

    def _reload(self) -> None:
        """Read the records again from the file, keeping this instance's call log and failures."""
        if self._path is not None and self._path.exists():
            stored = World.from_json(self._path.read_text(encoding="utf-8"))
            self.world.records, self.world._ids = stored.records, stored._ids

    def _enter(self, action_name: str, inputs: dict[str, Any]) -> None:
        with _FILE_LOCK:
            self._reload()
        self.round_trips += 1
        self.world.calls.append(Call(action_name, inputs))
        pending = self.world.failures.get(action_name)
        if pending:
            raise pending.pop(0)

    @trigger(
        "new_records",
        input_schema={"type": "object", "properties": {"object": _OBJECT}, "required": ["object"], "additionalProperties": False},
        description="Records added to an object, oldest first; the cursor is the count already seen.",
    )
    def new_records(self, inputs: dict[str, Any], cursor: Any, since: Any, limit: int) -> Poll:
        self._enter("poll:new_records", inputs)
        rows = self.world.records.get(inputs["object"], [])
        start = int(cursor or 0)
        batch = rows[start : start + limit]
        events = [Event(id=row["id"], version=str(row.get("updated_at", "")), data=row) for row in batch]
        end = start + len(batch)
        return Poll(events=events, cursor=end, more=end < len(rows), waiting=len(rows) - end)

    @action(
        "find",
        writes=False,
        input_schema={
            "type": "object",
            "properties": {"object": _OBJECT, "where": {"type": "object", "description": "Field values every match has."}},
            "required": ["object"],
            "additionalProperties": False,
        },
        output_schema={"type": "object", "properties": {"records": {"type": "array", "description": "The matching records."}, "count": {"type": "integer", "description": "How many matched."}}},
    )
    def find(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Find records whose fields equal the given values."""
        self._enter("find", inputs)
        where = inputs.get("where") or {}
        rows = [row for row in self.world.records.get(inputs["object"], []) if all(row.get(key) == value for key, value in where.items())]
        return {"records": rows, "count": len(rows)}

    @action(
        "get",
        writes=False,
        input_schema={"type": "object", "properties": {"object": _OBJECT, "id": {}}, "required": ["object", "id"], "additionalProperties": False},
    )
    def get(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Get one record by id."""
        self._enter("get", inputs)
        for row in self.world.records.get(inputs["object"], []):
            if str(row["id"]) == str(inputs["id"]):
                return row
        raise FatalError(f"{inputs['object']} {inputs['id']} not found", code="NOT_FOUND", status=404)

    @action(
        "create",
        writes=True,
        target="object",
        input_schema={"type": "object", "properties": {"object": _OBJECT, "record": {"type": "object"}}, "required": ["object", "record"], "additionalProperties": False},
        output_schema=_WRITE_RESULT,
    )
    def create(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Create a record; not idempotent."""
        self._enter("create", inputs)
        with self._writing() as world:
            stored = world.add(inputs["object"], inputs["record"])
        return {"id": stored["id"], "created": True}

    @action(
        "upsert",
        writes=True,
        target="object",
        input_schema={
            "type": "object",
            "properties": {"object": _OBJECT, "external_id_field": {"type": "string"}, "record": {"type": "object"}},
            "required": ["object", "external_id_field", "record"],
            "additionalProperties": False,
        },
        output_schema=_WRITE_RESULT,
    )
    def upsert(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Create or update the record whose external id field matches; idempotent."""
        self._enter("upsert", inputs)
        field_name, record = inputs["external_id_field"], inputs["record"]
        if record.get(field_name) in (None, ""):
            raise FatalError(f"the external id field {field_name} is empty", code="REQUIRED_FIELD_MISSING", fields=[field_name])
        with self._writing() as world:
            for row in world.records.get(inputs["object"], []):
                if row.get(field_name) == record[field_name]:
                    row.update(record)
                    return {"id": row["id"], "created": False}
            stored = world.add(inputs["object"], record)
        return {"id": stored["id"], "created": True}
