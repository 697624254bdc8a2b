"""The GraphQL Admin API subset the sandbox serves: SDL and resolvers.

Covered: `productVariants`, `productVariant`, `product`, `locations`, `location`, `inventoryItem`,
`inventoryItems`, `shop`, and the mutation `inventorySetQuantities`. Nodes are dicts keyed by field
name. A field with arguments, or one that links to another node, is a callable, and graphql-core's
default resolver calls it with the field's arguments.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable

from graphql import GraphQLError, GraphQLSchema, build_schema

from .ids import InvalidGlobalId, gid, parse_gid
from .search import SearchSyntaxError, parse_search

if TYPE_CHECKING:
    from .state import ShopState

__all__ = ["MAX_PAGE_SIZE", "SDL", "build_root", "schema"]

MAX_PAGE_SIZE = 250
MAX_INPUT_SIZE = 250

SDL = """
scalar DateTime
scalar Money
scalar URL

directive @idempotent(key: String!) on FIELD

type Query {
  productVariants(first: Int, after: String, last: Int, before: String, query: String, reverse: Boolean = false, sortKey: ProductVariantSortKeys = ID): ProductVariantConnection!
  productVariant(id: ID!): ProductVariant
  product(id: ID!): Product
  locations(first: Int, after: String, last: Int, before: String, query: String, reverse: Boolean = false): LocationConnection!
  location(id: ID): Location
  inventoryItem(id: ID!): InventoryItem
  inventoryItems(first: Int, after: String, last: Int, before: String, query: String, reverse: Boolean = false): InventoryItemConnection!
  shop: Shop!
}

type Mutation {
  inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload
}

enum ProductVariantSortKeys { ID SKU TITLE }

type Shop {
  id: ID!
  name: String!
  myshopifyDomain: String!
  currencyCode: String!
  ianaTimezone: String!
}

