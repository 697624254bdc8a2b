"""GraphQL helpers shared by the catalogue and inventory calls: ids, search strings, paged reads.

Lookups by many values (SKUs, ids) send the values as search strings, `sku:"A" OR sku:"B"`, in
as few queries as the query-cost limit allows. A query contains several aliased connections of up
to 250 nodes each, as long as its requested cost stays within the shop's maximum (1000 points).
The requested cost is estimated with Shopify's published rules: a connection costs 2 plus, per
requested node, 1 plus the objects the node selects. When Shopify still finds a query too costly
(MAX_COST_EXCEEDED), the plan is made again with half the budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from engine.errors import FatalError

from .client import QueryCostExceeded, ShopifyClient

__all__ = ["MAX_PAGE_SIZE", "Search", "gid", "legacy_id", "plan_queries", "read_connection", "search", "search_terms"]

MAX_PAGE_SIZE = 250
_GID = re.compile(r"\Agid://shopify/(?P<kind>\w+)/(?P<number>\d+)(\?.*)?\Z")


def gid(kind: str, value: Any, input_name: str) -> str:
    """Return the global id of a `kind` record given as a number, digits or a gid.

    Raises FatalError naming the input when the value is neither, or a gid of another kind.
    """
    text = str(value).strip()
    found = _GID.match(text)
    if found:
        if found.group("kind") != kind:
            raise FatalError(f"{input_name} {text!r} is a {found.group('kind')} id, not a {kind} id", code="INVALID_ID", fields=[input_name])
        return f"gid://shopify/{kind}/{found.group('number')}"
    if isinstance(value, bool) or not text.isdigit():
        raise FatalError(f"invalid {input_name} {value!r}; give the numeric id or gid://shopify/{kind}/<id>", code="INVALID_ID", fields=[input_name])
    return f"gid://shopify/{kind}/{int(text)}"


def legacy_id(global_id: str) -> int:
    """Return the number in a gid such as gid://shopify/ProductVariant/123."""
    found = _GID.match(global_id or "")
    if not found:
        raise FatalError(f"Shopify returned an id that is not a gid: {global_id!r}", code="INVALID_RESPONSE")
    return int(found.group("number"))


def search_terms(field_name: str, values: Iterable[Any]) -> list[str]:
    """Return one search term per value: `sku:"A-1"` (quoted, so dashes and spaces are literal) or `id:123`."""
    if field_name == "sku":
        return [f'sku:"{_escape(str(value))}"' for value in values]
    return [f"{field_name}:{int(value)}" for value in values]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


@dataclass(frozen=True)
class Search:
    """A connection to search: its root field, node selection, node cost and shared variables.

    `variables` declares variables every connection uses, such as {"location": "ID!"}.
    """

    operation: str
    root_field: str
    selection: str
    node_cost: int
    variables: dict[str, str] = field(default_factory=dict)

    def document(self, count: int) -> str:
        """Return a query with `count` aliased connections, c0 to c{count-1}."""
        return self._document([(f"q{i}", f"n{i}", f"a{i}") for i in range(count)])

    def paged_document(self) -> str:
        """Return a query with one connection, c0, paged by `$first` and `$after` as read_connection pages."""
        return self._document([("q0", "first", "after")])

    def _document(self, names: list[tuple[str, str, str]]) -> str:
        declared = [f"${query}: String!, ${first}: Int!, ${after}: String" for query, first, after in names]
        declared += [f"${name}: {kind}" for name, kind in self.variables.items()]
        connections = [
            f"  c{i}: {self.root_field}(first: ${first}, after: ${after}, query: ${query}) {{ nodes {{ {self.selection} }} pageInfo {{ hasNextPage endCursor }} }}"
            for i, (query, first, after) in enumerate(names)
        ]
        return f"query {self.operation}({', '.join(declared)}) {{\n" + "\n".join(connections) + "\n}"


