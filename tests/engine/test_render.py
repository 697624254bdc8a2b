from decimal import Decimal

import jinja2
import pytest

from engine.errors import RenderError
from engine.lookup import LookupTable, LookupTables
from engine.render import Limits, Renderer

ORDER = {
    "id": 1001,
    "sku": "02139",
    "customer": None,
    "taxes_included": False,
    "line_items": [
        {"quantity": 2, "price": "19.99", "tax_lines": [{"price": "1.10"}, {"price": "0.20"}]},
        {"quantity": 1, "price": "5.00", "tax_lines": []},
    ],
}


def render(source, context=None, renderer=None):
    renderer = renderer or Renderer()
    return renderer.compile(source).render(context if context is not None else {"trigger": ORDER})


def test_single_expression_keeps_native_int():
    assert render("{{ trigger.line_items[0].quantity }}") == 2


def test_single_expression_keeps_none_and_bool():
    assert render("{{ trigger.customer }}") is None
    assert render("{{ trigger.taxes_included }}") is False


def test_numeric_looking_text_stays_text():
    assert render("{{ trigger.sku }}") == "02139"


def test_mixed_template_gives_text():
    assert render("Order {{ trigger.id }}") == "Order 1001"


def test_decimal_filter_and_exact_sum():
    assert render("{{ '1.10' | decimal + '0.20' | decimal }}") == Decimal("1.30")
    assert render("{{ trigger.line_items[0].tax_lines | sum_decimal('price') }}") == Decimal("1.30")


def test_sum_decimal_of_empty_list_is_zero():
    assert render("{{ trigger.line_items[1].tax_lines | sum_decimal('price') }}") == Decimal("0")


def test_decimal_filter_rejects_text():
    with pytest.raises(RenderError, match=r"cannot read 'abc' as a decimal number"):
        render("{{ 'abc' | decimal }}")


def test_round_half_up():
    assert render("{{ '2.345' | round_half_up(2) }}") == Decimal("2.35")
    assert render("{{ '-2.345' | round_half_up(2) }}") == Decimal("-2.35")
    assert render("{{ '2.5' | round_half_up(0) }}") == Decimal("3")


def test_datetime_filters_convert_zones():
    assert render("{{ '2026-11-02T09:15:00-05:00' | sf_datetime }}") == "2026-11-02T14:15:00.000Z"
    assert render("{{ '2026-11-02T23:15:00-05:00' | sf_date }}") == "2026-11-02"
    assert render("{{ '2026-11-02T23:15:00-05:00' | sf_date('UTC') }}") == "2026-11-03"
    assert render("{{ ('2026-11-02T09:15:00-05:00' | to_zone('Europe/Berlin')).isoformat() }}") == "2026-11-02T15:15:00+01:00"


def test_datetime_without_zone_is_rejected():
    with pytest.raises(RenderError, match=r"has no time zone; pass one"):
        render("{{ '2026-11-02T09:15:00' | to_datetime }}")


def test_truncate_to_field_length():
    assert render("{{ 'Größe Winter Jacket' | truncate_to(5) }}") == "Größe"


def test_default_fills_missing_customer():
    assert render("{{ trigger.customer.first_name | default('Guest') }}") == "Guest"


def test_missing_pill_names_path():
    with pytest.raises(RenderError) as error:
        render("{{ trigger.customer.first_name }}")
    assert str(error.value) == "missing data pill 'trigger.customer.first_name' ('None' has no attribute 'first_name')"


def test_missing_key_names_path():
    with pytest.raises(RenderError) as error:
        render("{{ trigger.shipping_address.city }}")
    assert str(error.value) == "missing data pill 'trigger.shipping_address' ('dict object' has no attribute 'shipping_address')"


