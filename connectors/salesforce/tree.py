"""`save_tree`: a parent and its children written in one Composite Graph request, all or none.

A tree is a node with children, each child a node or a group of records of one object:

    object: sales_order            # logical or API name
    external_id_field: shopify_order_id
    record: {...}
    ref: order                     # optional; lets later nodes point here with {"$ref": "order"}
    children:
      - object: sales_order_line
        external_id_field: shopify_line_id
        parent_field: sales_order  # set to the parent's id
        records: [{...}, {...}]

Every node is an upsert on its external id, so a repeated save creates no second record. The nodes go
out parent first as one graph of PATCH upserts joined by `@{ref.id}` references. A graph is
all or none and takes up to 500 nodes, so an order with 200 lines is one request.

A master-detail field cannot be written on an update (`create_only` in the name mapping).
Before the graph, one request (a query, or a Composite request of several queries) finds which
records that set such a field already exist, and the field is left out of their bodies. That is
the only extra round trip.

A tree of more than 500 nodes is sent as several graphs in order. Each graph is all or none on
its own, and a later graph refers to earlier records by their ids.

NOTE: Salesforce reads `@{name.field}` in any text of a composite body as a reference, and it
offers no escape. Record text that happens to contain `@{node0.id}` would be replaced.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import quote as quote_url

from engine.errors import ActionError, FatalError, RetryableError

from .client import SalesforceClient
from .errors import ROLLED_BACK_CODES, error_from_items
from .names import AscentNames
from .reads import Reader, check_api_name
from .soql import literal
from .values import wire_value
from .writes import take_external_id

__all__ = ["TreeSaver", "MAX_GRAPH_NODES", "MIN_GRAPH_API_VERSION"]

log = logging.getLogger(__name__)

MAX_GRAPH_NODES = 500
# Composite Graph exists from API 50.0, and upserts return the record id from 46.0 on.
MIN_GRAPH_API_VERSION = 50.0
DUPLICATE_VALUE = "DUPLICATE_VALUE"
# The racing insert has committed by the time its own response is back, so a short wait is enough.
RACING_INSERT_RETRY_SECONDS = 1.0
# 200 quoted values keep a query URL well under the length limit.
_VALUES_PER_QUERY = 200
_NODE_KEYS = {"object", "external_id_field", "record", "records", "ref", "parent_field", "children"}


@dataclass(frozen=True)
class _Reference:
    """A field value that becomes the id of an earlier node of the tree."""

    index: int


@dataclass
class _Node:
    index: int
    name: str | None
    object: str
    external_field: str
    external_value: str
    body: dict[str, Any]
    create_only: set[str] = field(default_factory=set)
    id: str | None = None
    created: bool = False

    @property
    def reference_id(self) -> str:
        return f"node{self.index}"

    @property
    def label(self) -> str:
        return f"{self.object} {self.external_field} {self.external_value}"


class TreeSaver:
    """Saves trees through one client, with names translated by one mapping."""

    def __init__(self, client: SalesforceClient, names: AscentNames, reader: Reader) -> None:
        self.client = client
        self.names = names
        self.reader = reader

    def save(self, tree: Mapping[str, Any]) -> dict[str, Any]:
        """Upsert every node of `tree` and return the root's id and every record's id and `created`."""
        if float(self.client.settings.api_version) < MIN_GRAPH_API_VERSION:
            raise FatalError(f"save_tree needs API version {MIN_GRAPH_API_VERSION:.1f} or later for Composite Graph; the connection uses {self.client.settings.api_version}")
        known = self._known_existing(tree.get("existing"))
        nodes = _Flattener(self.names).flatten({key: value for key, value in tree.items() if key != "existing"})
        self._leave_out_create_only_fields(nodes, known)

        for start in range(0, len(nodes), MAX_GRAPH_NODES):
            self._send_graph(nodes, nodes[start : start + MAX_GRAPH_NODES])

        root = nodes[0]
        records = [
            {"ref": node.name, "object": node.object, "external_id": node.external_value, "id": node.id, "created": node.created}
            for node in nodes
        ]
        refs = {node.name: node.id for node in nodes if node.name}
        return {"id": root.id, "created": root.created, "records": records, "refs": refs}

    # ----- records that already exist --------------------------------------------------------

    def _known_existing(self, existing: Any) -> dict[str, set[str]]:
        """Read the root's `existing`: object name to the external ids the caller already found."""
        if existing is None:
            return {}
        if not isinstance(existing, Mapping) or not all(isinstance(values, list) for values in existing.values()):
            raise FatalError("save_tree existing must map object names to lists of external id values", code="INVALID_INPUT")
        return {self.names.object_name(name): {str(value).casefold() for value in values} for name, values in existing.items()}

    def _leave_out_create_only_fields(self, nodes: list[_Node], known: dict[str, set[str]]) -> None:
        candidates = [node for node in nodes if node.create_only]
        if not candidates:
            return
        # Objects whose existing records the caller read already need no existence query.
        existing = self._existing([node for node in candidates if node.object not in known])
        existing |= {(node.object, node.external_field, node.external_value.casefold()) for node in candidates if node.external_value.casefold() in known.get(node.object, set())}
        for node in candidates:
            if (node.object, node.external_field, node.external_value.casefold()) in existing:
                for name in node.create_only:
                    node.body.pop(name, None)

    def _existing(self, candidates: list[_Node]) -> set[tuple[str, str, str]]:
        """Return (object, external id field, casefolded value) of the candidates that exist already."""
        if not candidates:
            return set()
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)
        for node in candidates:
            groups[(node.object, node.external_field)].append(node.external_value)

        queries: list[tuple[str, str, str]] = []
        for (object_name, field_name), values in groups.items():
            for start in range(0, len(values), _VALUES_PER_QUERY):
                chunk = values[start : start + _VALUES_PER_QUERY]
                soql = f"SELECT Id, {field_name} FROM {object_name} WHERE {field_name} IN {literal(chunk)}"
                queries.append((object_name, field_name, soql))

        found: set[tuple[str, str, str]] = set()
        for object_name, field_name, records in self._run_queries(queries):
            for record in records:
                value = record.get(field_name)
                if value is not None:
                    found.add((object_name, field_name, str(value).casefold()))
        return found

    def _run_queries(self, queries: list[tuple[str, str, str]]) -> list[tuple[str, str, list[dict[str, Any]]]]:
        """Run the existence queries: one plain query, or up to 25 per Composite request."""
        found = self.reader.query_many([(object_name, soql) for object_name, _, soql in queries], "save_tree existing")
        return [(object_name, field_name, records) for (object_name, field_name, _), records in zip(queries, found)]

    # ----- the graph -------------------------------------------------------------------------

    def _send_graph(self, nodes: list[_Node], chunk: list[_Node]) -> None:
        in_chunk = {node.index for node in chunk}
        data_path = self.client.data_path
        subrequests = []
        for node in chunk:
            url = f"{data_path}/sobjects/{node.object}/{node.external_field}/{quote_url(node.external_value, safe='')}"
            body = {name: _render(value, nodes, in_chunk) for name, value in node.body.items()}
            subrequests.append({"method": "PATCH", "url": url, "referenceId": node.reference_id, "body": body})

        root = chunk[0]
        label = f"save_tree {nodes[0].object}" + (f" nodes {root.index + 1}-{chunk[-1].index + 1}" if len(nodes) > MAX_GRAPH_NODES else "")
        reply = self.client.request("POST", "composite/graph", label=label, body={"graphs": [{"graphId": "tree", "compositeRequest": subrequests}]})

        graph = (reply.body.get("graphs") or [{}])[0]
        items = {item.get("referenceId"): item for item in (graph.get("graphResponse") or {}).get("compositeResponse") or []}
        if not graph.get("isSuccessful"):
            raise _graph_error(chunk, items, label)
        for node in chunk:
            item = items.get(node.reference_id) or {}
            body = item.get("body") or {}
            node.id = body.get("id")
            node.created = bool(body.get("created", item.get("httpStatusCode") == 201))
        log.debug("%s: %d records saved, %d created", label, len(chunk), sum(node.created for node in chunk))


