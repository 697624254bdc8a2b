"""Composite resources: `/composite`, sObject Collections and Composite Graph.

A composite request runs up to 25 subrequests in order; later ones may use earlier results
through references such as `@{newAccount.id}` or `@{found.records[0].Id}`. With
`allOrNone: true` one failure rolls back every write of the request, and every other
subrequest returns 400 `PROCESSING_HALTED`. A graph is a composite request that is always all
or none, and a request may hold several independent graphs.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import parse_qs, urlsplit

from connectors.sandbox.server import Request, Response, Router
from engine import jsoncodec

from .errors import ApiError
from .records import MultipleMatches
from .rest import DATA, api_route, json_object
from .schema import find_object

if TYPE_CHECKING:
    from .org import SalesforceSandbox

__all__ = ["register_composite_routes", "MAX_SUBREQUESTS", "MAX_COLLECTION_RECORDS", "MAX_GRAPH_NODES"]

log = logging.getLogger(__name__)

MAX_SUBREQUESTS = 25
MAX_COLLECTION_RECORDS = 200
MAX_GRAPH_NODES = 500

_REFERENCE = re.compile(r"@\{(?P<name>[A-Za-z0-9_]+)(?P<path>(?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_PATH_STEP = re.compile(r"\.([A-Za-z0-9_]+)|\[(\d+)\]")
_ROLLED_BACK = "The transaction was rolled back since another operation in the same transaction failed."
_RECORD_ROLLED_BACK = "Record rolled back because not all records were valid and the request was using AllOrNone header"
# Subrequests may not be composite requests themselves.
_NESTED = re.compile(DATA + r"/composite(/graph)?/?\Z")


class _Rollback(Exception):
    """Raised inside a store transaction to undo its writes after the responses are collected."""


class _Unresolved(Exception):
    def __init__(self, expression: str, name: str) -> None:
        super().__init__(expression)
        self.expression = expression
        self.name = name


def _halted(message: str) -> list[dict[str, Any]]:
    return [{"errorCode": "PROCESSING_HALTED", "message": message}]


# ----- references ----------------------------------------------------------------------------


def _follow(value: Any, path: str) -> Any:
    for found in _PATH_STEP.finditer(path):
        key, index = found.groups()
        if key is not None:
            if not isinstance(value, dict) or key not in value:
                raise KeyError(key)
            value = value[key]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                raise KeyError(index)
            value = value[int(index)]
    return value


def _substitute(text: str, results: dict[str, Any]) -> str:
    def replace(found: re.Match[str]) -> str:
        name = found.group("name")
        if name not in results:
            raise _Unresolved(found.group(0)[2:-1], name)
        try:
            value = _follow(results[name], found.group("path"))
        except KeyError:
            raise _Unresolved(found.group(0)[2:-1], name) from None
        return str(value)

    return _REFERENCE.sub(replace, text)


def _resolve(value: Any, results: dict[str, Any]) -> Any:
    """Replace every `@{...}` reference inside strings of a subrequest's URL or body."""
    if isinstance(value, str):
        return _substitute(value, results)
    if isinstance(value, list):
        return [_resolve(item, results) for item in value]
    if isinstance(value, dict):
        return {key: _resolve(item, results) for key, item in value.items()}
    return value


# ----- running subrequests -------------------------------------------------------------------


def _dispatch(sandbox: "SalesforceSandbox", method: str, url: str, body: Any) -> Response:
    """Run one subrequest through the sandbox's own routes, without auth, counting or faults."""
    parts = urlsplit(url)
    if not parts.path.startswith("/services/data/v") or _NESTED.match(parts.path):
        raise ApiError(400, "INVALID_INPUT", f"The subrequest URL is not supported in a composite request: {url}")
    matched = sandbox.router.match(method.upper(), parts.path)
    if matched is None:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    endpoint, params, handler = matched
    request = Request(
        method=method.upper(),
        path=parts.path,
        query=parse_qs(parts.query, keep_blank_values=True),
        headers={"content-type": "application/json"},
        body=jsoncodec.dumps(body).encode("utf-8") if body is not None else b"",
        params=params,
        endpoint=f"{method.upper()} {endpoint}",
    )
    return handler(request)


def _item(status: int, body: Any, reference_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"body": body, "httpHeaders": headers or {}, "httpStatusCode": status, "referenceId": reference_id}


