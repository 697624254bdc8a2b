"""REST routes for the catalogue and stock: shop, products, variants, inventory items, locations, levels."""

from __future__ import annotations

from typing import Any, Callable

from connectors.sandbox.server import Request, Response, Router

from .errors import ApiError
from .inventory import level_json
from .pagination import encode_token, link_header, paginate, read_page_request
from .rest import add_route, api_base, json_response, parse_int, read_body, select_fields
from .state import ShopState

__all__ = ["register_catalogue_routes", "variant_json"]


def variant_json(state: ShopState, variant: dict[str, Any]) -> dict[str, Any]:
    """Return a variant with its inventory quantity, summed over locations."""
    quantity = state.variant_inventory_quantity(variant)
    return {**variant, "inventory_quantity": quantity, "old_inventory_quantity": quantity}


def _product_json(state: ShopState, product: dict[str, Any]) -> dict[str, Any]:
    variants = [variant_json(state, v) for v in state.variants.values() if v["product_id"] == product["id"]]
    return {**product, "variants": sorted(variants, key=lambda v: v["position"])}


def _id_list(text: str | None, name: str) -> set[int] | None:
    if not text:
        return None
    return {parse_int(value, name) for value in text.split(",") if value.strip()}


def register_catalogue_routes(router: Router, state: ShopState, base_url: Callable[[], str]) -> None:
    """Add the catalogue and inventory endpoints for `state` to `router`."""

    def id_sorted_page(
        request: Request,
        records: list[dict[str, Any]],
        key: str,
        render: Callable[[dict[str, Any]], dict[str, Any]],
        record_id: Callable[[dict[str, Any]], int] = lambda record: record["id"],
    ) -> Response:
        """Return one page of `records` in ascending `record_id` order, with the Link header."""
        page_request = read_page_request(request)
        since_id = parse_int(page_request.filters.get("since_id", 0) or 0, "since_id")
        rows = sorted((r for r in records if record_id(r) > since_id), key=record_id)
        cursor = page_request.cursor
        position = (int(cursor["last_id"]), int(cursor["last_id"])) if cursor else None
        page = paginate(rows, page_request.limit, cursor, lambda r: (record_id(r), record_id(r)), position, False)

        def token(record: dict[str, Any], direction: str) -> str:
            return encode_token({"direction": direction, "last_id": record_id(record), "last_value": record_id(record), "filters": page_request.filters})

        previous_token = token(page.items[0], "prev") if page.has_previous and page.items else None
        next_token = token(page.items[-1], "next") if page.has_next and page.items else None
        link = link_header(api_base(request, base_url()) + request.path, page_request.limit, page_request.fields, previous_token, next_token)
        body = {key: [select_fields(render(r), page_request.fields) for r in page.items]}
        return json_response(body, headers={"Link": link} if link else None)

    def shop(request: Request) -> Response:
        profile = state.profile
        body = {
            "shop": {
                "id": profile.shop_id,
                "name": profile.name,
                "email": profile.email,
                "domain": profile.domain,
                "myshopify_domain": profile.domain,
                "currency": profile.currency,
                "enabled_presentment_currencies": [profile.currency, "EUR"],
                "iana_timezone": profile.iana_timezone,
                "timezone": f"(GMT-05:00) {profile.iana_timezone}",
                "country_code": "US",
                "province_code": "NY",
                "taxes_included": False,
                "primary_location_id": profile.primary_location_id,
                "plan_name": "basic",
                "admin_graphql_api_id": f"gid://shopify/Shop/{profile.shop_id}",
            }
        }
        return json_response(body)

    def list_products(request: Request) -> Response:
        with state.lock:
            ids = _id_list(read_page_request(request).filters.get("ids"), "ids")
            products = [p for p in state.products.values() if ids is None or p["id"] in ids]
            return id_sorted_page(request, products, "products", lambda p: _product_json(state, p))

    def count_products(request: Request) -> Response:
        with state.lock:
            return json_response({"count": len(state.products)})

    def get_product(request: Request) -> Response:
        with state.lock:
            product = state.products.get(int(request.params["id"]))
            if product is None:
                raise ApiError(404, "Not Found")
            return json_response({"product": select_fields(_product_json(state, product), _fields(request))})

    def product_variants(request: Request) -> Response:
        with state.lock:
            product = state.products.get(int(request.params["id"]))
            if product is None:
                raise ApiError(404, "Not Found")
            variants = [v for v in state.variants.values() if v["product_id"] == product["id"]]
            return id_sorted_page(request, variants, "variants", lambda v: variant_json(state, v))

    def get_variant(request: Request) -> Response:
        with state.lock:
            variant = state.variants.get(int(request.params["id"]))
            if variant is None:
                raise ApiError(404, "Not Found")
            return json_response({"variant": select_fields(variant_json(state, variant), _fields(request))})

    def list_inventory_items(request: Request) -> Response:
        with state.lock:
            ids = _id_list(request.arg("ids"), "ids")
            if not ids and request.arg("page_info") is None:
                raise ApiError(400, {"ids": "Required parameter missing or invalid"})
            items = [item for item in state.inventory_items.values() if ids is None or item["id"] in ids]
            return id_sorted_page(request, items, "inventory_items", dict)

    def get_inventory_item(request: Request) -> Response:
        with state.lock:
            item = state.inventory_items.get(int(request.params["id"]))
            if item is None:
                raise ApiError(404, "Not Found")
            return json_response({"inventory_item": item})

    def list_locations(request: Request) -> Response:
        with state.lock:
            return json_response({"locations": list(state.locations.values())})

    def count_locations(request: Request) -> Response:
        with state.lock:
            return json_response({"count": len(state.locations)})

    def get_location(request: Request) -> Response:
        with state.lock:
            location = state.locations.get(int(request.params["id"]))
            if location is None:
                raise ApiError(404, "Not Found")
            return json_response({"location": location})

    def location_levels(request: Request) -> Response:
        with state.lock:
            location_id = int(request.params["id"])
            if location_id not in state.locations:
                raise ApiError(404, "Not Found")
            return levels_page(request, None, {location_id})

    def list_levels(request: Request) -> Response:
        with state.lock:
            page_request = read_page_request(request)
            items = _id_list(page_request.filters.get("inventory_item_ids"), "inventory_item_ids")
            locations = _id_list(page_request.filters.get("location_ids"), "location_ids")
            if items is None and locations is None:
                # NOTE: Shopify requires one of the two; its exact 422 wording was not checked.
                raise ApiError(422, {"base": ["inventory_item_ids or location_ids must be given"]})
            return levels_page(request, items, locations)

    def levels_page(request: Request, items: set[int] | None, locations: set[int] | None) -> Response:
        levels = [
            level_json(level)
            for level in state.inventory_levels.values()
            if (items is None or level["inventory_item_id"] in items) and (locations is None or level["location_id"] in locations)
        ]
        return id_sorted_page(request, levels, "inventory_levels", dict, _level_position)

    def set_level(request: Request) -> Response:
        body = read_body(request) or {}
        item_id = parse_int(body.get("inventory_item_id"), "inventory_item_id")
        location_id = parse_int(body.get("location_id"), "location_id")
        available = parse_int(body.get("available"), "available")
        level = state.set_inventory_level(item_id, location_id, available)
        return json_response({"inventory_level": level_json(level)})

    def adjust_level(request: Request) -> Response:
        body = read_body(request) or {}
        item_id = parse_int(body.get("inventory_item_id"), "inventory_item_id")
        location_id = parse_int(body.get("location_id"), "location_id")
        delta = parse_int(body.get("available_adjustment"), "available_adjustment")
        level = state.adjust_inventory_level(item_id, location_id, delta)
        return json_response({"inventory_level": level_json(level)})

    add_route(router, "GET", "shop.json", shop)
    add_route(router, "GET", "products.json", list_products)
    add_route(router, "GET", "products/count.json", count_products)
    add_route(router, "GET", "products/{id}.json", get_product)
    add_route(router, "GET", "products/{id}/variants.json", product_variants)
    add_route(router, "GET", "variants/{id}.json", get_variant)
    add_route(router, "GET", "inventory_items.json", list_inventory_items)
    add_route(router, "GET", "inventory_items/{id}.json", get_inventory_item)
    add_route(router, "GET", "locations.json", list_locations)
    add_route(router, "GET", "locations/count.json", count_locations)
    add_route(router, "GET", "locations/{id}.json", get_location)
    add_route(router, "GET", "locations/{id}/inventory_levels.json", location_levels)
    add_route(router, "GET", "inventory_levels.json", list_levels)
    add_route(router, "POST", "inventory_levels/set.json", set_level)
    add_route(router, "POST", "inventory_levels/adjust.json", adjust_level)


def _level_position(level: dict[str, Any]) -> int:
    """Return one sortable number for a level, which has no id of its own: item id, then location id."""
    return level["inventory_item_id"] * 1_000_000_000 + level["location_id"] % 1_000_000_000


def _fields(request: Request) -> tuple[str, ...] | None:
    text = request.arg("fields")
    return tuple(name.strip() for name in text.split(",") if name.strip()) if text else None