type PageInfo {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

type Product {
  id: ID!
  legacyResourceId: ID!
  title: String!
  handle: String!
  vendor: String!
  productType: String!
  status: String!
  isGiftCard: Boolean!
  createdAt: DateTime!
  updatedAt: DateTime!
  totalInventory: Int!
  variants(first: Int, after: String, last: Int, before: String, reverse: Boolean = false): ProductVariantConnection!
}

type ProductVariant {
  id: ID!
  legacyResourceId: ID!
  sku: String
  title: String!
  displayName: String!
  price: Money!
  compareAtPrice: Money
  barcode: String
  taxable: Boolean!
  inventoryQuantity: Int
  availableForSale: Boolean!
  createdAt: DateTime!
  updatedAt: DateTime!
  product: Product!
  inventoryItem: InventoryItem!
}

type ProductVariantEdge { cursor: String! node: ProductVariant! }
type ProductVariantConnection { edges: [ProductVariantEdge!]! nodes: [ProductVariant!]! pageInfo: PageInfo! }

type InventoryItem {
  id: ID!
  legacyResourceId: ID!
  sku: String
  tracked: Boolean!
  requiresShipping: Boolean!
  createdAt: DateTime!
  updatedAt: DateTime!
  variant: ProductVariant!
  inventoryLevel(locationId: ID!): InventoryLevel
  inventoryLevels(first: Int, after: String, last: Int, before: String, reverse: Boolean = false): InventoryLevelConnection!
}

type InventoryItemEdge { cursor: String! node: InventoryItem! }
type InventoryItemConnection { edges: [InventoryItemEdge!]! nodes: [InventoryItem!]! pageInfo: PageInfo! }

type InventoryLevel {
  id: ID!
  item: InventoryItem!
  location: Location!
  updatedAt: DateTime!
  quantities(names: [String!]!): [InventoryQuantity!]!
}

type InventoryQuantity { id: ID! name: String! quantity: Int! updatedAt: DateTime }

type InventoryLevelEdge { cursor: String! node: InventoryLevel! }
type InventoryLevelConnection { edges: [InventoryLevelEdge!]! nodes: [InventoryLevel!]! pageInfo: PageInfo! }

type LocationAddress {
  address1: String
  address2: String
  city: String
  zip: String
  province: String
  provinceCode: String
  country: String
  countryCode: String
}

type Location {
  id: ID!
  legacyResourceId: ID!
  name: String!
  isActive: Boolean!
  fulfillsOnlineOrders: Boolean!
  address: LocationAddress!
  inventoryLevel(inventoryItemId: ID!): InventoryLevel
  inventoryLevels(first: Int, after: String, last: Int, before: String, reverse: Boolean = false): InventoryLevelConnection!
}

type LocationEdge { cursor: String! node: Location! }
type LocationConnection { edges: [LocationEdge!]! nodes: [Location!]! pageInfo: PageInfo! }

input InventoryQuantityInput {
  inventoryItemId: ID!
  locationId: ID!
  quantity: Int!
  compareQuantity: Int
  changeFromQuantity: Int
}

input InventorySetQuantitiesInput {
  name: String!
  reason: String!
  referenceDocumentUri: String
  ignoreCompareQuantity: Boolean = false
  quantities: [InventoryQuantityInput!]!
}

type InventoryChange {
  name: String!
  delta: Int!
  quantityAfterChange: Int
  ledgerDocumentUri: String
  item: InventoryItem
  location: Location
}

type InventoryAdjustmentGroup {
  id: ID!
  createdAt: DateTime!
  reason: String!
  referenceDocumentUri: String
  changes(inventoryItemIds: [ID!], locationIds: [ID!], quantityNames: [String!]): [InventoryChange!]!
}

enum InventorySetQuantitiesUserErrorCode {
  CHANGE_FROM_QUANTITY_STALE
  COMPARE_QUANTITY_REQUIRED
  COMPARE_QUANTITY_STALE
  INVALID_INVENTORY_ITEM
  INVALID_LOCATION
  INVALID_NAME
  INVALID_QUANTITY_NEGATIVE
  INVALID_QUANTITY_TOO_HIGH
  INVALID_QUANTITY_TOO_LOW
  INVALID_REASON
  INVALID_REFERENCE_DOCUMENT
  ITEM_NOT_STOCKED_AT_LOCATION
  NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR
  NON_MUTABLE_INVENTORY_ITEM
}

type InventorySetQuantitiesUserError {
  field: [String!]
  message: String!
  code: InventorySetQuantitiesUserErrorCode
}

type InventorySetQuantitiesPayload {
  inventoryAdjustmentGroup: InventoryAdjustmentGroup
  userErrors: [InventorySetQuantitiesUserError!]!
}
"""

schema: GraphQLSchema = build_schema(SDL)


def _to_utc(text: str) -> str:
    """Rewrite a REST time (shop offset) the way GraphQL writes times: in UTC, ending in Z."""
    return datetime.fromisoformat(text).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_cursor(last_id: int, last_value: Any) -> str:
    raw = json.dumps({"last_id": last_id, "last_value": last_value}, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(raw).decode("ascii")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        payload = json.loads(base64.b64decode(cursor.encode("ascii"), validate=True))
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or "last_id" not in payload:
        raise GraphQLError(f"Invalid cursor for current pagination sort. {cursor!r} is not a cursor of this connection.")
    return payload


def connection(
    records: list[Any],
    key: Callable[[Any], tuple[Any, int]],
    render: Callable[[Any], dict[str, Any]],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    reverse: bool = False,
) -> dict[str, Any]:
    """Return a Relay connection over `records`, sorted by `key` (value, id), sliced by the arguments."""
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last", extensions={"code": "BAD_REQUEST"})
    for name, size in (("first", first), ("last", last)):
        if size is not None and (size < 0 or size > MAX_PAGE_SIZE):
            raise GraphQLError(f"{name} must be between 0 and {MAX_PAGE_SIZE}.", extensions={"code": "BAD_REQUEST"})

    ordered = sorted(records, key=key, reverse=reverse)
    keyed = [(tuple(key(record)), record) for record in ordered]

    def beyond(position: tuple[Any, int], cursor: dict[str, Any], forward: bool) -> bool:
        target = (cursor["last_value"], cursor["last_id"])
        later = position < target if reverse else position > target
        return later if forward else (position != target and not later)

    start, end = 0, len(keyed)
    if after is not None:
        cursor = decode_cursor(after)
        start = next((index for index, (position, _) in enumerate(keyed) if beyond(position, cursor, True)), len(keyed))
    if before is not None:
        cursor = decode_cursor(before)
        end = max(start, next((index for index, (position, _) in enumerate(keyed) if not beyond(position, cursor, False)), len(keyed)))

    window = keyed[start:end]
    has_next = end < len(keyed)
    has_previous = start > 0
    if first is not None and len(window) > first:
        window = window[:first]
        has_next = True
    if last is not None and len(window) > last:
        window = window[len(window) - last :]
        has_previous = True

    edges = [{"cursor": encode_cursor(position[1], position[0]), "node": render(record)} for position, record in window]
    return {
        "edges": edges,
        "nodes": [edge["node"] for edge in edges],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def build_root(state: "ShopState", quantities_applied: Callable[..., Any]) -> dict[str, Any]:
    """Return the root value: one callable per Query and Mutation field, reading `state`."""
    nodes = _Nodes(state)

    def product_variants(info: Any, query: str | None = None, sortKey: str = "ID", **page: Any) -> dict[str, Any]:
        matcher = _search(query, nodes.variant_field_values)
        records = [v for v in state.variants.values() if matcher.matches(v)]
        sort_value = {"ID": lambda v: v["id"], "SKU": lambda v: v["sku"] or "", "TITLE": lambda v: v["title"]}[sortKey]
        return connection(records, lambda v: (sort_value(v), v["id"]), nodes.variant, **page)

    def product_variant(info: Any, id: str) -> dict[str, Any] | None:
        variant = state.variants.get(_number(id, "ProductVariant"))
        return nodes.variant(variant) if variant else None

    def product(info: Any, id: str) -> dict[str, Any] | None:
        record = state.products.get(_number(id, "Product"))
        return nodes.product(record) if record else None

    def locations(info: Any, query: str | None = None, **page: Any) -> dict[str, Any]:
        matcher = _search(query, lambda location, field: {"name": [location["name"]], "id": [str(location["id"])], "default": [location["name"]]}.get(field))
        records = [location for location in state.locations.values() if matcher.matches(location)]
        return connection(records, lambda location: (location["id"], location["id"]), nodes.location, **page)

    def location(info: Any, id: str | None = None) -> dict[str, Any] | None:
        location_id = _number(id, "Location") if id else state.profile.primary_location_id
        record = state.locations.get(location_id)
        return nodes.location(record) if record else None

    def inventory_item(info: Any, id: str) -> dict[str, Any] | None:
        record = state.inventory_items.get(_number(id, "InventoryItem"))
        return nodes.inventory_item(record) if record else None

    def inventory_items(info: Any, query: str | None = None, **page: Any) -> dict[str, Any]:
        matcher = _search(query, lambda item, field: {"sku": [item["sku"] or ""], "id": [str(item["id"])], "default": [item["sku"] or ""]}.get(field))
        records = [item for item in state.inventory_items.values() if matcher.matches(item)]
        return connection(records, lambda item: (item["id"], item["id"]), nodes.inventory_item, **page)

    def shop(info: Any) -> dict[str, Any]:
        profile = state.profile
        return {"id": gid("Shop", profile.shop_id), "name": profile.name, "myshopifyDomain": profile.domain, "currencyCode": profile.currency, "ianaTimezone": profile.iana_timezone}

    def inventory_set_quantities(info: Any, input: dict[str, Any]) -> dict[str, Any]:
        return quantities_applied(input, nodes)

    return {
        "productVariants": product_variants,
        "productVariant": product_variant,
        "product": product,
        "locations": locations,
        "location": location,
        "inventoryItem": inventory_item,
        "inventoryItems": inventory_items,
        "shop": shop,
        "inventorySetQuantities": inventory_set_quantities,
    }


def _number(value: str, kind: str) -> int:
    try:
        return parse_gid(value, kind)
    except InvalidGlobalId as error:
        raise GraphQLError(str(error)) from None


def _search(query: str | None, field_values: Callable[[Any, str], list[str] | None]) -> Any:
    try:
        return parse_search(query, field_values)
    except SearchSyntaxError as error:
        raise GraphQLError(f"Invalid search query: {error}") from None


class _Nodes:
    """Builds GraphQL nodes from stored records."""

    def __init__(self, state: "ShopState") -> None:
        self.state = state

    def variant_field_values(self, variant: dict[str, Any], field: str) -> list[str] | None:
        product = self.state.products[variant["product_id"]]
        values = {
            "sku": [variant["sku"] or ""],
            "id": [str(variant["id"])],
            "product_id": [str(variant["product_id"])],
            "inventory_item_id": [str(variant["inventory_item_id"])],
            "title": [variant["title"], product["title"]],
            "barcode": [variant["barcode"] or ""],
            "updated_at": [_to_utc(variant["updated_at"])],
            "created_at": [_to_utc(variant["created_at"])],
            "default": [variant["sku"] or "", variant["title"], product["title"]],
        }
        return values.get(field)

    def variant(self, variant: dict[str, Any]) -> dict[str, Any]:
        state = self.state
        product = state.products[variant["product_id"]]
        quantity = state.variant_inventory_quantity(variant)
        title = variant["title"]
        return {
            "id": variant["admin_graphql_api_id"],
            "legacyResourceId": str(variant["id"]),
            "sku": variant["sku"],
            "title": title,
            "displayName": product["title"] if title == "Default Title" else f"{product['title']} - {title}",
            "price": variant["price"],
            "compareAtPrice": variant["compare_at_price"],
            "barcode": variant["barcode"],
            "taxable": variant["taxable"],
            "inventoryQuantity": quantity,
            "availableForSale": quantity > 0 or variant["inventory_management"] is None,
            "createdAt": _to_utc(variant["created_at"]),
            "updatedAt": _to_utc(variant["updated_at"]),
            "product": lambda info: self.product(product),
            "inventoryItem": lambda info: self.inventory_item(state.inventory_items[variant["inventory_item_id"]]),
        }

    def product(self, product: dict[str, Any]) -> dict[str, Any]:
        state = self.state
        variants = [v for v in state.variants.values() if v["product_id"] == product["id"]]
        return {
            "id": product["admin_graphql_api_id"],
            "legacyResourceId": str(product["id"]),
            "title": product["title"],
            "handle": product["handle"],
            "vendor": product["vendor"],
            "productType": product["product_type"],
            "status": product["status"].upper(),
            "isGiftCard": product["product_type"] == "Gift Cards",
            "createdAt": _to_utc(product["created_at"]),
            "updatedAt": _to_utc(product["updated_at"]),
            "totalInventory": sum(state.variant_inventory_quantity(v) for v in variants),
            "variants": lambda info, **page: connection(variants, lambda v: (v["id"], v["id"]), self.variant, **page),
        }

    def inventory_item(self, item: dict[str, Any]) -> dict[str, Any]:
        state = self.state
        variant = next(v for v in state.variants.values() if v["inventory_item_id"] == item["id"])
        levels = [level for (item_id, _), level in state.inventory_levels.items() if item_id == item["id"]]

        def level_at(info: Any, locationId: str) -> dict[str, Any] | None:
            level = state.inventory_levels.get((item["id"], _number(locationId, "Location")))
            return self.level(level) if level else None

        return {
            "id": item["admin_graphql_api_id"],
            "legacyResourceId": str(item["id"]),
            "sku": item["sku"],
            "tracked": item["tracked"],
            "requiresShipping": item["requires_shipping"],
            "createdAt": _to_utc(item["created_at"]),
            "updatedAt": _to_utc(item["updated_at"]),
            "variant": lambda info: self.variant(variant),
            "inventoryLevel": level_at,
            "inventoryLevels": lambda info, **page: connection(levels, lambda level: (level["location_id"], level["location_id"]), self.level, **page),
        }

    def location(self, location: dict[str, Any]) -> dict[str, Any]:
        state = self.state
        levels = [level for (_, location_id), level in state.inventory_levels.items() if location_id == location["id"]]

        def level_of(info: Any, inventoryItemId: str) -> dict[str, Any] | None:
            level = state.inventory_levels.get((_number(inventoryItemId, "InventoryItem"), location["id"]))
            return self.level(level) if level else None

        return {
            "id": location["admin_graphql_api_id"],
            "legacyResourceId": str(location["id"]),
            "name": location["name"],
            "isActive": location["active"],
            "fulfillsOnlineOrders": location["id"] == state.profile.primary_location_id,
            "address": {
                "address1": location["address1"],
                "address2": location["address2"],
                "city": location["city"],
                "zip": location["zip"],
                "province": location["province"],
                "provinceCode": location["province_code"],
                "country": location["country_name"],
                "countryCode": location["country_code"],
            },
            "inventoryLevel": level_of,
            "inventoryLevels": lambda info, **page: connection(levels, lambda level: (level["inventory_item_id"], level["inventory_item_id"]), self.level, **page),
        }

    def level(self, level: dict[str, Any]) -> dict[str, Any]:
        state = self.state
        item_id, location_id = level["inventory_item_id"], level["location_id"]
        level_id = f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item_id}"

        def quantities(info: Any, names: list[str]) -> list[dict[str, Any]]:
            known = {"available": level["available"], "on_hand": level["on_hand"], "committed": level["committed"], "incoming": 0, "reserved": 0, "damaged": 0, "safety_stock": 0, "quality_control": 0}
            return [
                {"id": f"gid://shopify/InventoryQuantity/{location_id}?inventory_item_id={item_id}&name={name}", "name": name, "quantity": known[name], "updatedAt": _to_utc(level["updated_at"])}
                for name in names
                if name in known
            ]

        return {
            "id": level_id,
            "item": lambda info: self.inventory_item(state.inventory_items[item_id]),
            "location": lambda info: self.location(state.locations[location_id]),
            "updatedAt": _to_utc(level["updated_at"]),
            "quantities": quantities,
        }