def _run_subrequests(sandbox: "SalesforceSandbox", subrequests: list[Any], all_or_none: bool) -> tuple[list[dict[str, Any]], bool]:
    """Run subrequests in order; return the compositeResponse items and whether any failed.

    With `all_or_none`, the first failure stops the run and rolls back every write.
    """
    store = sandbox.records
    items: list[dict[str, Any]] = []
    failed = False
    try:
        with store.lock, store.transaction():
            results: dict[str, Any] = {}
            for subrequest in subrequests:
                reference_id = str(subrequest.get("referenceId", ""))
                if failed and all_or_none:
                    items.append(_item(400, _halted(_ROLLED_BACK), reference_id))
                    continue
                item = _run_one(sandbox, subrequest, results)
                results[reference_id] = item["body"]
                items.append(item)
                failed = failed or item["httpStatusCode"] >= 400
            if failed and all_or_none:
                raise _Rollback
    except _Rollback:
        for item in items:
            if item["httpStatusCode"] < 400:
                item.update(body=_halted(_ROLLED_BACK), httpHeaders={}, httpStatusCode=400)
        log.info("composite request rolled back after a failed subrequest")
    return items, failed


def _run_one(sandbox: "SalesforceSandbox", subrequest: dict[str, Any], results: dict[str, Any]) -> dict[str, Any]:
    reference_id = str(subrequest.get("referenceId", ""))
    try:
        url = _resolve(str(subrequest.get("url", "")), results)
        body = _resolve(subrequest.get("body"), results)
    except _Unresolved as missing:
        message = (
            f"Invalid reference specified. No value for {missing.expression} found in {missing.name}. "
            f"Provided referenceId ('{missing.name}') may be incorrect, or the request it names failed."
        )
        return _item(400, _halted(message), reference_id)
    try:
        response = _dispatch(sandbox, str(subrequest.get("method", "GET")), url, body)
    except ApiError as error:
        return _item(error.status, error.body(), reference_id)
    headers = {"Location": response.headers["Location"]} if "Location" in response.headers else {}
    return _item(response.status, response.body, reference_id, headers)


def _subrequests(body: dict[str, Any], limit: int, request_kind: str) -> list[dict[str, Any]]:
    subrequests = body.get("compositeRequest")
    if not isinstance(subrequests, list) or not all(isinstance(item, dict) for item in subrequests):
        raise ApiError(400, "JSON_PARSER_ERROR", "compositeRequest must be a list of subrequest objects")
    if len(subrequests) > limit:
        # NOTE: the wording and code of Salesforce's own message for this limit are not confirmed.
        raise ApiError(400, "LIMIT_EXCEEDED", f"A {request_kind} can have at most {limit} subrequests; this one has {len(subrequests)}")
    return subrequests


def _composite(sandbox: "SalesforceSandbox", request: Request) -> Response:
    body = json_object(request)
    subrequests = _subrequests(body, MAX_SUBREQUESTS, "composite request")
    items, _ = _run_subrequests(sandbox, subrequests, bool(body.get("allOrNone", False)))
    return Response(200, {"compositeResponse": items})


def _graph(sandbox: "SalesforceSandbox", request: Request) -> Response:
    body = json_object(request)
    graphs = body.get("graphs")
    if not isinstance(graphs, list) or not all(isinstance(graph, dict) for graph in graphs):
        raise ApiError(400, "JSON_PARSER_ERROR", "graphs must be a list of graph objects")
    checked = [(str(graph.get("graphId", "")), _subrequests(graph, MAX_GRAPH_NODES, "graph")) for graph in graphs]

    answers = []
    for graph_id, subrequests in checked:
        items, failed = _run_subrequests(sandbox, subrequests, all_or_none=True)
        answers.append({"graphId": graph_id, "graphResponse": {"compositeResponse": items}, "isSuccessful": not failed})
    return Response(200, {"graphs": answers})


# ----- sObject Collections -------------------------------------------------------------------


def _records(body: dict[str, Any]) -> list[dict[str, Any]]:
    records = body.get("records")
    if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
        raise ApiError(400, "JSON_PARSER_ERROR", "records must be a list of record objects")
    if len(records) > MAX_COLLECTION_RECORDS:
        raise ApiError(
            400, "EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than {MAX_COLLECTION_RECORDS} records into this call"
        )
    return records


def _record_type(record: dict[str, Any]) -> str:
    attributes = record.get("attributes")
    object_name = attributes.get("type") if isinstance(attributes, dict) else None
    if not object_name or find_object(str(object_name)) is None:
        raise ApiError(400, "INVALID_TYPE", f"sObject type '{object_name}' is not supported.")
    return str(object_name)