def _render(value: Any, nodes: list[_Node], in_chunk: set[int]) -> Any:
    if isinstance(value, _Reference):
        if value.index in in_chunk:
            return f"@{{{nodes[value.index].reference_id}.id}}"
        return nodes[value.index].id
    return value


def _as_list(body: Any) -> list[Mapping[str, Any]]:
    if isinstance(body, list):
        return [item for item in body if isinstance(item, Mapping)]
    return [body] if isinstance(body, Mapping) else []


def _graph_error(chunk: list[_Node], items: Mapping[str, Any], label: str) -> Exception:
    """Return the error of the node that made the graph fail (the others only report the rollback)."""
    fallback = None
    for node in chunk:
        item = items.get(node.reference_id)
        if item is None or item.get("httpStatusCode", 200) < 300:
            continue
        errors = _as_list(item.get("body"))
        codes = {str(error.get("errorCode")) for error in errors}
        error = error_from_items(errors, f"{label}: {node.label}", item.get("httpStatusCode"))
        if codes == {DUPLICATE_VALUE}:
            return _racing_insert(error, node)
        if codes - ROLLED_BACK_CODES:
            return error
        fallback = fallback or error
    return fallback or FatalError(f"{label}: the graph failed and no subrequest reported why", code="GRAPH_FAILED")


def _racing_insert(error: ActionError, node: _Node) -> RetryableError:
    """Make DUPLICATE_VALUE on an upsert retryable: another request inserted the same external id.

    Two jobs that run at once (two buyers' orders with one new SKU) may both upsert a record
    that does not exist yet. Both try to insert it, and the second insert fails on the unique
    external id. The graph rolled back, and a retry finds the record and updates it. A genuine
    duplicate of another unique field fails the same way each time, and the job fails once the
    step's retries are spent.
    """
    return RetryableError(
        f"{error.message} (if another job inserted this {node.external_field} at the same moment, the retry updates it)",
        code=DUPLICATE_VALUE,
        status=error.status,
        fields=error.fields,
        retry_after=RACING_INSERT_RETRY_SECONDS,
    )