def plan_queries(term_count: int, node_cost: int, budget: float) -> list[list[int]]:
    """Split `term_count` terms into queries of connection sizes, each query costing at most `budget`.

    The nodes requested per connection equal its terms, one expected match per term.
    """
    queries: list[list[int]] = []
    remaining = term_count
    while remaining:
        sizes: list[int] = []
        left = budget
        while remaining:
            size = min(MAX_PAGE_SIZE, remaining, int((left - 2) // node_cost))
            if size < 1:
                break
            sizes.append(size)
            remaining -= size
            left -= 2 + size * node_cost
        if not sizes:
            # Not even one node fits the budget, so send one and let Shopify report what it costs.
            sizes = [1]
            remaining -= 1
        queries.append(sizes)
    return queries


def search(client: ShopifyClient, spec: Search, terms: Sequence[str], shared: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the nodes that match any of `terms`, reading as few queries as the cost limit allows.

    A connection with more matches than terms (duplicate or prefix matches) is read to its end.
    """
    nodes: list[dict[str, Any]] = []
    pending = list(terms)
    budget = client.graphql_budget.maximum
    while pending:
        sizes = plan_queries(len(pending), spec.node_cost, budget)[0]
        chunks, start = [], 0
        for size in sizes:
            chunks.append(pending[start : start + size])
            start += size
        try:
            nodes.extend(_run_search(client, spec, chunks, shared))
        except QueryCostExceeded:
            if sum(sizes) == 1:
                raise
            # The response also reported the shop's real maximum, which may be below the default.
            budget = min(budget / 2, client.graphql_budget.maximum)
            continue
        pending = pending[start:]
    return nodes


def _run_search(client: ShopifyClient, spec: Search, chunks: list[list[str]], shared: dict[str, Any]) -> list[dict[str, Any]]:
    variables: dict[str, Any] = dict(shared)
    for index, chunk in enumerate(chunks):
        variables.update({f"q{index}": " OR ".join(chunk), f"n{index}": len(chunk), f"a{index}": None})
    cost = sum(2 + len(chunk) * spec.node_cost for chunk in chunks)
    data = client.graphql(spec.document(len(chunks)), variables, spec.operation, cost)

    nodes: list[dict[str, Any]] = []
    for index, chunk in enumerate(chunks):
        connection = _dig(data, [f"c{index}"], spec.operation)
        nodes.extend(connection.get("nodes") or [])
        page = connection.get("pageInfo") or {}
        if page.get("hasNextPage"):
            nodes.extend(_rest_of_connection(client, spec, " OR ".join(chunk), page.get("endCursor"), shared))
    return nodes


def _rest_of_connection(client: ShopifyClient, spec: Search, query: str, after: Any, shared: dict[str, Any]) -> list[dict[str, Any]]:
    return read_connection(client, spec.paged_document(), {**shared, "q0": query}, ["c0"], spec.operation, spec.node_cost, after)


def read_connection(
    client: ShopifyClient,
    query: str,
    variables: dict[str, Any],
    path: Sequence[str],
    operation: str,
    node_cost: int,
    after: Any = None,
) -> list[dict[str, Any]]:
    """Return every node of the connection at `path` from the cursor `after` on, following `pageInfo`.

    The query must take `$first: Int!` and `$after: String` and select
    `nodes { ... } pageInfo { hasNextPage endCursor }` on the connection.
    """
    budget = client.graphql_budget.maximum
    nodes: list[dict[str, Any]] = []
    while True:
        first = max(1, min(MAX_PAGE_SIZE, int((budget - 2) // node_cost)))
        try:
            data = client.graphql(query, {**variables, "first": first, "after": after}, operation, 2 + first * node_cost)
        except QueryCostExceeded:
            if first == 1:
                raise
            budget = min(budget / 2, client.graphql_budget.maximum)
            continue
        connection = _dig(data, path, operation)
        nodes.extend(connection.get("nodes") or [])
        page = connection.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            return nodes
        after = page.get("endCursor")


def _dig(data: dict[str, Any], path: Sequence[str], operation: str) -> dict[str, Any]:
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    if not isinstance(value, dict):
        raise FatalError(f"Shopify's response to {operation} has no {'.'.join(path)}", code="INVALID_RESPONSE")
    return value