def _fields(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key != "attributes"}


def _field_value(record: dict[str, Any], name: str) -> Any:
    return next((value for key, value in record.items() if key.lower() == name.lower()), None)


def _create_one(sandbox: "SalesforceSandbox", record: dict[str, Any]) -> dict[str, Any]:
    record_id = sandbox.records.create(_record_type(record), _fields(record))
    return {"id": record_id, "success": True, "errors": []}


def _update_one(sandbox: "SalesforceSandbox", record: dict[str, Any]) -> dict[str, Any]:
    record_id = _field_value(record, "Id")
    if not record_id:
        raise ApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call")
    sandbox.records.update(_record_type(record), str(record_id), _fields(record))
    return {"id": record_id, "success": True, "errors": []}


def _upsert_one(sandbox: "SalesforceSandbox", object_name: str, field_name: str, record: dict[str, Any]) -> dict[str, Any]:
    if _record_type(record).lower() != object_name.lower():
        raise ApiError(400, "INVALID_TYPE", f"every record must be of type {object_name}")
    value = _field_value(record, field_name)
    if value is None or value == "":
        raise ApiError(400, "MISSING_ARGUMENT", f"{field_name} not specified")
    try:
        record_id, created = sandbox.records.upsert(object_name, field_name, str(value), _fields(record))
    except MultipleMatches as matches:
        raise ApiError(
            400, "DUPLICATE_EXTERNAL_ID", f"{field_name}: more than one record found for external id field: {matches.record_ids}", [field_name]
        ) from None
    return {"id": record_id, "success": True, "errors": [], "created": created}


def _write_collection(
    sandbox: "SalesforceSandbox",
    body: dict[str, Any],
    write_one: Callable[[dict[str, Any]], dict[str, Any]],
) -> Response:
    """Write each record; with allOrNone, any failure rolls back all of them."""
    records = _records(body)
    all_or_none = bool(body.get("allOrNone", False))
    store = sandbox.records
    results: list[dict[str, Any]] = []
    try:
        with store.lock, store.transaction():
            for record in records:
                try:
                    results.append(write_one(record))
                except ApiError as error:
                    result: dict[str, Any] = {"success": False, "errors": [error.as_collection_error()]}
                    if _field_value(record, "Id"):
                        result = {"id": _field_value(record, "Id"), **result}
                    results.append(result)
            if all_or_none and not all(result["success"] for result in results):
                raise _Rollback
    except _Rollback:
        failures = sum(not result["success"] for result in results)
        rolled_back = {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": _RECORD_ROLLED_BACK, "fields": []}
        for result in results:
            if result["success"]:
                result.update(id=None, success=False, errors=[rolled_back])
                result.pop("created", None)
        log.info("sObject collection rolled back: allOrNone with %d of %d records failed", failures, len(results))
    return Response(200, results)


def _collection_create(sandbox: "SalesforceSandbox", request: Request) -> Response:
    return _write_collection(sandbox, json_object(request), functools.partial(_create_one, sandbox))


def _collection_update(sandbox: "SalesforceSandbox", request: Request) -> Response:
    return _write_collection(sandbox, json_object(request), functools.partial(_update_one, sandbox))


def _collection_upsert(sandbox: "SalesforceSandbox", request: Request) -> Response:
    sobject = find_object(request.params["object"])
    if sobject is None:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    field_name = request.params["field"]
    field = sobject.field(field_name)
    if field is None or not field.external_id:
        raise ApiError(404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {field_name}")
    write_one = functools.partial(_upsert_one, sandbox, sobject.name, field.name)
    return _write_collection(sandbox, json_object(request), write_one)


def register_composite_routes(router: Router, sandbox: "SalesforceSandbox") -> None:
    def add(method: str, pattern: str, endpoint: str, handler: Callable[["SalesforceSandbox", Request], Response]) -> None:
        router.add(method, pattern, endpoint, api_route(functools.partial(handler, sandbox)))

    add("POST", DATA + r"/composite/?", "composite", _composite)
    add("POST", DATA + r"/composite/graph/?", "composite.graph", _graph)
    add("POST", DATA + r"/composite/sobjects/?", "composite.sobjects.create", _collection_create)
    add("PATCH", DATA + r"/composite/sobjects/?", "composite.sobjects.update", _collection_update)
    add("PATCH", DATA + r"/composite/sobjects/(?P<object>\w+)/(?P<field>\w+)/?", "composite.sobjects.upsert", _collection_upsert)
