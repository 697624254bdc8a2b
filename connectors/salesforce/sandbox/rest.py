"""REST routes under `/services/data/vXX.X/`: versions, limits, describe, sObject rows and queries.

Handlers raise ApiError; `api_route` turns it into Salesforce's error body. Every route takes
any API version of the form `vNN.0`. Where Salesforce's response changed between versions (the
upsert of an existing record), the version in the URL decides.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import unquote

from connectors.sandbox.server import Request, Response, Router

from .errors import NOT_FOUND_MESSAGE, ApiError
from .records import MultipleMatches
from .schema import SCHEMA, SObject, find_object
from .soql import execute, parse
from .values import to_wire

if TYPE_CHECKING:
    from .org import SalesforceSandbox

__all__ = [
    "register_rest_routes",
    "register_fallback_routes",
    "api_route",
    "json_body",
    "json_object",
    "wire_record",
    "versioned_base",
    "DATA",
    "LATEST_VERSION",
]

log = logging.getLogger(__name__)

DATA = r"/services/data/v(?P<version>\d+\.0)"
LATEST_VERSION = "62.0"
# API 46.0 changed the response to an upsert that updates a record from 204 to 200 with a body.
_UPSERT_BODY_SINCE = 46.0

Handler = Callable[[Request], Response]


def api_route(handler: Handler) -> Handler:
    """Wrap a handler so that ApiError and malformed JSON become Salesforce error responses."""

    @functools.wraps(handler)
    def wrapped(request: Request) -> Response:
        try:
            return handler(request)
        except MultipleMatches as matches:
            log.info("%s %s matched %d records: %s", request.method, request.path, len(matches.record_ids), matches.record_ids)
            base = versioned_base(request)
            return Response(300, [f"{base}/sobjects/{matches.object_name}/{record_id}" for record_id in matches.record_ids])
        except ApiError as error:
            log.info("%s %s failed with %d %s: %s", request.method, request.path, error.status, error.code, error.message)
            return Response(error.status, error.body())

    return wrapped


def versioned_base(request: Request) -> str:
    return f"/services/data/v{request.params.get('version', LATEST_VERSION)}"


def json_body(request: Request) -> Any:
    """Parse the request body as JSON (numbers with a fraction become Decimal)."""
    try:
        return request.json()
    except (ValueError, UnicodeDecodeError) as error:
        line = getattr(error, "lineno", 1)
        column = getattr(error, "colno", 1)
        raise ApiError(400, "JSON_PARSER_ERROR", f"Unexpected character in JSON body at [line:{line}, column:{column}]") from None


def json_object(request: Request) -> dict[str, Any]:
    body = json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    return body


def wire_record(sobject: SObject, record: dict[str, Any], base: str, fields: list[str] | None = None) -> dict[str, Any]:
    """Shape a stored record as a GET returns it: `attributes` first, then the fields in describe order."""
    row: dict[str, Any] = {"attributes": {"type": sobject.name, "url": f"{base}/sobjects/{sobject.name}/{record['Id']}"}}
    selected_names = {name.lower() for name in fields} if fields else None
    for field in sobject.fields:
        if selected_names is None or field.name.lower() in selected_names:
            row[field.name] = to_wire(field, record.get(field.name))
    return row


def _object(request: Request) -> SObject:
    sobject = find_object(request.params["object"])
    if sobject is None:
        raise ApiError(404, "NOT_FOUND", NOT_FOUND_MESSAGE)
    return sobject


# ----- describe ------------------------------------------------------------------------------


def _object_summary(sobject: SObject, base: str) -> dict[str, Any]:
    urls = {
        "rowTemplate": f"{base}/sobjects/{sobject.name}/{{ID}}",
        "describe": f"{base}/sobjects/{sobject.name}/describe",
        "sobject": f"{base}/sobjects/{sobject.name}",
    }
    return {
        "activateable": False,
        "createable": True,
        "custom": sobject.custom,
        "customSetting": False,
        "deletable": True,
        "deprecatedAndHidden": False,
        "feedEnabled": False,
        "keyPrefix": sobject.key_prefix,
        "label": sobject.label,
        "labelPlural": sobject.label_plural,
        "layoutable": True,
        "mergeable": sobject.name in ("Account", "Contact"),
        "mruEnabled": True,
        "name": sobject.name,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "undeletable": True,
        "updateable": True,
        "urls": urls,
    }


def _child_relationships(sobject: SObject) -> list[dict[str, Any]]:
    relationships = []
    for child in SCHEMA.values():
        for field in child.fields:
            if field.reference_to != sobject.name:
                continue
            relationships.append(
                {
                    "cascadeDelete": field.master_detail,
                    "childSObject": child.name,
                    "deprecatedAndHidden": False,
                    "field": field.name,
                    "relationshipName": None,
                    "restrictedDelete": False,
                }
            )
    return relationships


def _describe_global(sandbox: "SalesforceSandbox", request: Request) -> Response:
    base = versioned_base(request)
    return Response(200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [_object_summary(item, base) for item in SCHEMA.values()]})


def _describe(sandbox: "SalesforceSandbox", request: Request) -> Response:
    sobject = _object(request)
    body = _object_summary(sobject, versioned_base(request))
    body["childRelationships"] = _child_relationships(sobject)
    body["fields"] = [field.describe() for field in sobject.fields]
    return Response(200, body)


def _object_info(sandbox: "SalesforceSandbox", request: Request) -> Response:
    sobject = _object(request)
    return Response(200, {"objectDescribe": _object_summary(sobject, versioned_base(request)), "recentItems": []})


# ----- rows ----------------------------------------------------------------------------------


def _create(sandbox: "SalesforceSandbox", request: Request) -> Response:
    sobject = _object(request)
    record_id = sandbox.records.create(sobject.name, json_object(request))
    return Response(201, {"id": record_id, "success": True, "errors": []}, headers={"Location": f"{versioned_base(request)}/sobjects/{sobject.name}/{record_id}"})


def _get(sandbox: "SalesforceSandbox", request: Request) -> Response:
    sobject = _object(request)
    fields = [name.strip() for name in (request.arg("fields") or "").split(",") if name.strip()]
    for name in fields:
        if sobject.field(name) is None:
            raise ApiError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{sobject.name}'", [name])
    with sandbox.records.lock:
        record = sandbox.records.get(sobject.name, request.params["id"], include_deleted=True)
        if record is None:
            raise ApiError(404, "NOT_FOUND", NOT_FOUND_MESSAGE)
        if record["IsDeleted"]:
            raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        return Response(200, wire_record(sobject, record, versioned_base(request), fields or None))


def _update(sandbox: "SalesforceSandbox", request: Request) -> Response:
    sobject = _object(request)
    sandbox.records.update(sobject.name, request.params["id"], json_object(request))
    return Response(204)


def _delete(sandbox: "SalesforceSandbox", request: Request) -> Response:
    sobject = _object(request)
    sandbox.records.delete(sobject.name, request.params["id"])
    return Response(204)


def _get_by_external_id(sandbox: "SalesforceSandbox", request: Request) -> Response:
    sobject = _object(request)
    value = unquote(request.params["value"])
    with sandbox.records.lock:
        matches = sandbox.records.match_external_id(sobject.name, request.params["field"], value)
        if len(matches) > 1:
            raise MultipleMatches(sobject.name, matches)
        if not matches:
            raise ApiError(404, "NOT_FOUND", NOT_FOUND_MESSAGE)
        record = sandbox.records.get(sobject.name, matches[0])
        assert record is not None
        return Response(200, wire_record(sobject, record, versioned_base(request)))


def _upsert(sandbox: "SalesforceSandbox", request: Request) -> Response:
    sobject = _object(request)
    value = unquote(request.params["value"])
    record_id, created = sandbox.records.upsert(sobject.name, request.params["field"], value, json_object(request))
    with_body = float(request.params["version"]) >= _UPSERT_BODY_SINCE
    if created:
        body: dict[str, Any] = {"id": record_id, "success": True, "errors": []}
        if with_body:
            body["created"] = True
        return Response(201, body)
    if with_body:
        return Response(200, {"id": record_id, "success": True, "errors": [], "created": False})
    return Response(204)


# ----- queries -------------------------------------------------------------------------------


def _batch_size(sandbox: "SalesforceSandbox", request: Request) -> int:
    options = request.header("sforce-query-options") or ""
    for option in options.split(","):
        name, _, value = option.strip().partition("=")
        if name.strip().lower() == "batchsize" and value.strip().isdigit():
            # Salesforce treats batchSize as a request between 200 and 2000, not a promise.
            return max(200, min(2000, int(value)))
    return sandbox.query_batch_size


def _query(sandbox: "SalesforceSandbox", request: Request, include_deleted: bool) -> Response:
    text = request.arg("q")
    if not text:
        raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
    query = parse(text)
    base = versioned_base(request)
    store = sandbox.records
    with store.lock:

        def lookup(record_id: str) -> dict[str, Any] | None:
            found = store.find(record_id)
            return found[1] if found and not found[1]["IsDeleted"] else None

        total, rows = execute(query, store.scan(query.sobject.name, include_deleted), lookup, base)
    if query.is_count:
        return Response(200, {"totalSize": total, "done": True, "records": []})
    resource = "queryAll" if include_deleted else "query"
    return Response(200, sandbox.cursors.page(base, resource, rows, _batch_size(sandbox, request)))


def _query_more(sandbox: "SalesforceSandbox", request: Request, resource: str) -> Response:
    locator, _, offset = request.params["locator"].rpartition("-")
    page = sandbox.cursors.more(versioned_base(request), resource, locator, int(offset))
    return Response(200, page)


# ----- small resources -----------------------------------------------------------------------


def _versions(sandbox: "SalesforceSandbox", request: Request) -> Response:
    versions = [{"label": f"API {number}.0", "url": f"/services/data/v{number}.0", "version": f"{number}.0"} for number in range(45, 63)]
    return Response(200, versions)


def _resources(sandbox: "SalesforceSandbox", request: Request) -> Response:
    base = versioned_base(request)
    names = ["sobjects", "query", "queryAll", "composite", "limits"]
    return Response(200, {name: f"{base}/{name}" for name in names})


def _limits(sandbox: "SalesforceSandbox", request: Request) -> Response:
    usage = sandbox.usage
    return Response(200, {"DailyApiRequests": {"Max": usage.daily_limit, "Remaining": max(0, usage.daily_limit - usage.used)}})


def _not_found(sandbox: "SalesforceSandbox", request: Request) -> Response:
    raise ApiError(404, "NOT_FOUND", NOT_FOUND_MESSAGE)


def register_rest_routes(router: Router, sandbox: "SalesforceSandbox") -> None:
    """Add the data routes; the order matters where patterns overlap (describe before an id)."""

    def add(method: str, pattern: str, endpoint: str, handler: Callable[["SalesforceSandbox", Request], Response]) -> None:
        router.add(method, pattern, endpoint, api_route(functools.partial(handler, sandbox)))

    sobjects = DATA + r"/sobjects"
    row = sobjects + r"/(?P<object>\w+)/(?P<id>\w+)/?"
    by_external_id = sobjects + r"/(?P<object>\w+)/(?P<field>\w+)/(?P<value>[^/]+)/?"

    add("GET", r"/services/data/?", "versions", _versions)
    add("GET", DATA + r"/?", "resources", _resources)
    add("GET", DATA + r"/limits/?", "limits", _limits)
    add("GET", sobjects + r"/?", "sobjects", _describe_global)
    add("GET", sobjects + r"/(?P<object>\w+)/describe/?", "sobjects.describe", _describe)
    add("GET", sobjects + r"/(?P<object>\w+)/?", "sobjects.info", _object_info)
    add("POST", sobjects + r"/(?P<object>\w+)/?", "sobjects.create", _create)
    add("GET", row, "sobjects.get", _get)
    add("PATCH", row, "sobjects.update", _update)
    add("DELETE", row, "sobjects.delete", _delete)
    add("GET", by_external_id, "sobjects.get_by_external_id", _get_by_external_id)
    add("PATCH", by_external_id, "sobjects.upsert", _upsert)
    add("GET", DATA + r"/query/?", "query", functools.partial(_query, include_deleted=False))  # type: ignore[arg-type]
    add("GET", DATA + r"/queryAll/?", "queryAll", functools.partial(_query, include_deleted=True))  # type: ignore[arg-type]
    add("GET", DATA + r"/query/(?P<locator>01g\w+-\d+)/?", "query.more", functools.partial(_query_more, resource="query"))  # type: ignore[arg-type]
    add("GET", DATA + r"/queryAll/(?P<locator>01g\w+-\d+)/?", "queryAll.more", functools.partial(_query_more, resource="queryAll"))  # type: ignore[arg-type]


def register_fallback_routes(router: Router, sandbox: "SalesforceSandbox") -> None:
    """Return Salesforce's NOT_FOUND body for any other path; register these routes last."""
    for method in ("GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"):
        router.add(method, r"/.*", "unknown", api_route(functools.partial(_not_found, sandbox)))