# ----- reading the tree input -------------------------------------------------------------------


class _Flattener:
    """Turns a tree input into nodes in parent-first order, checking it as it goes."""

    def __init__(self, names: AscentNames) -> None:
        self.names = names
        self.nodes: list[_Node] = []
        self.by_name: dict[str, int] = {}
        self.keys: set[tuple[str, str]] = set()

    def flatten(self, tree: Any) -> list[_Node]:
        if not isinstance(tree, Mapping) or "record" not in tree:
            raise FatalError("save_tree needs a root node with object, external_id_field and record", code="INVALID_INPUT")
        if "parent_field" in tree:
            raise FatalError("the root node of save_tree has no parent, so it takes no parent_field", code="INVALID_INPUT")
        self._node(tree, parent=None, path="root")
        return self.nodes

    def _node(self, spec: Any, parent: int | None, path: str) -> None:
        if not isinstance(spec, Mapping):
            raise FatalError(f"save_tree {path}: a node must be a mapping, not a {type(spec).__name__}", code="INVALID_INPUT")
        unknown = sorted(set(spec) - _NODE_KEYS)
        if unknown:
            raise FatalError(f"save_tree {path}: unknown keys {', '.join(unknown)}; a node takes {', '.join(sorted(_NODE_KEYS))}", code="INVALID_INPUT")
        for required in ("object", "external_id_field"):
            if not spec.get(required):
                raise FatalError(f"save_tree {path}: {required} is missing", code="INVALID_INPUT")

        api_object = check_api_name(self.names.object_name(spec["object"]), "object")
        api_field = check_api_name(self.names.field_name(api_object, spec["external_id_field"]), "external id field")
        parent_field = check_api_name(self.names.field_name(api_object, spec["parent_field"]), "parent field") if spec.get("parent_field") else None
        if parent_field and parent is None:
            raise FatalError(f"save_tree {path}: parent_field needs a parent node", code="INVALID_INPUT")

        records = self._records(spec, path)
        for number, record in enumerate(records):
            where = path if "record" in spec else f"{path}.records[{number}]"
            index = self._add(record, api_object, api_field, parent_field, parent, spec.get("ref"), where)
            for child_number, child in enumerate(spec.get("children") or []):
                self._node(child, parent=index, path=f"{where}.children[{child_number}]")

    def _records(self, spec: Mapping[str, Any], path: str) -> list[Any]:
        if ("record" in spec) == ("records" in spec):
            raise FatalError(f"save_tree {path}: give either record (one) or records (a list)", code="INVALID_INPUT")
        if "record" in spec:
            return [spec["record"]]
        records = spec["records"]
        if not isinstance(records, list):
            raise FatalError(f"save_tree {path}: records must be a list", code="INVALID_INPUT")
        if spec.get("ref") or spec.get("children"):
            raise FatalError(f"save_tree {path}: ref and children belong to a node with one record, not to records", code="INVALID_INPUT")
        return records

    def _add(self, record: Any, api_object: str, api_field: str, parent_field: str | None, parent: int | None, name: Any, where: str) -> int:
        translated = self.names.record_to_api(api_object, record)
        body = {key: self._value(value, key, where) for key, value in translated.items()}
        external_value = take_external_id(body, api_field, remove=True)

        identity = (api_object.lower(), external_value.casefold())
        if identity in self.keys:
            raise FatalError(f"save_tree {where}: {api_object} {api_field} {external_value} appears twice in the tree", code="DUPLICATE_VALUE", fields=[api_field])
        self.keys.add(identity)

        if parent_field is not None and parent is not None:
            if any(existing.lower() == parent_field.lower() for existing in body):
                raise FatalError(f"save_tree {where}: {parent_field} is set by parent_field; leave it out of the record", code="INVALID_INPUT", fields=[parent_field])
            body[parent_field] = _Reference(parent)

        create_only_names = {item.lower() for item in self.names.create_only_fields(api_object)}
        create_only = {field_name for field_name in body if field_name.lower() in create_only_names}
        node = _Node(len(self.nodes), None, api_object, api_field, external_value, body, create_only)
        if name is not None:
            if not isinstance(name, str) or not name or name in self.by_name:
                raise FatalError(f"save_tree {where}: ref {name!r} must be a name used by no other node", code="INVALID_INPUT")
            node.name = name
            self.by_name[name] = node.index
        self.nodes.append(node)
        return node.index

    def _value(self, value: Any, field_name: str, where: str) -> Any:
        if isinstance(value, Mapping) and set(value) == {"$ref"}:
            name = value["$ref"]
            if name not in self.by_name:
                raise FatalError(
                    f"save_tree {where}: {field_name} refers to {name!r}, which is not the ref of an earlier node (parents come before children)",
                    code="INVALID_INPUT",
                    fields=[field_name],
                )
            return _Reference(self.by_name[name])
        return wire_value(value, field_name)