def test_lookup_function_and_filter():
    tables = LookupTables({"items": LookupTable("items", {"42": "ITEM-1"})})
    renderer = Renderer(tables)
    assert render("{{ 42 | lookup('items') }}", {}, renderer) == "ITEM-1"
    assert render("{{ lookup('items', '42') }}", {}, renderer) == "ITEM-1"
    assert render("{{ lookup('items', 7, none) }}", {}, renderer) is None
    with pytest.raises(RenderError, match=r"key '7' not found in lookup table 'items'"):
        render("{{ lookup('items', 7) }}", {}, renderer)


def test_event_data_is_never_rendered_as_template():
    context = {"trigger": {"note": "{{ 7 * 7 }}"}}
    assert render("{{ trigger.note }}", context) == "{{ 7 * 7 }}"
    assert render("Note: {{ trigger.note }}", context) == "Note: {{ 7 * 7 }}"


def test_sandbox_blocks_private_attributes():
    with pytest.raises(RenderError, match=r"__class__"):
        render("{{ trigger.__class__ }}")


def test_nested_loops_hit_iteration_limit():
    renderer = Renderer(limits=Limits(max_iterations=1000))
    with pytest.raises(RenderError, match=r"more than 1000 loop iterations"):
        render("{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}", {}, renderer)


def test_huge_string_hits_output_limit():
    renderer = Renderer(limits=Limits(max_output=1000))
    with pytest.raises(RenderError, match=r"longer than 1000 characters"):
        render("{{ 'a' * 5000 }}", {}, renderer)
    with pytest.raises(RenderError, match=r"rendered more than 1000 characters"):
        render("{% for i in range(900) %}ab{% endfor %}", {}, renderer)


def test_templates_are_compiled_once():
    renderer = Renderer()
    first = renderer.compile("{{ trigger.id }}")
    assert renderer.compile("{{ trigger.id }}") is first


def test_syntax_error_raises_at_compile():
    with pytest.raises(jinja2.TemplateSyntaxError):
        Renderer().compile("{{ trigger.id ")


def test_mapping_renders_leaf_by_leaf_and_names_failing_leaf():
    renderer = Renderer()
    mapping = renderer.compile_mapping({"record": {"Quantity": "{{ trigger.line_items[0].quantity }}", "Fixed": 3, "Tags": ["a", "{{ trigger.id }}"]}})
    assert mapping.render({"trigger": ORDER}) == {"record": {"Quantity": 2, "Fixed": 3, "Tags": ["a", 1001]}}

    broken = renderer.compile_mapping({"record": {"City": "{{ trigger.customer.city }}"}})
    with pytest.raises(RenderError, match=r"^input\.record\.City: missing data pill 'trigger\.customer\.city'"):
        broken.render({"trigger": ORDER})


def test_index_by_maps_field_to_item():
    records = {"records": [{"sku": "A", "Id": "1"}, {"sku": 7, "Id": "2"}]}

    assert render("{{ (found.records | index_by('sku'))['7'].Id }}", {"found": records}) == "2"
    assert render("{{ none | index_by('sku') }}", {}) == {}


def test_mapping_leaves_do_not_see_each_others_results():
    # Expression leaves share one Jinja context, in which each sets `result`; a step named
    # `result` must still be what every leaf reads.
    mapping = Renderer().compile_mapping({"first": "{{ 1 + 1 }}", "second": "{{ result }}", "third": ["{{ result.upper() }}", "{{ 3 }}"]})

    rendered = mapping.render({"result": "step output"})

    assert rendered == {"first": 2, "second": "step output", "third": ["STEP OUTPUT", 3]}


def test_mapping_leaf_that_fails_leaves_the_next_leaf_unaffected():
    renderer = Renderer()
    mapping = renderer.compile_mapping({"bad": "{{ order.missing_field }}"})
    good = renderer.compile_mapping({"name": "{{ order.name }}"})

    with pytest.raises(RenderError) as caught:
        mapping.render({"order": {"name": "#1001"}})

    assert str(caught.value).startswith("input.bad: missing data pill 'order.missing_field'")
    assert good.render({"order": {"name": "#1001"}}) == {"name": "#1001"}
