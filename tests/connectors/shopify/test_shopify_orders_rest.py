"""REST orders: listing, filters, sorting, cursor pagination, fields, count, one order, transactions."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import parse_qs, urlsplit

OPEN_NAMES_NEWEST_FIRST = [f"#{number}" for number in range(1026, 1000, -1) if number not in (1017, 1018)]
PAGE_INFO_HELP = "See https://shopify.dev/api/usage/pagination-rest for more information."


def links(response):
    """Return {rel: url} from a Link header."""
    header = response.headers.get("Link")
    if not header:
        return {}
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', header)}


def names(response):
    return [order["name"] for order in response.json()["orders"]]


def test_orders_default_to_open_newest_first(client):
    response = client.get("orders.json")

    assert response.status_code == 200
    assert names(response) == OPEN_NAMES_NEWEST_FIRST
    assert "Link" not in response.headers


def test_orders_pages_follow_link_header_to_the_end(client):
    seen = []
    response = client.get("orders.json", limit=5)
    pages = 1
    while True:
        assert response.status_code == 200
        seen.extend(names(response))
        next_url = links(response).get("next")
        if next_url is None:
            break
        response = client.session.get(next_url)
        pages += 1

    assert pages == 5
    assert seen == OPEN_NAMES_NEWEST_FIRST


def test_orders_first_page_links_next_only(client):
    response = client.get("orders.json", limit=5)

    assert set(links(response)) == {"next"}
    next_query = parse_qs(urlsplit(links(response)["next"]).query)
    assert next_query["limit"] == ["5"]
    assert set(next_query) == {"limit", "page_info"}


def test_orders_previous_link_returns_the_page_before(client):
    first = client.get("orders.json", limit=5)
    second = client.session.get(links(first)["next"])

    assert set(links(second)) == {"previous", "next"}
    back = client.session.get(links(second)["previous"])
    assert names(back) == names(first)
    assert set(links(back)) == {"next"}


def test_orders_page_info_is_base64_json(client):
    response = client.get("orders.json", limit=5)
    token = parse_qs(urlsplit(links(response)["next"]).query)["page_info"][0]

    payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert payload["direction"] == "next"
    assert payload["last_id"] == response.json()["orders"][-1]["id"]


def test_orders_page_info_with_status_is_rejected(client):
    first = client.get("orders.json", limit=5)
    token = parse_qs(urlsplit(links(first)["next"]).query)["page_info"][0]

    response = client.get("orders.json", limit=5, page_info=token, status="any")

    assert response.status_code == 400
    assert response.json() == {"errors": {"status": f"status cannot be passed when page_info is present. {PAGE_INFO_HELP}"}}


def test_orders_page_info_with_updated_at_min_rejected(client):
    first = client.get("orders.json", limit=5)
    token = parse_qs(urlsplit(links(first)["next"]).query)["page_info"][0]

    response = client.get("orders.json", page_info=token, updated_at_min="2026-10-01T00:00:00-04:00")

    assert response.status_code == 400
    assert response.json() == {"errors": {"updated_at_min": f"updated_at_min cannot be passed when page_info is present. {PAGE_INFO_HELP}"}}


def test_orders_page_info_keeps_the_first_request_filters(client):
    first = client.get("orders.json", limit=2, status="any", financial_status="pending")
    second = client.session.get(links(first)["next"])

    assert names(first) == ["#1026", "#1022"]
    assert names(second) == ["#1002"]
    assert links(second).keys() == {"previous"}


def test_orders_page_info_with_fields_is_allowed(client):
    first = client.get("orders.json", limit=5)
    token = parse_qs(urlsplit(links(first)["next"]).query)["page_info"][0]

    response = client.get("orders.json", limit=3, page_info=token, fields="id,name")

    assert response.status_code == 200
    assert names(response) == ["#1021", "#1020", "#1019"]
    assert all(set(order) == {"id", "name"} for order in response.json()["orders"])
    assert "fields=id,name" in links(response)["next"]


def test_orders_garbled_page_info_is_rejected(client):
    response = client.get("orders.json", page_info="not-a-cursor")

    assert response.status_code == 400
    assert response.json() == {"errors": {"page_info": "Invalid value."}}


def test_orders_limit_above_250_is_rejected(client):
    response = client.get("orders.json", limit=251)

    assert response.status_code == 400
    assert response.json() == {"errors": "Limit exceeds maximum limit of 250"}


def test_orders_limit_of_250_is_accepted(client):
    response = client.get("orders.json", limit=250, status="any")

    assert response.status_code == 200
    assert len(response.json()["orders"]) == 26


def test_orders_fields_selects_top_level_keys(client):
    response = client.get("orders.json", fields="id,name,updated_at", limit=2)

    orders = response.json()["orders"]
    assert [set(order) for order in orders] == [{"id", "name", "updated_at"}] * 2


def test_orders_page_boundary_splits_updated_at_tie(client):
    first = client.get("orders.json", status="any", order="updated_at asc", limit=14)
    second = client.session.get(links(first)["next"])

    first_orders = first.json()["orders"]
    second_orders = second.json()["orders"]
    assert first_orders[-1]["name"] == "#1014"
    assert second_orders[0]["name"] == "#1015"
    assert first_orders[-1]["updated_at"] == second_orders[0]["updated_at"] == "2026-10-28T12:00:00-04:00"
    all_names = [order["name"] for order in first_orders + second_orders]
    assert sorted(all_names) == [f"#{number}" for number in range(1001, 1027)]


def test_orders_updated_at_asc_sorts_by_time_then_id(client):
    response = client.get("orders.json", status="any", order="updated_at asc", limit=250)

    orders = response.json()["orders"]
    from datetime import datetime

    keys = [(datetime.fromisoformat(order["updated_at"]), order["id"]) for order in orders]
    assert keys == sorted(keys)
    assert names(response)[:3] == ["#1001", "#1002", "#1003"]
    assert names(response)[-1] == "#1026"


def test_orders_created_at_ascending_puts_oldest_first(client):
    response = client.get("orders.json", order="created_at asc", limit=3)

    assert names(response) == ["#1001", "#1002", "#1003"]


def test_orders_invalid_sort_order_is_rejected(client):
    response = client.get("orders.json", order="total_price asc")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["order"]


def test_orders_updated_at_min_is_inclusive(client):
    response = client.get("orders.json", status="any", order="updated_at asc", updated_at_min="2026-10-28T12:00:00-04:00", limit=3)

    assert names(response) == ["#1014", "#1015", "#1016"]


def test_orders_created_at_min_filters_older_orders(client):
    response = client.get("orders.json", created_at_min="2026-11-05T00:00:00-05:00")

    assert names(response) == ["#1026", "#1025", "#1024", "#1023", "#1022"]


def test_orders_since_id_returns_later_ids_ascending(client, order_id):
    response = client.get("orders.json", since_id=order_id("#1020"))

    assert names(response) == ["#1021", "#1022", "#1023", "#1024", "#1025", "#1026"]


def test_orders_status_filters(client):
    assert names(client.get("orders.json", status="cancelled")) == ["#1017"]
    assert names(client.get("orders.json", status="closed")) == ["#1018", "#1017"]
    assert len(names(client.get("orders.json", status="any"))) == 26


def test_orders_financial_status_filters(client):
    assert names(client.get("orders.json", financial_status="partially_paid")) == ["#1009"]
    assert names(client.get("orders.json", financial_status="partially_refunded")) == ["#1010"]
    assert names(client.get("orders.json", financial_status="authorized")) == ["#1016"]
    assert names(client.get("orders.json", financial_status="unpaid")) == ["#1026", "#1022", "#1016", "#1009", "#1002"]


def test_orders_invalid_status_is_rejected(client):
    response = client.get("orders.json", status="archived")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["status"]


def test_orders_count_follows_filters(client):
    assert client.get("orders/count.json").json() == {"count": 24}
    assert client.get("orders/count.json", status="any").json() == {"count": 26}
    assert client.get("orders/count.json", status="any", financial_status="paid").json() == {"count": 19}
    assert client.get("orders/count.json", status="any", financial_status="pending").json() == {"count": 3}


def test_order_by_id_has_the_rest_shape(client, order_id):
    response = client.get(f"orders/{order_id('#1001')}.json")

    assert response.status_code == 200
    order = response.json()["order"]
    assert order["id"] == order_id("#1001")
    assert order["admin_graphql_api_id"] == f"gid://shopify/Order/{order['id']}"
    assert order["name"] == "#1001"
    assert order["order_number"] == 1001
    assert order["email"] == "ava.thompson@example.com"
    assert order["created_at"] == "2026-10-05T09:15:00-04:00"
    assert order["processed_at"] == "2026-10-05T09:15:00-04:00"
    assert order["currency"] == "USD"
    assert order["presentment_currency"] == "USD"
    assert order["financial_status"] == "paid"
    assert order["fulfillment_status"] is None
    assert order["source_name"] == "web"
    assert order["taxes_included"] is False
    assert order["customer"]["first_name"] == "Ava"
    assert order["shipping_address"]["city"] == "Brooklyn"
    assert order["shipping_address"]["country_code"] == "US"
    assert order["shipping_lines"][0]["title"] == "Standard Shipping"


def test_order_line_items_have_prices_taxes_and_ids(client, order_id):
    order = client.get(f"orders/{order_id('#1001')}.json").json()["order"]

    tee = order["line_items"][0]
    assert tee["sku"] == "SKU-001-M"
    assert tee["title"] == "Classic Tee"
    assert tee["variant_title"] == "M"
    assert tee["name"] == "Classic Tee - M"
    assert tee["quantity"] == 2
    assert tee["price"] == "19.99"
    assert tee["price_set"] == {
        "shop_money": {"amount": "19.99", "currency_code": "USD"},
        "presentment_money": {"amount": "19.99", "currency_code": "USD"},
    }
    assert tee["taxable"] is True
    assert tee["gift_card"] is False
    assert tee["requires_shipping"] is True
    assert tee["fulfillable_quantity"] == 2
    assert tee["discount_allocations"] == []
    assert [tax["title"] for tax in tee["tax_lines"]] == ["New York State Tax", "New York City Tax", "Metropolitan Commuter Transportation District"]
    assert [tax["price"] for tax in tee["tax_lines"]] == ["1.60", "1.80", "0.15"]
    assert tee["tax_lines"][1]["rate"] == 0.045


def test_order_fields_parameter_on_one_order(client, order_id):
    response = client.get(f"orders/{order_id('#1001')}.json", fields="id,total_price")

    assert response.json() == {"order": {"id": order_id("#1001"), "total_price": "63.09"}}


def test_order_transactions_of_a_refunded_order(client, order_id):
    response = client.get(f"orders/{order_id('#1010')}/transactions.json")

    assert response.status_code == 200
    transactions = response.json()["transactions"]
    assert [(t["kind"], t["status"], t["amount"], t["currency"]) for t in transactions] == [
        ("sale", "success", "240.41", "USD"),
        ("refund", "success", "95.91", "USD"),
    ]
    assert transactions[1]["parent_id"] == transactions[0]["id"]
    assert transactions[0]["order_id"] == order_id("#1010")


def test_order_transactions_of_unknown_order_are_not_found(client):
    response = client.get("orders/42/transactions.json")

    assert response.status_code == 404
    assert response.json() == {"errors": "Not Found"}


def test_order_refunds_list_the_refunded_line(client, order_id):
    refunds = client.get(f"orders/{order_id('#1010')}/refunds.json").json()["refunds"]

    assert len(refunds) == 1
    line = refunds[0]["refund_line_items"][0]
    assert (line["quantity"], line["subtotal"], line["total_tax"]) == (1, "89.95", "5.96")
