"""The seeded store: determinism, every listed case, exact totals, and generated extra orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from connectors.sandbox.catalog import catalog
from connectors.shopify.sandbox import SEEDED_CASES, seed_state
from engine import jsoncodec


@pytest.fixture(scope="module")
def seeded():
    state = seed_state(7)
    by_case = {key: next(o for o in state.orders.values() if o["name"] == case.name) for key, case in SEEDED_CASES.items()}
    return state, by_case


def amount(money, side="shop_money"):
    return Decimal(money[side]["amount"])


def test_same_seed_gives_the_same_state():
    assert jsoncodec.dumps(seed_state(7).to_json()) == jsoncodec.dumps(seed_state(7).to_json())


def test_other_seed_gives_other_ids():
    first = [o["line_items"][0]["variant_id"] for o in seed_state(7).orders.values()]
    second = [o["line_items"][0]["variant_id"] for o in seed_state(8).orders.values()]

    assert first != second


def test_seed_has_26_named_orders(seeded):
    state, _ = seeded

    assert len(state.orders) == 26
    assert [o["name"] for o in state.orders.values()] == [f"#{n}" for n in range(1001, 1027)]


@pytest.mark.parametrize("side", ["shop_money", "presentment_money"])
def test_every_seeded_order_adds_up_exactly(seeded, side):
    state, _ = seeded
    for order in state.orders.values():
        lines = order["line_items"]
        line_total = sum((amount(l["price_set"], side) * l["quantity"] for l in lines), Decimal(0))
        discounts = sum((amount(a["amount_set"], side) for l in lines for a in l["discount_allocations"]), Decimal(0))
        taxes = sum((amount(t["price_set"], side) for l in lines for t in l["tax_lines"]), Decimal(0))
        shipping = sum((amount(s["price_set"], side) for s in order["shipping_lines"]), Decimal(0))
        subtotal = line_total - discounts
        total = subtotal + shipping + (0 if order["taxes_included"] else taxes)

        assert amount(order["total_line_items_price_set"], side) == line_total, order["name"]
        assert amount(order["total_discounts_set"], side) == discounts, order["name"]
        assert amount(order["subtotal_price_set"], side) == subtotal, order["name"]
        assert amount(order["total_tax_set"], side) == taxes, order["name"]
        assert amount(order["total_shipping_price_set"], side) == shipping, order["name"]
        assert amount(order["total_price_set"], side) == total, order["name"]
        assert sum((amount(t["price_set"], side) for t in order["tax_lines"]), Decimal(0)) == taxes, order["name"]
        if side == "shop_money":
            assert Decimal(order["total_price"]) == total


def test_guest_checkout_has_no_customer(seeded):
    order = seeded[1]["guest_checkout"]

    assert order["customer"] is None
    assert order["email"] == "guest.buyer@example.net"


def test_pos_order_comes_from_the_pop_up(seeded):
    order = seeded[1]["pos_order"]

    assert order["source_name"] == "pos"
    assert order["location_id"] == 65_000_002
    assert order["shipping_address"] is None
    assert order["fulfillment_status"] == "fulfilled"


def test_business_customer_has_a_company(seeded):
    order = seeded[1]["business_customer"]

    assert order["billing_address"]["company"] == "Brightline Studio LLC"


def test_lines_with_several_tax_lines(seeded):
    order = seeded[1]["multi_tax_lines"]

    assert all(len(line["tax_lines"]) == 3 for line in order["line_items"])
    assert len(order["tax_lines"]) == 3


def test_taxes_included_true_and_false_both_occur(seeded):
    state, by_case = seeded

    assert by_case["presentment_eur"]["taxes_included"] is True
    assert by_case["multi_tax_lines"]["taxes_included"] is False


def test_discount_code_has_allocations_on_lines(seeded):
    order = seeded[1]["discount_code_percentage"]

    assert order["discount_codes"] == [{"code": "WELCOME10", "amount": order["total_discounts"], "type": "percentage"}]
    assert all(line["discount_allocations"] for line in order["line_items"])
    assert order["discount_applications"][0]["value_type"] == "percentage"


def test_presentment_currency_differs_from_shop_currency(seeded):
    order = seeded[1]["presentment_eur"]

    assert (order["currency"], order["presentment_currency"]) == ("USD", "EUR")
    assert order["total_price_set"]["shop_money"] == {"amount": order["total_price"], "currency_code": "USD"}
    assert order["total_price_set"]["presentment_money"]["currency_code"] == "EUR"
    assert amount(order["total_price_set"], "presentment_money") != amount(order["total_price_set"])


def test_names_with_non_ascii_characters(seeded):
    order = seeded[1]["presentment_eur"]

    assert order["customer"]["first_name"] == "Zoë"
    assert order["shipping_address"]["address1"] == "Schönhauser Allee 36"
    assert order["line_items"][0]["title"] == "Größe Winter Jacket"


def test_custom_line_item_has_no_product_or_variant(seeded):
    line = seeded[1]["custom_line_item"]["line_items"][0]

    assert (line["product_id"], line["variant_id"], line["sku"]) == (None, None, None)
    assert line["title"] == "Monogram engraving — gold foil"


def test_gift_card_line(seeded):
    line = seeded[1]["gift_card_line"]["line_items"][0]

    assert line["gift_card"] is True
    assert line["taxable"] is False
    assert line["tax_lines"] == []


def test_payment_states_have_matching_transactions(seeded):
    state, by_case = seeded

    def kinds(key):
        return [t["kind"] for t in state.transactions[by_case[key]["id"]]]

    assert (by_case["multi_tax_lines"]["financial_status"], kinds("multi_tax_lines")) == ("paid", ["sale"])
    assert (by_case["guest_checkout"]["financial_status"], kinds("guest_checkout")) == ("pending", [])
    assert (by_case["partially_paid"]["financial_status"], kinds("partially_paid")) == ("partially_paid", ["sale"])
    assert (by_case["partially_refunded"]["financial_status"], kinds("partially_refunded")) == ("partially_refunded", ["sale", "refund"])
    assert (by_case["authorized"]["financial_status"], kinds("authorized")) == ("authorized", ["authorization"])
    assert (by_case["cancelled"]["financial_status"], kinds("cancelled")) == ("voided", ["authorization", "void"])


def test_partially_refunded_order_lowers_current_totals(seeded):
    order = seeded[1]["partially_refunded"]

    assert Decimal(order["current_total_price"]) == Decimal(order["total_price"]) - Decimal("95.91")
    assert order["line_items"][0]["current_quantity"] == 1
    assert len(order["refunds"]) == 1


def test_unknown_and_erp_only_skus(seeded):
    known = {entry.sku: entry for entry in catalog(7)}
    unknown = seeded[1]["unknown_sku"]["line_items"][0]["sku"]
    erp_only = [line["sku"] for line in seeded[1]["erp_only_skus"]["line_items"]]

    assert known[unknown].in_erp is False
    assert all(known[sku].in_erp and not known[sku].in_lookup for sku in erp_only)


def test_address_update_moves_updated_at(seeded):
    order = seeded[1]["address_updated"]

    assert order["shipping_address"]["address1"] == "310 West 86th Street"
    assert datetime.fromisoformat(order["updated_at"]) > datetime.fromisoformat(order["created_at"])


def test_repeat_customers_have_several_orders(seeded):
    state, _ = seeded
    counts = {}
    for order in state.orders.values():
        if order["customer"]:
            counts[order["customer"]["id"]] = counts.get(order["customer"]["id"], 0) + 1

    assert max(counts.values()) >= 3
    assert sum(1 for count in counts.values() if count > 1) >= 4


def test_two_orders_share_an_updated_at(seeded):
    _, by_case = seeded

    assert by_case["updated_at_tie_a"]["updated_at"] == by_case["updated_at_tie_b"]["updated_at"]
    assert by_case["updated_at_tie_a"]["id"] < by_case["updated_at_tie_b"]["id"]


def test_times_carry_the_shop_offset(seeded):
    _, by_case = seeded

    assert by_case["partially_fulfilled"]["created_at"] == "2026-11-02T09:15:00-05:00"
    assert by_case["multi_tax_lines"]["created_at"] == "2026-10-05T09:15:00-04:00"


def test_extra_orders_have_the_documented_shape():
    state = seed_state(7, extra_orders=10_000)

    extra = [o for o in state.orders.values() if o["order_number"] > 1026]
    line_counts = [len(o["line_items"]) for o in extra]
    customers = [o["customer"]["id"] for o in extra]
    assert len(extra) == 10_000
    assert min(line_counts) >= 1
    assert max(line_counts) <= 50
    assert 2.6 < sum(line_counts) / len(line_counts) < 3.4
    returning = len(customers) - len(set(customers))
    assert 0.2 < returning / len(customers) < 0.4
    assert all(o["created_at"] < "2026-10" for o in extra)


def test_extra_orders_are_deterministic():
    first = seed_state(7, extra_orders=300).to_json()
    second = seed_state(7, extra_orders=300).to_json()

    assert jsoncodec.dumps(first) == jsoncodec.dumps(second)
